"""A frame cache: each clip decoded once into uint8 frames (short side ``short_side``) in a .npy file.

Training reads the cache when it holds a clip; ``shotscope prepare`` fills it (resumable:
clips already cached are skipped; each file is written to a temp name, then renamed).
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..errors import VideoDecodeError
from ..files import atomic_write_bytes
from ..preprocessing import resize, shortest_edge_size, to_chw
from ..sampling import sample_frames
from .records import ClipRecord


def cache_key(record: ClipRecord) -> str:
    ident = f"{os.path.abspath(record.path)}|{record.start}|{record.end}"
    return hashlib.sha1(ident.encode()).hexdigest()[:20]


def cache_path(cache_dir: str | os.PathLike, record: ClipRecord) -> Path:
    return Path(cache_dir) / f"{cache_key(record)}.npy"


def decode_for_cache(record: ClipRecord, short_side: int, max_frames: int) -> np.ndarray:
    """Up to ``max_frames`` frames spread over the clip, short side resized to ``short_side``."""
    clip = sample_frames(record.path, max_frames, record.start, record.end)
    idx = np.unique(clip.indices[0], return_index=True)[1]  # drop repeats of short clips
    frames = to_chw(clip.frames[0][np.sort(idx)])
    h, w = frames.shape[-2:]
    nh, nw = shortest_edge_size(h, w, short_side)
    return resize(frames, nh, nw).permute(0, 2, 3, 1).contiguous().numpy()


def prepare(records: list[ClipRecord], cache_dir: str | os.PathLike, short_side: int = 256,
            max_frames: int = 64, progress: bool = True) -> tuple[int, list[str]]:
    """Fill the cache; returns (clips now cached, errors as 'path: reason')."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    errors, done = [], 0
    for record in tqdm(records, desc="prepare", unit="clip", disable=not progress):
        target = cache_path(cache_dir, record)
        if target.is_file():
            done += 1
            continue
        try:
            frames = decode_for_cache(record, short_side, max_frames)
        except VideoDecodeError as exc:
            errors.append(str(exc))
            continue
        buf = io.BytesIO()
        np.save(buf, frames)
        atomic_write_bytes(target, buf.getvalue())
        done += 1
    return done, errors


def load_cached(cache_dir: str | os.PathLike | None, record: ClipRecord) -> np.ndarray | None:
    if cache_dir is None:
        return None
    path = cache_path(cache_dir, record)
    if not path.is_file():
        return None
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        warnings.warn(f"{path}: unreadable cache entry ({exc}); decoding the clip instead", stacklevel=2)
        return None


def pick(frames: np.ndarray, num_frames: int, rng: np.random.Generator | None) -> torch.Tensor:
    """``num_frames`` uniformly over cached frames (with a random offset when training)."""
    n = len(frames)
    offset = rng.uniform(0, 1) if rng is not None else 0.5
    idx = np.minimum(np.floor((np.arange(num_frames) + offset) * n / num_frames).astype(int), n - 1)
    return torch.from_numpy(np.ascontiguousarray(frames[idx]))
