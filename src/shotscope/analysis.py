"""Analyse a film in one decoding pass: cuts, per-shot frames, both labels per shot.

Each decoded frame is converted once to a small frame for the cut detector (as PySceneDetect
makes it). Decoded frames of the current shot are held, thinned as the shot grows; when a
cut is found, the finished shot's frames are sampled (several views for long shots), only
those are converted (short side ``work_size``), and shots are classified in batches.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from . import __version__
from .errors import VideoDecodeError
from .inference import predict_probs
from .modeling import ShotScopeModel
from .motion import MotionEstimate, estimate_movement
from .sampling import sample_times
from .shots import CutDetector, make_detector
from .video import DecodedFrame, VideoBackend, open_video

MOVEMENT_SOURCES = ("auto", "model", "geometry", "fused")


@dataclass
class Shot:
    """One shot and its labels. Frames are [start_frame, end_frame); times in seconds."""

    index: int
    start_frame: int
    end_frame: int
    start_time: float
    end_time: float
    scale: str | None = None
    scale_prob: float | None = None
    scale_probs: dict[str, float] = field(default_factory=dict)
    movement: str | None = None
    movement_prob: float | None = None
    movement_probs: dict[str, float] = field(default_factory=dict)
    movement_source: str = "model"
    short: bool = False
    views: int = 1
    motion: dict[str, Any] | None = None
    thumbnail: np.ndarray | None = field(default=None, repr=False)

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("thumbnail")
        d["duration"] = self.duration
        return d


@dataclass
class FilmAnalysis:
    path: str
    fps: float
    frame_count: int
    duration: float
    width: int
    height: int
    shots: list[Shot]
    metadata: dict[str, Any]


@dataclass
class AnalyzeSettings:
    num_frames: int | None = None  # default: the model's
    long_shot_seconds: float = 4.0  # longer shots get several views
    max_views: int = 3
    short_shot_seconds: float = 0.75  # shorter shots are flagged (labels less reliable)
    work_size: int | None = None  # short side of the sampled frames; default: the model's input size
    keep_frames: int = 32  # frames kept per shot: between 32 and 64, thinned evenly as a shot grows
    batch_size: int = 8
    movement: str = "auto"  # auto (fused when the model has a combiner, else model; geometry without a model) | model | geometry | fused


class _ShotBuffer:
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


def _model_input_side(model: ShotScopeModel | None) -> int:
    """Short side the sampled frames need so the model's resize only ever shrinks them."""
    if model is None:
        return 180  # geometry alone
    pre = model.preprocess_config
    if pre is not None and pre.resize_mode == "center_crop":
        return pre.shortest_edge or pre.image_size
    return pre.image_size if pre is not None else model.image_size


def _work_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """(w, h) keeping the display aspect, short side ``short_side``, never larger than the source."""
    scale = min(1.0, short_side / min(width, height))
    return max(2, round(width * scale)), max(2, round(height * scale))


