"""Shot detection as a pluggable stage, fed frame by frame during the one decoding pass.

:class:`AdaptiveCutDetector` wraps PySceneDetect's AdaptiveDetector (the default);
:class:`ContentCutDetector` its ContentDetector. Both see small BGR frames, as
PySceneDetect's own SceneManager downscales them.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np


class CutDetector(abc.ABC):
    """Receives every frame in order; returns the indices of frames that start a new shot."""

    name = "abstract"

    @abc.abstractmethod
    def reset(self, fps: float) -> None: ...

    @abc.abstractmethod
    def push(self, index: int, small_rgb: np.ndarray) -> list[int]: ...

    @abc.abstractmethod
    def finish(self, last_index: int) -> list[int]: ...

    def settings(self) -> dict[str, Any]:
        return {"name": self.name}


class _SceneDetectBase(CutDetector):
    def __init__(self, **kwargs: Any):
        self.kwargs = kwargs
        self._det = None
        self._fps = 25.0

    def _make(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def reset(self, fps: float) -> None:
        self._fps = fps
        self._det = self._make()

    def _tc(self, index: int):
        from scenedetect import FrameTimecode

        return FrameTimecode(index, fps=self._fps)

    def push(self, index: int, small_rgb: np.ndarray) -> list[int]:
        bgr = np.ascontiguousarray(small_rgb[..., ::-1])
        return [int(tc.frame_num) for tc in self._det.process_frame(self._tc(index), bgr)]

    def finish(self, last_index: int) -> list[int]:
        return [int(tc.frame_num) for tc in self._det.post_process(self._tc(last_index))]

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "library": "scenedetect", **self.kwargs}


class AdaptiveCutDetector(_SceneDetectBase):
    name = "adaptive"

    def _make(self):
        from scenedetect.detectors import AdaptiveDetector

        return AdaptiveDetector(**self.kwargs)


class ContentCutDetector(_SceneDetectBase):
    name = "content"

    def _make(self):
        from scenedetect.detectors import ContentDetector

        return ContentDetector(**self.kwargs)


DETECTORS = {"adaptive": AdaptiveCutDetector, "content": ContentCutDetector}


def make_detector(name: str = "adaptive", **kwargs: Any) -> CutDetector:
    try:
        return DETECTORS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown shot detector {name!r}; available: {sorted(DETECTORS)}") from None
