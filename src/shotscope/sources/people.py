"""Shot scale from the people in the frame: no training, no weights of our own.

The MovieShots scales say how much of the main person the frame holds (a detail of a face, the
head and shoulders, from the waist or knees up, the whole body, small in a wide view). Read the
other way round, each scale is a range of how tall the person's whole body would be, measured in
frame heights: a full shot holds a body of about one frame height, a medium shot cuts it at the
waist or knees (1.2-2.5 frame heights), a close-up shows the head and shoulders or a whole face
(2.5-7.5), an extreme close-up a part of the face (more), a long shot a figure under half the
frame (see :data:`BODY_BANDS`). So the estimate finds the main person and reads that height:

- **from the pose** (MediaPipe's BlazePose, :mod:`shotscope.sources.blazepose`): the landmark
  model places the nose, shoulders, hips, knees and ankles, also those outside the frame. Where the
  feet are in frame and seen, the figure is whole and its height is measured; otherwise the frame's
  bottom edge (or, for feet hidden behind a table, the lowest part seen) cuts the body at a height
  of the body read from where the landmarks lie, through the canon of human proportions
  (:data:`CANON`: nose at 0.07 of the height from the top, shoulders 0.18, hips 0.50, knees 0.72,
  ankles 0.96). A body cut at a share ``b`` of its height stands ``1/b`` frame heights tall.
- **from a face** (BlazeFace full-range) where no pose is read: a face box is about
  :data:`FACE_SHARE` of the body's height.
- **nobody**: a shot with no person is a wide view or a detail of things; its probabilities are
  spread (:data:`NOBODY`), tilted toward a detail where most of the frame is out of focus.

Without MediaPipe's models (``shotscope fetch-people-models``) or OpenVINO, OpenCV's own face and
body detectors stand in (:mod:`shotscope.sources.opencv_people`, far weaker), and a warning says so.

Each frame's body height is read on a log scale; over the shot's frames the median counts, and the
probability of each scale is the share of a normal distribution around it (its spread:
:data:`SPREAD`, wider when the evidence is thin) that falls in the scale's band. docs/people.md
says which detectors and why; the figures on real footage are in docs/benchmarks.md.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from ..errors import ModelLoadError
from ..labels import SCALE_LABELS
from .base import Estimate
from .blazepose import ANKLES, HIPS, KNEES, NOSE, SHOULDERS, Person, PoseDetector, pose_detector
from .opencv_people import FACE_SHARE, WORK_HEIGHT, gray_at, read_people
from .selection import PEOPLE_DETECTORS as DETECTORS

log = logging.getLogger(__name__)

# the whole body's height in frame heights, at the boundaries between the scales (LS | FS | MS | CS | ECS)
# (CS | ECS at 7.5: a face box 0.9 of the frame; a whole face in frame is a close-up, an extreme
# close-up shows only part of one)
BODY_BANDS = (0.5, 1.2, 2.5, 7.5)
# where the landmarks lie on a standing body, as a share of its height from the top of the head
# (the canon of eight heads: chin 1/8, hips 1/2, knees 3/4, soles 1)
CANON = ((NOSE, 0.07), (SHOULDERS, 0.18), (HIPS, 0.50), (KNEES, 0.72), (ANKLES, 0.96))
PART_NAMES = ("head", "shoulders", "hips", "knees", "ankles")
SEEN = 0.5  # a landmark counts as seen at this visibility
SPREAD = 0.3  # spread (natural log) of a body height read in several frames
NOBODY = {"ECS": 0.15, "CS": 0.25, "MS": 0.1, "FS": 0.1, "LS": 0.4}  # a shot with no person in it
FRAMES = 3  # frames of a shot searched


@dataclass
class ScaleEstimate:
    """The scale of one shot from the people in it, its probabilities, and the evidence."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    evidence: str  # "pose", "face", "body" (OpenCV's) or "nobody"
    detector: str = "mediapipe"  # or "opencv"
    people: int = 0  # people found in the frame that had most (MediaPipe)
    parts: list[str] = field(default_factory=list)  # the main person's parts in frame and seen (middle frame read)
    faces: int = 0  # faces found in the frame that had most
    face_height: float = 0.0  # the largest face's height in frame heights (median over the frames with one)
    bodies: int = 0  # whole bodies OpenCV's detector found
    body_box_height: float = 0.0  # the largest whole body's box, in frame heights (OpenCV)
    body_height: float | None = None  # the main person's whole body, in frame heights, as read
    frames: int = 0
    focus: float | None = None  # without anyone: how much of the frame is in focus (0-1)
    boxes: list[list[float]] = field(default_factory=list, repr=False)  # faces found: x, y, w, h (frame heights)

    def to_dict(self) -> dict:
        return asdict(self)


