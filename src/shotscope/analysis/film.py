"""Analyse a film in one decoding pass: cuts, per-shot frames, both labels per shot.

Each decoded frame is converted once to a small frame for the cut detector (as PySceneDetect
makes it). Decoded frames of the current shot are held, thinned as the shot grows; when a
cut is found, the finished shot's frames are sampled (several views for long shots), only
those are converted (short side ``work_size``), and shots are classified in batches.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import cv2
import numpy as np

from .. import __version__
from ..errors import DataError, VideoDecodeError
from ..labels import MOVEMENT_LABELS
from ..video.cuts import CutDetector, make_detector
from ..video.decode import DecodedFrame, VideoBackend, open_video
from ..video.sampling import reduced_size, sample_times
from .motion import MotionEstimate, estimate_movement

T = TypeVar("T")

if TYPE_CHECKING:
    from ..model.modeling import ShotScopeModel

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
    first_frame: np.ndarray | None = field(default=None, repr=False)  # small pictures for the report
    last_frame: np.ndarray | None = field(default=None, repr=False)

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON: times to the millisecond, probabilities and evidence to 4 places."""
        d = asdict(self)
        for picture in ("thumbnail", "first_frame", "last_frame"):
            d.pop(picture)
        for key in ("start_time", "end_time"):
            d[key] = round(d[key], 3)
        d["duration"] = round(self.duration, 3)
        if d["motion"]:
            d["motion"] = {k: round(v, 4) if isinstance(v, float) else v for k, v in d["motion"].items()}
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
    # how much of the film was decoded against what its container promised (see check_integrity)
    integrity: dict[str, Any] = field(default_factory=lambda: {"status": "ok"})


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
    start: float | None = None  # seconds: analyse only [start, end) of the film
    end: float | None = None

    def __post_init__(self) -> None:
        problems = []
        for name in ("long_shot_seconds", "short_shot_seconds"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                problems.append(f"{name} must be a number >= 0, got {value!r}")
        for name in ("max_views", "keep_frames", "batch_size"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                problems.append(f"{name} must be a whole number >= 1, got {getattr(self, name)!r}")
        for name in ("num_frames", "work_size"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and value >= 1):
                problems.append(f"{name} must be a whole number >= 1, got {value!r}")
        if self.movement not in MOVEMENT_SOURCES:
            problems.append(f"movement must be one of {', '.join(MOVEMENT_SOURCES)}, got {self.movement!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                problems.append(f"{name} must be seconds >= 0, got {value!r}")
        if self.start is not None and self.end is not None and not problems and self.end <= self.start:
            problems.append(f"end ({self.end}) must be after start ({self.start})")
        if problems:
            raise DataError("analysis settings: " + "; ".join(problems))


def resolve_movement(model: ShotScopeModel | None, choice: str = "auto") -> str:
    """The movement source for this model: ``auto`` is fused when the model carries a fitted
    combiner, the network otherwise, geometry without a model. The same rule for analyze,
    predict and evaluate. Raises DataError for a choice the model cannot serve."""
    if choice not in MOVEMENT_SOURCES:
        raise DataError(f"movement must be one of {', '.join(MOVEMENT_SOURCES)}, got {choice!r}")
    if choice == "auto":
        return "geometry" if model is None else "fused" if model.movement_fusion is not None else "model"
    if model is None and choice != "geometry":
        raise DataError(f"movement {choice!r} needs a model; without one use movement 'geometry'")
    if choice == "fused" and model.movement_fusion is None:
        raise DataError("movement 'fused' needs a model with a fitted movement combiner (shotscope fit-fusion)")
    return choice


def resolve_settings(model: ShotScopeModel | None, settings: AnalyzeSettings | None) -> AnalyzeSettings:
    """The settings with ``movement`` made concrete for this model (see :func:`resolve_movement`)."""
    settings = settings or AnalyzeSettings()
    return replace(settings, movement=resolve_movement(model, settings.movement))


def check_integrity(info: Any, decoded_frames: int, decoded_seconds: float, problems: dict[str, int],
                    start: float = 0.0, end: float | None = None) -> dict[str, Any]:
    """Compare what was decoded with what the container promised: ``truncated`` when the picture
    stops early, ``damaged`` when packets failed to decode or reading stopped on an error."""
    expected_end = info.duration if end is None else min(end, info.duration or end)
    expected = max(expected_end - start, 0.0)
    got = max(decoded_seconds - start, 0.0)
    flags = []
    # a missing frame or two at the end is common (rounded durations, edit lists); more is not
    if expected > 0 and got < expected - max(3.0 / info.fps, 0.02 * expected):
        flags.append("truncated")
    if problems:
        flags.append("damaged")
    out: dict[str, Any] = {
        "status": "+".join(flags) or "ok",
        "decoded_frames": decoded_frames, "decoded_seconds": round(got, 3),
        "expected_frames": info.frame_count if end is None and not start else None,
        "expected_seconds": round(expected, 3),
        "problems": [f"{text} (x{count})" if count > 1 else text for text, count in problems.items()],
    }
    if flags:
        out["summary"] = (f"{' and '.join(flags)}: decoded {got:.2f} s of {expected:.2f} s"
                          + (f"; {'; '.join(out['problems'])}" if problems else ""))
    return out


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


GEOMETRY_SIDE = 180  # short side of the frames the geometric movement estimate reads
GEOMETRY_FRAMES = 16  # frames it reads per shot (or per clip, in predict and evaluate)


def model_input_side(model: ShotScopeModel | None) -> int:
    """Short side the sampled frames need so the model's resize only ever shrinks them."""
    if model is None:
        return GEOMETRY_SIDE
    pre = model.preprocess_config
    if pre is not None and pre.resize_mode == "center_crop":
        return pre.shortest_edge or pre.image_size
    return pre.image_size if pre is not None else model.image_size


def _views_for(duration: float, settings: AnalyzeSettings) -> int:
    if duration <= settings.long_shot_seconds:
        return 1
    return int(min(settings.max_views, 1 + duration // settings.long_shot_seconds))


def _positions(k: int, n: int, views: int) -> np.ndarray:
    """(views, n) positions among k kept frames, by the rule of :func:`shotscope.video.sampling.sample_times`."""
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
    progress: bool | None = None,
) -> FilmAnalysis:
    """Find the shots of a film and label each (scale and movement); one decoding pass.

    ``model`` may be None with ``settings.movement == "geometry"`` (or "auto"): movement from
    geometry only, no scale. A string is loaded with :func:`shotscope.load_model`.
    ``progress``: None shows a bar only on a terminal.
    """
    if isinstance(model, (str, os.PathLike)):
        from ..model.loading import load_model

        model = load_model(model)
    settings = resolve_settings(model, settings)
    det = make_detector(detector) if isinstance(detector, str) else detector
    n = settings.num_frames or (model.num_frames if model is not None else GEOMETRY_FRAMES)
    # frame threads: measured fastest here for a full pass with conversion on every frame
    video = open_video(path, thread_type="FRAME")
    info = video.info
    det.reset(info.fps)
    # detection frames exactly as PySceneDetect's SceneManager makes them (the stored picture,
    # downscaled to ~256 px wide, bilinear), so cuts match the `scenedetect` command; kept frames
    # are area-averaged to work_size in display geometry
    factor = max(1.0, info.stored_width / 256)
    det_size = (max(1, round(info.stored_width / factor)), max(1, round(info.stored_height / factor)))
    own_size = det.frame_size(info.stored_width, info.stored_height)  # e.g. TransNetV2's 48x27
    keep_size = reduced_size(info.width, info.height, settings.work_size or model_input_side(model))
    geo_size = reduced_size(info.width, info.height, GEOMETRY_SIDE)
    # decoded frames held per shot: fewer for large pictures (about 200 MB at most)
    keep = int(np.clip(settings.keep_frames * (1920 * 1080) / (info.stored_width * info.stored_height), 8,
                       settings.keep_frames))
    buffer = _ShotBuffer(keep)
    labeller = _ShotLabeller(model, settings, n, _Converter(video, keep_size),
                             _Converter(video, geo_size) if geo_size != keep_size else None)
    first, last, times = None, -1, {}  # first: the current shot's first frame
    start_index = None  # the first frame decoded (of the film or the range)

    def close_shot(end: int, end_time: float | None) -> None:
        """The shot [start, end) is complete: sample, label (in batches), free its frames."""
        nonlocal first
        items = buffer.split(end)
        t0 = times[first]  # cuts are always frames decoded (first < cut <= last, indices consecutive)
        t1 = end_time if end_time is not None else times[end]
        labeller.add(first, end, t0, t1, items)
        first = end

    from tqdm import tqdm

    span = (settings.end or info.duration) - (settings.start or 0.0)
    bar = tqdm(total=max(1, round(span * info.fps)), desc=Path(path).name[:30], unit="f",
               disable=None if progress is None else not progress, leave=False, position=1)
    def detection_frames() -> Iterator[tuple[DecodedFrame, np.ndarray]]:
        for frame in video.frames(settings.start, settings.end):
            if own_size is not None:
                small = video.to_rgb(frame, size=own_size, display=False)
            else:
                rgb = video.to_rgb(frame, display=False)
                small = cv2.resize(rgb, det_size, interpolation=cv2.INTER_LINEAR) if factor > 1 else rgb
            yield frame, small

    frames = read_ahead(detection_frames(), depth=16)  # decoding + conversion in a thread of their own
    try:
        for frame, small in frames:
            if first is None:
                first = start_index = frame.index
            if buffer.wants(frame.index - first):  # kept decoded; converted only if sampled
                buffer.add(frame)
            times[frame.index] = frame.time
            last = frame.index
            for cut in det.push(frame.index, small):
                if first < cut <= last:
                    close_shot(cut, None)
            bar.update(1)
        if first is None:
            where = "" if settings.start is None and settings.end is None else (
                f" in [{settings.start or 0:.3f}, {settings.end if settings.end is not None else 'end'})")
            raise VideoDecodeError(path, f"no decodable video frames{where}")
        for cut in det.finish(last):
            if first < cut <= last:
                close_shot(cut, None)
        end_time = times[last] + 1.0 / info.fps
        start_time = times[start_index]
        close_shot(last + 1, end_time)
        shots = labeller.finish()
    except BaseException:
        labeller.abort()
        raise
    finally:
        frames.close()
        bar.close()
        video.close()
    integrity = check_integrity(info, last + 1 - start_index, end_time, video.problems,
                                settings.start or 0.0, settings.end)
    metadata = {
        "shotscope_version": __version__,
        "model": None if model is None else {"source": model.source, "name": getattr(model, "name_or_path", None),
                                              "revision": getattr(model.config, "_commit_hash", None)},
        "detector": det.settings(),
        "decoder": {"backend": "pyav", "codec": info.codec, "pixel_format": info.pixel_format},
        "settings": asdict(settings),
        "num_frames": n,
        "range": {"start": round(start_time, 3), "end": round(end_time, 3)},
    }
    return FilmAnalysis(str(path), info.fps, last + 1, end_time, info.width, info.height, shots, metadata,
                        integrity)


class _ShotLabeller:
    """Labels finished shots in batches, so a film's frames are never all held at once."""

    def __init__(self, model: ShotScopeModel | None, settings: AnalyzeSettings, num_frames: int,
                 convert: _Converter, geometry: _Converter | None = None):
        """``convert`` makes the network's frames; ``geometry`` (default: the same) the frames the
        geometric estimate reads, at :data:`GEOMETRY_SIDE` as predict and evaluate read them."""
        self.model, self.settings, self.n, self.convert = model, settings, num_frames, convert
        self.geometry = geometry or convert
        # thumbnails from the larger of the two
        self.thumb = max((convert, self.geometry), key=lambda c: c.size[0])
        self.shots: list[Shot] = []
        self.pending: list[tuple[Shot, np.ndarray]] = []
        self.worker: _ModelWorker | None = None

    def add(self, start: int, end: int, t0: float, t1: float, items: list) -> None:
        st = self.settings
        views = _views_for(t1 - t0, st)
        shot = Shot(len(self.shots), start, end, t0, t1, short=(t1 - t0) < st.short_shot_seconds, views=views,
                    movement_source=st.movement)
        if items:
            # a representative frame: of three across the shot, the one with most detail (a shot
            # that fades in from black does not get a black thumbnail)
            picks = sorted({len(items) // 4, len(items) // 2, (3 * len(items)) // 4})
            mid = max((self.thumb(items[i]) for i in picks), key=lambda f: float(f.std()))
            small = lambda f: cv2.resize(f, (160, max(1, round(f.shape[0] * 160 / f.shape[1]))),  # noqa: E731
                                         interpolation=cv2.INTER_AREA)
            shot.thumbnail = small(mid)
            shot.first_frame, shot.last_frame = small(self.thumb(items[0])), small(self.thumb(items[-1]))
            if st.movement in ("geometry", "fused"):
                pos = _positions(len(items), min(GEOMETRY_FRAMES, max(len(items), 2)), 1)[0]
                est = estimate_movement(np.stack([self.geometry(items[i]) for i in pos]),
                                        np.array([items[i].time for i in pos]))
                shot.motion = est.to_dict()
                if st.movement == "geometry":
                    shot.movement, shot.movement_prob = est.label, round(est.confidence, 4)
                    shot.movement_probs = est.probabilities
            if self.model is not None:
                self.pending.append((shot, self.convert.sample(items, self.n, views)))
        self.shots.append(shot)
        self.convert.cache.clear()
        self.geometry.cache.clear()
        if len(self.pending) >= st.batch_size:
            self._label()

    def _label(self) -> None:
        """Hand the pending shots to the model worker (in its own thread, so decoding goes on)."""
        if not self.pending:
            return
        if self.worker is None:
            self.worker = _ModelWorker(self._label_batch)
        self.worker.submit(list(self.pending))
        self.pending.clear()

    def _label_batch(self, pending: list[tuple[Shot, np.ndarray]]) -> None:
        from ..model.inference import predict_probs

        model, cfg = self.model, self.model.config
        ps, pm = predict_probs(model, [clip for _, clip in pending], self.settings.batch_size)
        for (shot, _), s_p, m_p in zip(pending, ps, pm, strict=True):
            shot.scale_probs = {k: round(float(v), 4) for k, v in zip(cfg.scale_labels, s_p, strict=True)}
            shot.scale = cfg.scale_labels[int(s_p.argmax())]
            shot.scale_prob = round(float(s_p.max()), 4)
            if self.settings.movement == "geometry":
                continue
            names = cfg.movement_labels
            if self.settings.movement == "fused":  # the combiner answers in shotscope's order
                m_p, names = model.movement_fusion.combine(m_p, MotionEstimate(**shot.motion)), MOVEMENT_LABELS
            shot.movement_probs = {k: round(float(v), 4) for k, v in zip(names, m_p, strict=True)}
            shot.movement = names[int(np.argmax(m_p))]
            shot.movement_prob = round(float(np.max(m_p)), 4)

    def finish(self) -> list[Shot]:
        """Label what is left and wait for the model; raises what the model raised."""
        self._label()
        if self.worker is not None:
            self.worker.close()
        return self.shots

    def abort(self) -> None:
        if self.worker is not None:
            self.worker.close(abort=True)


class read_ahead(Iterator[T]):  # noqa: N801 - used like a function
    """Iterate ``items`` in a thread of its own, at most ``depth`` items ahead of the caller.

    Decoding (FFmpeg) and the frames' conversion release the GIL, so they run beside the caller's
    work (cut detection, sampling). An error in the thread is raised in the caller where it
    happened; :meth:`close` stops the thread (and closes ``items``) whether or not iteration began."""

    _DONE = object()

    def __init__(self, items: Iterator[T], depth: int):
        import queue
        import threading

        self.items = items
        self.box: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.finished = False
        self.thread = threading.Thread(target=self._run, name="shotscope-decode", daemon=True)
        self.thread.start()

    def _put(self, entry: tuple[bool, object]) -> bool:
        import queue

        while not self.stop.is_set():
            try:
                self.box.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self.items:
                if not self._put((True, item)):
                    break
            else:
                self._put((True, self._DONE))
        except BaseException as exc:  # handed to the caller
            self._put((False, exc))
        finally:
            close = getattr(self.items, "close", None)
            if close is not None:
                close()

    def __next__(self) -> T:
        if self.finished:
            raise StopIteration
        ok, item = self.box.get()
        if not ok:
            self.close()
            raise item
        if item is self._DONE:
            self.close()
            raise StopIteration
        return item

    def close(self) -> None:
        self.finished = True
        self.stop.set()
        self.thread.join()


class _ModelWorker:
    """Runs the model on batches of shots in a thread while the caller decodes the next ones.

    The queue holds at most ``depth`` batches: when the model falls behind, decoding waits, so
    memory stays bounded; when decoding falls behind, the model waits."""

    def __init__(self, fn, depth: int = 2):
        import queue
        import threading

        self.fn = fn
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="shotscope-model", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            if self.error is not None or self.stopping:
                continue  # after a failure: drain, so the producer never blocks
            try:
                self.fn(batch)
            except BaseException as exc:  # handed to the caller in submit/close
                self.error = exc

    def submit(self, batch) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def close(self, abort: bool = False) -> None:
        """Wait for the batches given to be done; ``abort``: the ones still waiting are dropped."""
        self.stopping = abort
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and not abort:
            raise self.error
