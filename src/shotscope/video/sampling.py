"""Choose and decode the frames a model sees: N uniform positions per view over a clip or a time range.

Positions are times: view ``v`` of ``V`` takes ``t_i = start + (i + (v+1)/(V+1)) * (end-start) / N``
and the frame shown at ``t_i`` (the last frame whose presentation time is <= ``t_i``). On a
constant-frame-rate clip of L frames and one view that is frame ``floor((i + 0.5) * L / N)``;
on a variable-frame-rate file it is the frame that belongs to the time. Frames are decoded in
order and only the chosen ones are converted to RGB.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import VideoDecodeError
from .decode import DecodedFrame, VideoBackend, open_video


@dataclass
class SampledClip:
    """Frames (views, N, H, W, 3) uint8 with the index and time of each, and how they were found."""

    frames: np.ndarray
    indices: np.ndarray  # (views, N) frame index in the stream
    times: np.ndarray  # (views, N) presentation time in seconds
    unique_frames: int  # distinct frames in the view with the fewest
    repeated: bool  # True when a view repeats frames (the range held fewer frames than requested)
    start: float
    end: float
    path: str


def sample_times(start: float, end: float, num_frames: int, views: int = 1) -> np.ndarray:
    """Target times (views, num_frames) spread uniformly over ``[start, end)``."""
    if num_frames < 1 or views < 1:
        raise ValueError("num_frames and views must be >= 1")
    span = max(end - start, 0.0)
    offsets = (np.arange(views) + 1) / (views + 1)
    grid = np.arange(num_frames)[None, :] + offsets[:, None]
    return start + grid * span / num_frames


def reduced_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """(w, h) keeping the aspect, short side ``short_side``, never larger than (width, height)."""
    scale = min(1.0, short_side / min(width, height))
    return max(2, round(width * scale)), max(2, round(height * scale))


def sample_frames(
    video: VideoBackend | str | os.PathLike,
    num_frames: int,
    start: float | None = None,
    end: float | None = None,
    views: int = 1,
    short_side: int | None = None,
) -> SampledClip:
    """Decode ``num_frames`` frames per view, uniformly over ``[start, end)`` (default: the whole clip).

    ``short_side``: frames are area-reduced on conversion to that short side (never enlarged),
    as :func:`shotscope.analyze` converts the frames of a shot."""
    own = not isinstance(video, VideoBackend)
    vid = open_video(video) if own else video
    try:
        info = vid.info
        lo = 0.0 if start is None else max(0.0, float(start))
        hi = info.duration if end is None else float(end)
        if end is None and hi <= lo:
            hi = lo + num_frames / info.fps
        if hi <= lo:
            raise VideoDecodeError(vid.path, f"empty time range [{lo:.3f}, {hi:.3f})")
        targets = sample_times(lo, hi, num_frames, views)
        size = None if short_side is None else reduced_size(info.width, info.height, short_side)
        return _collect(vid, targets, lo, None if end is None else hi, size)
    finally:
        if own:
            vid.close()


def _collect(vid: VideoBackend, targets: np.ndarray, start: float, end: float | None,
             size: tuple[int, int] | None = None) -> SampledClip:
    """The frame shown at each target time; each distinct frame converted to RGB once."""
    flat = targets.ravel()
    order = np.argsort(flat, kind="stable")
    frames_sorted = vid.frames_at(flat[order], start, end)
    chosen: list[DecodedFrame] = [None] * flat.size  # type: ignore[list-item]
    for k, frame in zip(order, frames_sorted, strict=True):
        chosen[k] = frame
    rgb: dict[int, np.ndarray] = {}
    frames: np.ndarray | None = None
    for k, frame in enumerate(chosen):  # each distinct frame converted once, copied into place
        if frame.index not in rgb:
            rgb[frame.index] = vid.to_rgb(frame, size=size)
        if frames is None:
            frames = np.empty((flat.size, *rgb[frame.index].shape), np.uint8)
        frames[k] = rgb[frame.index]
    frames = frames.reshape(*targets.shape, *frames.shape[1:])
    if end is None:
        end = max(vid.info.duration, frames_sorted[-1].time + 1.0 / vid.info.fps)
    indices = np.array([c.index for c in chosen]).reshape(targets.shape)
    times = np.array([c.time for c in chosen]).reshape(targets.shape)
    unique = min(len(np.unique(row)) for row in indices)
    return SampledClip(
        frames=frames, indices=indices, times=times, unique_frames=unique,
        repeated=unique < targets.shape[1], start=start, end=end, path=str(vid.path),
    )