def body_from_pose(person: Person, width: float) -> tuple[float, list[str]] | None:
    """The main person's body height in frame heights read from their landmarks, and the parts of
    them in frame and seen (``width``: the frame's width in frame heights); None where the
    landmarks do not stand upright (nose over shoulders over hips), as on a hand taken for a body."""
    ys = [float(np.mean(person.points[list(idx), 1])) for idx, _ in CANON]
    shares = [c for _, c in CANON]
    if not ys[0] < ys[1] < ys[2]:
        return None

    def shown(idx: tuple[int, ...]) -> bool:
        return any(person.visibility[i] >= SEEN and 0.0 <= person.points[i, 1] <= 1.0
                   and 0.0 <= person.points[i, 0] <= width for i in idx)

    parts = [name for name, (idx, _) in zip(PART_NAMES, CANON, strict=True) if shown(idx)]
    feet_in_frame = ys[-1] <= 1.0
    if feet_in_frame and "ankles" not in parts:  # feet in frame but hidden (a table, a bar): cut below the lowest part seen
        for k in (3, 2):  # knees, hips
            if PART_NAMES[k] in parts:
                return 1.0 / ((shares[k] + shares[k + 1]) / 2), parts
    if feet_in_frame:  # the whole figure: its height (where its feet are seen; else no reading)
        return ((ys[-1] - ys[0]) / (shares[-1] - shares[0]), parts) if "ankles" in parts else None
    # the frame's bottom edge in body shares, between the landmarks' heights (the head's top
    # extrapolated from the nose and the ankles)
    top = ys[0] - shares[0] * (ys[-1] - ys[0]) / (shares[-1] - shares[0])
    points = [(0.0, top), *zip(shares, ys, strict=True)]
    for (s0, y0), (s1, y1) in zip(points, points[1:], strict=False):
        if y0 <= 1.0 < y1:
            return 1.0 / max(s0 + (s1 - s0) * (1.0 - y0) / (y1 - y0), 1e-3), parts
    return 1.0 / shares[0], parts


def band_probabilities(log_body: float, spread: float) -> dict[str, float]:
    """Each scale's share of a normal distribution (natural log of the body height, ``spread``) that
    falls within its band of :data:`BODY_BANDS`."""
    edges = [-math.inf, *(math.log(b) for b in BODY_BANDS), math.inf]
    cdf = [0.5 * (1 + math.erf((e - log_body) / (spread * math.sqrt(2)))) for e in edges]
    # the bands run from the farthest (LS) to the nearest (ECS): the reverse of SCALE_LABELS
    shares = dict(zip(reversed(SCALE_LABELS), np.diff(cdf).tolist(), strict=True))
    return {k: max(shares[k], 1e-4) for k in SCALE_LABELS}


