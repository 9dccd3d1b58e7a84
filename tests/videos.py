"""Generated test videos: frames that carry their own index, and broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shotscope.video import write_video

BITS = 10
BAR = 16


def index_frame(i: int, height: int = 48) -> np.ndarray:
    """A frame showing ``i`` as BITS black/white bars (survives lossy coding)."""
    frame = np.zeros((height, BITS * BAR, 3), np.uint8)
    for b in range(BITS):
        if (i >> b) & 1:
            frame[:, b * BAR : (b + 1) * BAR] = 255
    return frame


def read_index(frame: np.ndarray) -> int:
    bars = frame.reshape(frame.shape[0], BITS, -1, 3).mean(axis=(0, 2, 3))
    return int(sum(1 << b for b in range(BITS) if bars[b] > 127))


def index_video(path: Path, count: int, fps: float = 25.0, **kw) -> Path:
    return write_video(path, (index_frame(i) for i in range(count)), fps=fps, **kw)
