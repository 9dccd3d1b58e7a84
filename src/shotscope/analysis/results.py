"""What an analysis of a film is made of: its shots with their labels, the film's record, and the
settings it was made with."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..sources.selection import (
    MOVEMENT_SOURCES,
    PEOPLE_DETECTORS,
    SCALE_SOURCES,
    resolve_movement,
    resolve_scale,
)

if TYPE_CHECKING:
    from ..model.modeling import ShotScopeModel


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
    motion: dict[str, Any] | None = None  # the geometric evidence (sources.geometry)
    scale_source: str | None = None  # model | people (None: no scale)
    people: dict[str, Any] | None = None  # the people found (sources.people)
    timeline: dict[str, Any] | None = None  # probabilities every half second within the shot (analysis.timeline)
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
        for evidence in ("motion", "people"):
            if d[evidence]:
                d[evidence] = {k: round(v, 4) if isinstance(v, float) else v for k, v in d[evidence].items()}
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
    scale: str = "auto"  # auto (the model; the people in the frame without one) | model | people
    start: float | None = None  # seconds: analyse only [start, end) of the film
    end: float | None = None
    timeline: float = 0.5  # seconds between the points of each shot's probability timeline (0: none)
    timeline_network: bool = False  # the network too in the timeline: a clip a point (as many as half-seconds)
    timeline_people: bool = False  # the scale from people too in the timeline (one frame a point: +40-80 % without a model)
    people_detector: str = "auto"  # the scale from people's detector: auto (MediaPipe's where fetched) | mediapipe | opencv

    def __post_init__(self) -> None:
        problems = []
        for name in ("long_shot_seconds", "short_shot_seconds", "timeline"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                problems.append(f"{name} must be a number >= 0, got {value!r}")
        if isinstance(self.timeline, (int, float)) and 0 < self.timeline < 0.1:
            problems.append(f"timeline must be 0 (none) or at least 0.1 seconds, got {self.timeline!r}")
        for name in ("max_views", "keep_frames", "batch_size"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                problems.append(f"{name} must be a whole number >= 1, got {getattr(self, name)!r}")
        for name in ("num_frames", "work_size"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and value >= 1):
                problems.append(f"{name} must be a whole number >= 1, got {value!r}")
        if self.movement not in MOVEMENT_SOURCES:
            problems.append(f"movement must be one of {', '.join(MOVEMENT_SOURCES)}, got {self.movement!r}")
        if self.scale not in SCALE_SOURCES:
            problems.append(f"scale must be one of {', '.join(SCALE_SOURCES)}, got {self.scale!r}")
        if self.people_detector not in PEOPLE_DETECTORS:
            problems.append(f"people_detector must be one of {', '.join(PEOPLE_DETECTORS)}, got {self.people_detector!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                problems.append(f"{name} must be seconds >= 0, got {value!r}")
        if self.start is not None and self.end is not None and not problems and self.end <= self.start:
            problems.append(f"end ({self.end}) must be after start ({self.start})")
        if problems:
            raise DataError("analysis settings: " + "; ".join(problems))


def resolve_settings(model: ShotScopeModel | None, settings: AnalyzeSettings | None) -> AnalyzeSettings:
    """The settings with ``movement`` and ``scale`` made concrete for this model (see
    :func:`resolve_movement` and :func:`resolve_scale`)."""
    settings = settings or AnalyzeSettings()
    scale = resolve_scale(model, settings.scale)
    people = settings.people_detector
    if scale == "people":
        from ..sources.people import resolve_detector

        people = resolve_detector(people)
    return replace(settings, movement=resolve_movement(model, settings.movement), scale=scale, people_detector=people)
