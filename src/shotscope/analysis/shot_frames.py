"""The frames of the shot being decoded: held thinned as it grows, sampled when it ends, converted
once and only when used."""

from __future__ import annotations

import numpy as np

from ..video.decode import DecodedFrame, VideoBackend
from ..video.sampling import sample_times
from .results import AnalyzeSettings


class ShotBuffer:
    """Decoded frames of the current shot, thinned to at most ``2 * keep`` by doubling the stride."""

    def __init__(self, keep: int):
        self.keep = keep
        self.stride = 1
        self.items: list[DecodedFrame] = []

    def wants(self, index: int) -> bool:
        return index % self.stride == 0 or not self.items

    def add(self, frame: DecodedFrame) -> None:
        self.items.append(frame)
        if len(self.items) > 2 * self.keep:
            self.stride *= 2
            self.items = self.items[::2]

    def split(self, cut: int) -> list[DecodedFrame]:
        done = [f for f in self.items if f.index < cut]
        self.items = [f for f in self.items if f.index >= cut]
        self.stride = 1
        return done


def views_for(duration: float, settings: AnalyzeSettings) -> int:
    if duration <= settings.long_shot_seconds:
        return 1
    return int(min(settings.max_views, 1 + duration // settings.long_shot_seconds))


def positions(k: int, n: int, views: int) -> np.ndarray:
    """(views, n) positions among k kept frames, by the rule of :func:`shotscope.video.sampling.sample_times`."""
    return np.minimum(np.floor(sample_times(0.0, k, n, views)).astype(int), k - 1)


class Converter:
    """Kept decoded frames -> small RGB arrays in display geometry, converted once and only when
    a shot uses them."""

    def __init__(self, video: VideoBackend, size: tuple[int, int]):
        self.video, self.size = video, size
        self.cache: dict[int, np.ndarray] = {}

    def __call__(self, frame: DecodedFrame) -> np.ndarray:
        if frame.index not in self.cache:
            self.cache[frame.index] = self.video.to_rgb(frame, size=self.size)
        return self.cache[frame.index]

    def sample(self, items: list[DecodedFrame], n: int, views: int) -> np.ndarray:
        """(views, n, H, W, 3) uint8."""
        return np.stack([[self(items[i]) for i in row] for row in positions(len(items), n, views)])
