"""Real faults for tests: a tiny file system that fills up, a read-only one, damaged films."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import av


def _mount(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True)
    return done.returncode == 0


@contextlib.contextmanager
def _tmpfs(target: Path, options: str, code: int) -> Iterator[Path]:
    """A tmpfs mounted at ``target`` with ``options`` (root can mount), else writes below it fail
    with an injected ``code``."""
    if _mount(target, options):
        try:
            yield target
        finally:
            subprocess.run(["umount", "-l", str(target)], capture_output=True)
        return
    with injected_oserror(target, code):
        yield target


def small_disk(target: Path, size: str = "256k"):
    """A real file system of ``size``: writes past it fail with ENOSPC."""
    return _tmpfs(target, f"size={size},mode=0777", errno.ENOSPC)


def read_only_dir(target: Path):
    """A read-only file system (even root cannot write): writes fail with EROFS."""
    return _tmpfs(target, "ro,size=64k", errno.EROFS)


@contextlib.contextmanager
def injected_oserror(root: Path, code: int) -> Iterator[None]:
    """Opening a file for writing, or making a folder, below ``root`` fails with ``code``."""
    import builtins
    import tempfile

    real_open, real_mkstemp, real_mkdir = builtins.open, tempfile.mkstemp, os.mkdir
    root = str(root)

    def below(path) -> bool:
        return str(os.path.abspath(os.fspath(path))).startswith(root)

    def fake_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+") and below(file):
            raise OSError(code, os.strerror(code), str(file))
        return real_open(file, mode, *args, **kwargs)

    def fake_mkstemp(*args, dir=None, **kwargs):
        if dir is not None and below(dir):
            raise OSError(code, os.strerror(code), str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if below(path):
            raise OSError(code, os.strerror(code), str(path))
        return real_mkdir(path, *args, **kwargs)

    builtins.open, tempfile.mkstemp, os.mkdir = fake_open, fake_mkstemp, fake_mkdir
    try:
        yield
    finally:
        builtins.open, tempfile.mkstemp, os.mkdir = real_open, real_mkstemp, real_mkdir


def faststart_copy(src: Path, dst: Path) -> Path:
    """The same film with its index (moov) at the front, as web encoders write it."""
    with av.open(str(src)) as i, av.open(str(dst), "w", options={"movflags": "faststart"}) as o:
        stream = o.add_stream_from_template(i.streams.video[0])
        for packet in i.demux(i.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            o.mux(packet)
    return dst


def cut_short(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def damage_middle(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 400] = b"\x00\x00\x01" + b"\xff" * 397
    dst.write_bytes(bytes(data))
    return dst
