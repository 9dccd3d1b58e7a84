"""Analyse a film in one decoding pass: cuts, per-shot frames, both labels per shot.

Each decoded frame is converted once to a small frame for the cut detector (as PySceneDetect
makes it). Decoded frames of the current shot are held, thinned as the shot grows; when a
cut is found, the finished shot's frames are sampled (several views for long shots), only
those are converted (short side ``work_size``), and shots are classified in batches.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..errors import VideoDecodeError
from ..sources.geometry import GEOMETRY_FRAMES, GEOMETRY_SIDE
from ..sources.people import PEOPLE_SIDE
from ..sources.selection import model_input_side
from ..threads import read_ahead
from ..version import __version__
from ..video.cuts import CutDetector, make_detector
from ..video.decode import DecodedFrame, open_video
from ..video.sampling import reduced_size
from .labelling import ShotLabeller
from .results import AnalyzeSettings, FilmAnalysis, Shot, resolve_settings
from .shot_frames import Converter, ShotBuffer

if TYPE_CHECKING:
    from ..model.modeling import ShotScopeModel

__all__ = ["AnalyzeSettings", "FilmAnalysis", "Shot", "analyze", "check_integrity"]


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
    buffer = ShotBuffer(keep)
    people_size = reduced_size(info.width, info.height, PEOPLE_SIDE)
    converters = {keep_size: Converter(video, keep_size)}  # one converter a size: a frame converted once
    people_size = people_size if settings.scale == "people" else geo_size
    for size in (geo_size, people_size):
        if size not in converters:
            converters[size] = Converter(video, size)
    labeller = ShotLabeller(model, settings, n, converters[keep_size], converters[geo_size], converters[people_size])
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
                                              "revision": getattr(model.config, "_commit_hash", None),
                                              "precision": _precision_of(model)},
        "detector": det.settings(),
        "decoder": {"backend": "pyav", "codec": info.codec, "pixel_format": info.pixel_format},
        "settings": asdict(settings),
        "num_frames": n,
        "range": {"start": round(start_time, 3), "end": round(end_time, 3)},
    }
    return FilmAnalysis(str(path), info.fps, last + 1, end_time, info.width, info.height, shots, metadata,
                        integrity)


def _precision_of(model: ShotScopeModel) -> dict[str, Any]:
    """The precision the network ran at, and why (measured, forced): what shots.json records."""
    from ..devices import precision_name

    dtype = getattr(model, "compute_dtype", None)
    record = getattr(model, "precision_record", None)
    network = getattr(model, "backend_network", None)
    compute = network.variant if network is not None else precision_name(dtype) if dtype is not None else "fp32"
    return {"compute": compute,
            "asked": getattr(model, "precision_choice", "auto"),
            **({"measured": {k: record[k] for k in ("seconds", "agrees", "device")}} if record else {})}