def focus_share(gray: np.ndarray, tiles: int = 6) -> float:
    """How much of the frame is in focus: the share of tiles whose detail (variance of the
    Laplacian) is at least a fifth of the sharpest tile's (a detail shot blurs most of its frame)."""
    h, w = gray.shape
    lap = cv2.Laplacian(gray, cv2.CV_32F)
    values = [float(lap[i * h // tiles:(i + 1) * h // tiles, j * w // tiles:(j + 1) * w // tiles].var())
              for i in range(tiles) for j in range(tiles)]
    top = max(values)
    return float(np.mean([v >= 0.2 * top for v in values])) if top > 0 else 0.0


def _nobody(focus: float) -> dict[str, float]:
    """Probabilities for a shot with nobody in it: :data:`NOBODY`, moved toward a detail (ECS, CS)
    as less of the frame is in focus."""
    tilt = float(np.clip((0.5 - focus) / 0.25, -1.0, 1.0))  # +1: a quarter of the frame in focus or less; -1: all
    p = {k: v * math.exp(tilt * (1.2 if k in ("ECS", "CS") else -0.6)) for k, v in NOBODY.items()}
    total = sum(p.values())
    return {k: p[k] / total for k in SCALE_LABELS}


def _picks(n: int) -> list[int]:
    return sorted({int(i) for i in np.linspace(0, n - 1, FRAMES + 2)[1:-1].round()}) or [0]


_WARNED: set[str] = set()


def _pose_or_none(detector: str) -> PoseDetector | None:
    """MediaPipe's detector, or None to use OpenCV's (``auto`` without the models: said once)."""
    if detector == "opencv":
        return None
    try:
        return pose_detector()
    except ModelLoadError as exc:
        if detector == "mediapipe":
            raise
        if str(exc) not in _WARNED:
            _WARNED.add(str(exc))
            log.warning("scale from people: %s; OpenCV's weaker face and body detectors stand in", exc)
        return None


def resolve_detector(detector: str) -> str:
    """``auto`` made concrete: ``mediapipe`` where its models and OpenVINO are at hand, else
    ``opencv`` (with the warning, once); a named one as it is."""
    if detector != "auto":
        return detector
    return "mediapipe" if _pose_or_none("auto") is not None else "opencv"


def _finish(est: ScaleEstimate, thin: bool, gray_middle) -> ScaleEstimate:
    if est.body_height is not None:
        probs = band_probabilities(math.log(max(est.body_height, 1e-3)), SPREAD * (1.5 if thin else 1.0))
    else:
        est.focus = round(focus_share(gray_middle()), 4)
        probs = _nobody(est.focus)
    est.probabilities = {k: round(v, 4) for k, v in probs.items()}
    est.label = max(probs, key=probs.get)
    est.confidence = round(probs[est.label], 4)
    return est


def estimate_scale(frames: np.ndarray, detector: str = "auto") -> ScaleEstimate:
    """The scale of one shot from its frames ((T, H, W, 3) uint8, as ``sample_frames`` gives them):
    a few spread over the shot are searched for the main person (see the module's text).
    ``detector``: ``mediapipe`` (MediaPipe's pose and face models), ``opencv`` (OpenCV's cascades
    and HOG detector), ``auto`` (MediaPipe's where its models are at hand)."""
    if detector not in DETECTORS:
        raise ValueError(f"detector must be one of {', '.join(DETECTORS)}, not {detector!r}")
    if len(frames) == 0:
        return ScaleEstimate("LS", NOBODY["LS"], dict(NOBODY), "nobody")
    picks = _picks(len(frames))
    middle = picks[len(picks) // 2]

    def gray_middle() -> np.ndarray:
        return gray_at(frames[middle], WORK_HEIGHT)

    pose = _pose_or_none(detector)
    if pose is None:
        seen = read_people(frames, picks, far=BODY_BANDS[1])
        est = ScaleEstimate("LS", 0.0, {}, seen.evidence, detector="opencv", faces=seen.faces,
                            face_height=seen.face_height, bodies=seen.bodies, body_box_height=seen.body_box_height,
                            body_height=seen.body_height, frames=seen.frames, boxes=seen.boxes)
        return _finish(est, seen.thin, gray_middle)
    width = frames.shape[2] / frames.shape[1]
    heights, parts, most = [], {}, 0
    for i in picks:
        people = pose.people(frames[i])
        most = max(most, len(people))
        reads = [r for r in (body_from_pose(p, width) for p in sorted(people, key=lambda p: -p.size)) if r]
        if reads:  # the main person: the largest whose pose stands upright
            heights.append(reads[0][0])
            parts[i] = reads[0][1]
    est = ScaleEstimate("LS", 0.0, {}, "nobody", people=most, frames=len(picks))
    if heights:
        est.evidence, est.body_height = "pose", round(float(np.median(heights)), 4)
        est.parts = parts.get(middle) or next(iter(parts.values()))
        return _finish(est, len(heights) < min(2, len(picks)), gray_middle)
    faces = {i: pose.faces(frames[i]) for i in picks}
    found = [max(f, key=lambda b: b[3]) for f in faces.values() if f]
    est.faces = max(len(f) for f in faces.values())
    if found:
        est.boxes = [[round(v, 4) for v in b] for b in found]
        est.face_height = round(float(np.median([b[3] for b in found])), 4)
        est.evidence, est.body_height = "face", round(est.face_height / FACE_SHARE, 4)
    return _finish(est, len(found) < min(2, len(picks)), gray_middle)


PEOPLE_SIDE = 360  # short side of the frames analyze hands the estimate


class PeopleSource:
    """Shot scale from the people in the frame (:func:`estimate_scale`), as a label source."""

    name, tasks, frames, side = "people", ("scale",), FRAMES, PEOPLE_SIDE

    def __init__(self, detector: str = "auto") -> None:
        self.detector = detector

    def estimate(self, frames: np.ndarray, times: np.ndarray):
        est = estimate_scale(frames, self.detector)
        evidence = est.to_dict()
        for key in ("label", "confidence", "probabilities"):
            evidence.pop(key)
        return {"scale": Estimate("scale", "people", dict(est.probabilities), evidence)}

    def timeline(self, frames: np.ndarray, times: np.ndarray, spans: list[tuple[int, int]]):
        """Its answers for stretches of the shot: the people of each stretch's middle frame (one
        frame a window, ~0.03 s with MediaPipe's models), so a scale that changes within a shot (a
        cut the detector missed, a figure walking up to the camera) shows on the timeline."""
        answers = []
        for first, last in spans:
            est = estimate_scale(frames[(first + last) // 2][None], self.detector)
            answers.append({"scale": Estimate("scale", "people", dict(est.probabilities),
                                              {"evidence": est.evidence, "people": est.people})})
        return answers