def _views_for(duration: float, settings: AnalyzeSettings) -> int:
    if duration <= settings.long_shot_seconds:
        return 1
    return int(min(settings.max_views, 1 + duration // settings.long_shot_seconds))


def _positions(k: int, n: int, views: int) -> np.ndarray:
    """(views, n) positions among k kept frames, by the rule of :func:`shotscope.sampling.sample_times`."""
    return np.minimum(np.floor(sample_times(0.0, k, n, views)).astype(int), k - 1)


class _Converter:
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
        return np.stack([[self(items[i]) for i in row] for row in _positions(len(items), n, views)])


def analyze(
    path: str | os.PathLike,
    model: ShotScopeModel | str | None = None,
    *,
    detector: CutDetector | str = "adaptive",
    settings: AnalyzeSettings | None = None,
    progress: bool = True,
) -> FilmAnalysis:
    """Find the shots of a film and label each (scale and movement); one decoding pass.

    ``model`` may be None with ``settings.movement == "geometry"``: movement from geometry
    only, no scale. A string is loaded with :func:`shotscope.load_model`.
    """
    settings = settings or AnalyzeSettings()
    if settings.movement not in MOVEMENT_SOURCES:
        raise ValueError(f"movement must be one of {MOVEMENT_SOURCES}, got {settings.movement!r}")
    if isinstance(model, (str, os.PathLike)):
        from .loading import load_model

        model = load_model(model)
    if settings.movement == "auto":
        chosen = "geometry" if model is None else "fused" if model.movement_fusion is not None else "model"
        settings = replace(settings, movement=chosen)
    if model is None and settings.movement != "geometry":
        raise ValueError("a model is needed unless movement='geometry'")
    if settings.movement == "fused" and (model is None or model.movement_fusion is None):
        raise ValueError("movement='fused' needs a model with a fitted movement combiner (shotscope fit-fusion)")
    det = make_detector(detector) if isinstance(detector, str) else detector
    n = settings.num_frames or (model.num_frames if model is not None else 16)
    # frame threads: measured fastest here for a full pass with conversion on every frame
    video = open_video(path, thread_type="FRAME")
    info = video.info
    det.reset(info.fps)
    # detection frames exactly as PySceneDetect's SceneManager makes them (the stored picture,
    # downscaled to ~256 px wide, bilinear), so cuts match the `scenedetect` command; kept frames
    # are area-averaged to work_size in display geometry
    factor = max(1.0, info.stored_width / 256)
    det_size = (max(1, round(info.stored_width / factor)), max(1, round(info.stored_height / factor)))
    keep_size = _work_size(info.width, info.height, settings.work_size or _model_input_side(model))
    # decoded frames held per shot: fewer for large pictures (about 200 MB at most)
    keep = int(np.clip(settings.keep_frames * (1920 * 1080) / (info.stored_width * info.stored_height), 8,
                       settings.keep_frames))
    buffer = _ShotBuffer(keep)
    labeller = _ShotLabeller(model, settings, n, _Converter(video, keep_size))
    start, last, times = 0, -1, {}

    def close_shot(end: int, end_time: float | None) -> None:
        """The shot [start, end) is complete: sample, label (in batches), free its frames."""
        nonlocal start
        items = buffer.split(end)
        t0 = times.get(start, start / info.fps)
        t1 = end_time if end_time is not None else times.get(end, end / info.fps)
        labeller.add(start, end, t0, t1, items)
        start = end

    bar = tqdm(total=info.frame_count, desc=Path(path).name[:30], unit="f", disable=not progress, leave=False)
    try:
        for frame in video.frames():
            rgb = video.to_rgb(frame, display=False)
            small = cv2.resize(rgb, det_size, interpolation=cv2.INTER_LINEAR) if factor > 1 else rgb
            if buffer.wants(frame.index):  # kept decoded; converted only if sampled
                buffer.add(frame)
            times[frame.index] = frame.time
            last = frame.index
            for cut in det.push(frame.index, small):
                if start < cut <= last:
                    close_shot(cut, None)
            bar.update(1)
        for cut in det.finish(last):
            if start < cut <= last:
                close_shot(cut, None)
        if last < 0:
            raise VideoDecodeError(path, "no decodable video frames")
        end_time = times[last] + 1.0 / info.fps
        close_shot(last + 1, end_time)
        shots = labeller.finish()
    finally:
        bar.close()
        video.close()
    metadata = {
        "shotscope_version": __version__,
        "model": None if model is None else {"source": model.source, "name": getattr(model, "name_or_path", None),
                                              "revision": getattr(model.config, "_commit_hash", None)},
        "detector": det.settings(),
        "decoder": {"backend": "pyav", "codec": info.codec, "pixel_format": info.pixel_format},
        "settings": asdict(settings),
        "num_frames": n,
    }
    return FilmAnalysis(str(path), info.fps, last + 1, end_time, info.width, info.height, shots, metadata)


class _ShotLabeller:
    """Labels finished shots in batches, so a film's frames are never all held at once."""

    def __init__(self, model: ShotScopeModel | None, settings: AnalyzeSettings, num_frames: int,
                 convert: _Converter):
        self.model, self.settings, self.n, self.convert = model, settings, num_frames, convert
        self.shots: list[Shot] = []
        self.pending: list[tuple[Shot, np.ndarray]] = []

    def add(self, start: int, end: int, t0: float, t1: float, items: list) -> None:
        st = self.settings
        views = _views_for(t1 - t0, st)
        shot = Shot(len(self.shots), start, end, t0, t1, short=(t1 - t0) < st.short_shot_seconds, views=views,
                    movement_source=st.movement)
        if items:
            mid = self.convert(items[len(items) // 2])
            shot.thumbnail = cv2.resize(mid, (160, max(1, round(mid.shape[0] * 160 / mid.shape[1]))),
                                        interpolation=cv2.INTER_AREA)
            if st.movement in ("geometry", "fused"):
                pos = _positions(len(items), min(16, max(len(items), 2)), 1)[0]
                est = estimate_movement(np.stack([self.convert(items[i]) for i in pos]),
                                        np.array([items[i].time for i in pos]))
                shot.motion = est.to_dict()
                if st.movement == "geometry":
                    shot.movement, shot.movement_prob = est.label, round(est.confidence, 4)
                    shot.movement_probs = est.probabilities
            if self.model is not None:
                self.pending.append((shot, self.convert.sample(items, self.n, views)))
        self.shots.append(shot)
        self.convert.cache.clear()
        if len(self.pending) >= st.batch_size:
            self._label()

    def _label(self) -> None:
        if not self.pending:
            return
        model, cfg = self.model, self.model.config
        ps, pm = predict_probs(model, [clip for _, clip in self.pending], self.settings.batch_size)
        for (shot, _), s_p, m_p in zip(self.pending, ps, pm, strict=True):
            shot.scale_probs = {k: round(float(v), 4) for k, v in zip(cfg.scale_labels, s_p, strict=True)}
            shot.scale = cfg.scale_labels[int(s_p.argmax())]
            shot.scale_prob = round(float(s_p.max()), 4)
            if self.settings.movement == "geometry":
                continue
            if self.settings.movement == "fused":
                m_p = model.movement_fusion.combine(m_p, MotionEstimate(**shot.motion))
            shot.movement_probs = {k: round(float(v), 4) for k, v in zip(cfg.movement_labels, m_p, strict=True)}
            shot.movement = cfg.movement_labels[int(np.argmax(m_p))]
            shot.movement_prob = round(float(np.max(m_p)), 4)
        self.pending.clear()

    def finish(self) -> list[Shot]:
        self._label()
        return self.shots
