"""Files and folders written whole or not at all, with the permissions the user's umask gives.

A file is written to a hidden temporary file beside its target, flushed, then renamed onto
it. A folder (one film's results) is built aside and swapped in with one rename, so a
reader (or a rerun after a kill) only ever sees the old folder or the new one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_UMASK: int | None = None
TEMP_MARK = ".shotscope-tmp"  # in the names of folders being built (left behind only by a kill)
OLD_MARK = ".shotscope-old"  # in the names of replaced folders not yet removed


def cache_dir() -> Path:
    """The user's shotscope cache: ``$SHOTSCOPE_CACHE``, else ``~/.cache/shotscope`` (the demo's
    model, thumbnails of read-only archives)."""
    return Path(os.environ.get("SHOTSCOPE_CACHE") or Path.home() / ".cache" / "shotscope")


def ensure_dir(path: str | os.PathLike, what: str = "folder", probe: bool = False) -> Path:
    """Create the folder ``path`` if needed (and with ``probe``, prove a file can be made in it);
    a file in its place, or a folder that cannot be made or written, is a DataError saying so."""
    from .errors import DataError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DataError(f"{what} {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        if probe:
            test = path / f".shotscope-probe-{os.getpid()}"
            test.write_bytes(b"")
            test.unlink()
    except OSError as exc:
        raise DataError(f"{what} {path}: cannot write here ({exc.strerror or exc})") from None
    return path


def umask() -> int:
    """The process umask (read once: reading it means setting it)."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


def _fix_mode(path: Path, directory: bool = False) -> None:
    """``mkstemp``/``mkdtemp`` make private files (0600/0700); give the mode any other program would."""
    os.chmod(path, (0o777 if directory else 0o666) & ~umask())


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """A hidden temporary path beside ``path`` to write to; renamed onto ``path`` when the block
    ends without an error, removed otherwise. (Writers that pick a format by the file name pass
    ``suffix=path.suffix``.)"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        _fix_mode(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _renameat2_exchange():
    """Linux's atomic exchange of two paths (renameat2 with RENAME_EXCHANGE), or None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2

    def exchange(a: Path, b: Path) -> bool:
        if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
            return True
        err = ctypes.get_errno()
        if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            return False  # not on this kernel or file system: the caller falls back
        raise OSError(err, os.strerror(err), str(b))

    return exchange


_EXCHANGE = _renameat2_exchange()


def new_temp_dir(target: Path) -> Path:
    """An empty folder beside ``target`` to build its new content in (mode as the umask says)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name[:100]}{TEMP_MARK}-"))
    _fix_mode(tmp, directory=True)
    return tmp


def swap_in_dir(built: Path, target: Path) -> None:
    """Make ``built`` (a finished folder beside ``target``) the new ``target`` in one step.

    With an old ``target`` present the two are exchanged atomically (Linux ``renameat2``),
    then the old one is removed; where the kernel lacks that, the old folder is first renamed
    aside (``recover_dir`` puts it back if a kill falls between the two renames)."""
    fsync_dir(built)
    if not target.exists():
        os.rename(built, target)
    elif _EXCHANGE is not None and _EXCHANGE(built, target):
        shutil.rmtree(built, ignore_errors=True)  # ``built`` now holds the old content
    else:
        old = target.parent / f".{target.name[:100]}{OLD_MARK}"
        shutil.rmtree(old, ignore_errors=True)
        os.rename(target, old)
        os.rename(built, target)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(target.parent)


def recover_dir(target: Path) -> None:
    """After a kill: put back an old folder that was renamed aside but not replaced, and remove
    folders that were being built. Safe to call at any time no other process writes ``target``."""
    parent, name = target.parent, target.name[:100]
    old = parent / f".{name}{OLD_MARK}"
    if old.is_dir():
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(old, target)
    prefix = f".{name}{TEMP_MARK}-"
    for leftover in parent.iterdir() if parent.is_dir() else []:
        if leftover.name.startswith(prefix):
            shutil.rmtree(leftover, ignore_errors=True)


def read_text_any_encoding(path: Path) -> str:
    """Text of a file in UTF-8 (with or without a BOM), UTF-16/32 with a BOM, else Windows-1252
    (which also reads Latin-1): the encodings spreadsheets and editors write."""
    from .errors import DataError

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                          (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DataError(f"{path}: starts with a {encoding} byte-order mark but is not {encoding} ({exc})") from None
    if b"\x00" in raw[:4096]:
        raise DataError(f"{path}: a binary file, not a text manifest")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")
