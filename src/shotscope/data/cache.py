"""A frame cache: each clip decoded once into uint8 frames (short side ``short_side``) in a .npy file.

Training reads the cache when it holds a clip; ``shotscope prepare`` fills it (resumable:
clips already cached are skipped; each file is written to a temp name, then renamed).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..errors import DataError, ShotscopeError, ShotscopeWarning, describe_failure
from ..files import atomic_write_bytes, atomic_write_text, ensure_dir
from ..model.preprocessing import resize, shortest_edge_size, to_chw
from ..video.sampling import sample_frames
from .records import ClipRecord


def cache_key(record: ClipRecord) -> str:
    """The clip's path, range, size and modification time: a replaced clip is decoded again."""
    try:
        st = os.stat(record.path)
        stamp = f"{st.st_size}|{st.st_mtime_ns}"
    except OSError:
        stamp = "missing"
    ident = f"{os.path.abspath(record.path)}|{record.start}|{record.end}|{stamp}"
    return hashlib.sha1(ident.encode()).hexdigest()[:20]


def cache_path(cache_dir: str | os.PathLike, record: ClipRecord) -> Path:
    return Path(cache_dir) / f"{cache_key(record)}.npy"


CACHE_SETTINGS_FILE = "cache.json"


def decode_for_cache(record: ClipRecord, short_side: int, max_frames: int) -> np.ndarray:
    """Up to ``max_frames`` frames spread over the clip, short side reduced to ``short_side``
    (never enlarged: a small clip is kept at its own size)."""
    clip = sample_frames(record.path, max_frames, record.start, record.end)
    idx = np.unique(clip.indices[0], return_index=True)[1]  # drop repeats of short clips
    frames = clip.frames[0][np.sort(idx)]
    h, w = frames.shape[1:3]
    if min(h, w) <= short_side:
        return np.ascontiguousarray(frames)
    nh, nw = shortest_edge_size(h, w, short_side)
    return resize(to_chw(frames), nh, nw).permute(0, 2, 3, 1).contiguous().numpy()


def check_cache_settings(cache_dir: Path, settings: dict, rebuild: bool = False) -> None:
    """A cache holds frames made one way: refuse to mix in other settings (``rebuild`` empties it)."""
    path = cache_dir / CACHE_SETTINGS_FILE
    try:
        stored = json.loads(path.read_text())
    except FileNotFoundError:
        stored = None
    except (OSError, ValueError):
        stored = {}
    if stored is not None and stored != settings:
        if not rebuild:
            raise DataError(
                f"{cache_dir}: this frame cache was made with {stored or 'unknown settings'}, not {settings}; "
                "use another --cache-dir, or --rebuild to empty it and start again")
        for entry in cache_dir.glob("*.npy"):
            entry.unlink()
    if stored != settings:
        atomic_write_text(path, json.dumps(settings))


def prepare(records: list[ClipRecord], cache_dir: str | os.PathLike, short_side: int = 256,
            max_frames: int = 64, progress: bool | None = None, rebuild: bool = False) -> tuple[int, list[str]]:
    """Fill the cache; returns (clips now cached, errors as 'path: reason'). Clips already cached
    with the same settings are kept (an interrupted run resumes)."""
    if short_side < 8 or max_frames < 1:
        raise DataError(f"short side must be >= 8 and max frames >= 1 (got {short_side}, {max_frames})")
    cache_dir = ensure_dir(cache_dir, "frame cache", probe=True)
    check_cache_settings(cache_dir, {"short_side": short_side, "max_frames": max_frames}, rebuild)
    errors, done = [], 0
    for record in tqdm(records, desc="prepare", unit="clip", disable=None if progress is None else not progress):
        target = cache_path(cache_dir, record)
        if target.is_file():
            done += 1
            continue
        try:
            frames = decode_for_cache(record, short_side, max_frames)
        except (ShotscopeError, ValueError) as exc:
            errors.append(describe_failure(exc, record.path))
            continue
        buf = io.BytesIO()
        np.save(buf, frames)
        atomic_write_bytes(target, buf.getvalue())
        done += 1
    return done, errors


def cache_size(cache_dir: str | os.PathLike) -> int:
    """Bytes the cache's frame files take."""
    return sum(p.stat().st_size for p in Path(cache_dir).glob("*.npy"))


def load_cached(cache_dir: str | os.PathLike | None, record: ClipRecord) -> np.ndarray | None:
    if cache_dir is None:
        return None
    path = cache_path(cache_dir, record)
    if not path.is_file():
        return None
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        warnings.warn(f"{path}: unreadable cache entry ({exc}); decoding the clip instead", ShotscopeWarning,
                      stacklevel=2)
        return None


def pick(frames: np.ndarray, num_frames: int, rng: np.random.Generator | None) -> torch.Tensor:
    """``num_frames`` uniformly over cached frames (with a random offset when training)."""
    n = len(frames)
    offset = rng.uniform(0, 1) if rng is not None else 0.5
    idx = np.minimum(np.floor((np.arange(num_frames) + offset) * n / num_frames).astype(int), n - 1)
    return torch.from_numpy(np.ascontiguousarray(frames[idx]))
