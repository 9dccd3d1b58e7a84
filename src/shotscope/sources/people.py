"""Shot scale from the people in the frame: no training, no weights of our own.

The MovieShots scales say how much of the main person the frame holds (a detail of a face, the
head and shoulders, from the waist or knees up, the whole body, small in a wide view). Read the
other way round, each scale is a range of how tall the person's whole body would be, measured in
frame heights: a full shot holds a body of about one frame height, a medium shot cuts it at the
waist or knees (1.2-2.5 frame heights), a close-up shows the head and shoulders or a whole face
(2.5-7.5), an extreme close-up a part of the face (more: the face overflows the frame), a long shot a figure under half the frame (see
:data:`BODY_BANDS`). So the estimate measures the main person and reads their body height from
human proportions:

- **faces** (OpenCV's Haar cascades, frontal, and profile both ways round; in colour footage only
  boxes whose middle is partly skin-coloured, so a patterned wall or a lamp is not taken for a
  face): a face's box is about
  :data:`FACE_SHARE` of the body's height, so the largest face (the nearest person) gives the body
  height directly; faces are found down to about 1/20 of the frame's height;
- **whole bodies** (OpenCV's HOG people detector, Dalal and Triggs): where no face is found, or
  the face is small (a full or long shot), a body whose box ends inside the frame gives its height
  (the person fills about :data:`BOX_SHARE` of the box);
- **nobody**: a shot with no person is a wide view or a detail of things; its probabilities are
  spread (:data:`NOBODY`), tilted toward a detail where most of the frame is out of focus.

Each frame's body height is read on a log scale; over the shot's frames the median counts, and the
probability of each scale is the share of a normal distribution around it (its spread:
:data:`SPREAD`, wider when the evidence is thin) that falls in the scale's band. The detectors ship
inside OpenCV (opencv-python-headless 4.x), under its BSD/Apache licence; docs/people.md says why
these and not others. Measured on real footage in docs/benchmarks.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from ..labels import SCALE_LABELS
from .base import Estimate

# the whole body's height in frame heights, at the boundaries between the scales (LS | FS | MS | CS | ECS)
# (CS | ECS at 7.5: a face box 0.9 of the frame; a whole face in frame is a close-up, an extreme
# close-up shows only part of one)
BODY_BANDS = (0.5, 1.2, 2.5, 7.5)
FACE_SHARE = 0.12  # a face detector's box is about this share of a standing person's height (head ~1/7.5)
BOX_SHARE = 0.75  # a person fills about this share of the HOG detector's box (its window has margins)
SPREAD = 0.3  # spread (natural log) of a body height read from one face in several frames
NOBODY = {"ECS": 0.15, "CS": 0.25, "MS": 0.1, "FS": 0.1, "LS": 0.4}  # a shot with no person in it
WORK_HEIGHT = 288  # frames are searched for faces at this height (small films enlarged, large ones reduced)
BODY_HEIGHT = 360  # ... and for whole bodies at this one (the HOG window is 128 px tall)
FRAMES = 3  # frames of a shot searched
SKIN_LEAST = 0.25  # in colour footage, a face's middle is at least this share skin-coloured
# skin in YCrCb (Chai and Ngan, 1999, the ranges face detection has used since): Cr 133-173, Cb 77-127
SKIN_CR, SKIN_CB = (133, 173), (77, 127)


@dataclass
class ScaleEstimate:
    """The scale of one shot from the people in it, its probabilities, and the evidence."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    evidence: str  # "face", "body" or "nobody"
    faces: int = 0  # faces found in the frame that had most
    face_height: float = 0.0  # the largest face's height in frame heights (median over the frames with one)
    bodies: int = 0
    body_box_height: float = 0.0  # the largest whole body's box, in frame heights
    body_height: float | None = None  # the main person's whole body, in frame heights, as read
    frames: int = 0
    focus: float | None = None  # without anyone: how much of the frame is in focus (0-1)
    boxes: list[list[float]] = field(default_factory=list, repr=False)  # faces found: x, y, w, h (frame units)

    def to_dict(self) -> dict:
        return asdict(self)


def _cascade(name: str) -> cv2.CascadeClassifier:
    data = getattr(cv2, "data", None)
    path = (getattr(data, "haarcascades", "") or "") + name
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        from ..errors import ModelLoadError

        raise ModelLoadError(f"{path}: OpenCV's face detector is missing (opencv-python-headless 4.x ships it; "
                             f"5.x does not): pip install 'opencv-python-headless>=4.9,<5'")
    return cascade


class PeopleDetector:
    """OpenCV's face cascades and HOG people detector, loaded once (not thread-safe: one per thread)."""

    def __init__(self) -> None:
        self.frontal = _cascade("haarcascade_frontalface_default.xml")
        self.profile = _cascade("haarcascade_profileface.xml")
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    @staticmethod
    def _search(cascade: cv2.CascadeClassifier, gray: np.ndarray, mirrored: bool = False) -> list[tuple]:
        h, w = gray.shape
        least = (max(16, h // 16),) * 2  # faces down to 1/16 of the frame: a full shot's
        found = cascade.detectMultiScale(np.ascontiguousarray(gray[:, ::-1]) if mirrored else gray, 1.1, 3,
                                         minSize=least)
        return [((w - x - bw) if mirrored else x, y, bw, bh) for x, y, bw, bh in found]

    def faces(self, gray: np.ndarray, profiles: bool = True,
              rgb: np.ndarray | None = None) -> list[tuple[float, float, float, float]]:
        """Faces (x, y, w, h in frame heights) in a gray frame: frontal, and with ``profiles``
        turned either way. With the frame in colour (``rgb``, any size), boxes with too little skin
        in their middle are dropped (see :func:`skin_share`)."""
        h = gray.shape[0]
        found = self._search(self.frontal, gray)
        if profiles:
            found += self._search(self.profile, gray) + self._search(self.profile, gray, mirrored=True)
        boxes = [(x / h, y / h, bw / h, bh / h) for x, y, bw, bh in found]
        if rgb is not None and is_colour(rgb):
            boxes = [b for b in boxes if skin_share(rgb, b) >= SKIN_LEAST]
        return boxes

    def bodies(self, gray: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Whole bodies (x, y, w, h in frame heights) the HOG detector is sure of."""
        h = gray.shape[0]
        boxes, weights = self.hog.detectMultiScale(gray, winStride=(8, 8), padding=(8, 8), scale=1.05)
        return [(x / h, y / h, bw / h, bh / h) for (x, y, bw, bh), wt in zip(boxes, np.ravel(weights), strict=True)
                if wt > 0.5]


_DETECTORS: dict[int, PeopleDetector] = {}


def detector() -> PeopleDetector:
    """This thread's detector (OpenCV's cascades are not shared across threads)."""
    import threading

    key = threading.get_ident()
    if key not in _DETECTORS:
        _DETECTORS[key] = PeopleDetector()
    return _DETECTORS[key]


def _gray(frame: np.ndarray, height: int) -> np.ndarray:
    g = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if g.shape[0] != height:
        width = max(1, round(g.shape[1] * height / g.shape[0]))
        g = cv2.resize(g, (width, height), interpolation=cv2.INTER_AREA if g.shape[0] > height else cv2.INTER_CUBIC)
    return cv2.equalizeHist(g)


def is_colour(rgb: np.ndarray) -> bool:
    """Whether a frame holds colour (a black-and-white film's frames have none to judge skin by)."""
    small = rgb[:: max(1, rgb.shape[0] // 64), :: max(1, rgb.shape[1] // 64)]
    return float(cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2HSV)[..., 1].mean()) > 25.0


def skin_share(rgb: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """The share of skin-coloured pixels (:data:`SKIN_CR`, :data:`SKIN_CB`) in the middle three
    fifths of a face's box (x, y, w, h in frame heights); a box on a patterned wall, a lamp or
    foliage has little, a face of any complexion much."""
    h = rgb.shape[0]
    x, y, w, bh = (v * h for v in box)
    top, bottom = max(0, round(y + bh / 5)), min(h, round(y + bh * 4 / 5))
    left, right = max(0, round(x + w / 5)), min(rgb.shape[1], round(x + w * 4 / 5))
    if bottom <= top or right <= left:
        return 0.0
    ycc = cv2.cvtColor(np.ascontiguousarray(rgb[top:bottom, left:right]), cv2.COLOR_RGB2YCrCb)
    cr, cb = ycc[..., 1], ycc[..., 2]
    inside = (cr >= SKIN_CR[0]) & (cr <= SKIN_CR[1]) & (cb >= SKIN_CB[0]) & (cb <= SKIN_CB[1])
    return float(inside.mean())


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


def estimate_scale(frames: np.ndarray) -> ScaleEstimate:
    """The scale of one shot from its frames ((T, H, W, 3) uint8, as ``sample_frames`` gives them):
    a few spread over the shot are searched for faces and whole bodies (see the module's text)."""
    if len(frames) == 0:
        return ScaleEstimate("LS", NOBODY["LS"], dict(NOBODY), "nobody")
    det = detector()
    picks = sorted({int(i) for i in np.linspace(0, len(frames) - 1, FRAMES + 2)[1:-1].round()}) or [0]
    middle = picks[len(picks) // 2]
    grays: dict[int, np.ndarray] = {}

    def gray(i: int) -> np.ndarray:
        if i not in grays:
            grays[i] = _gray(frames[i], WORK_HEIGHT)
        return grays[i]

    # the middle frame and the last searched; the first too only when they disagree (a face in one)
    found = {i: det.faces(gray(i), profiles=False, rgb=frames[i]) for i in dict.fromkeys([middle, picks[-1]])}
    if len(picks) > 2 and bool(found[middle]) != bool(found[picks[-1]]):
        found[picks[0]] = det.faces(gray(picks[0]), profiles=False, rgb=frames[picks[0]])
    if not any(found.values()):  # no face turned this way: a profile, in the middle frame
        found[middle] = det.faces(gray(middle), rgb=frames[middle])
    picks = sorted(found)
    face_reads, boxes = [], []
    for i in picks:
        if found[i]:
            biggest = max(found[i], key=lambda b: b[3])
            face_reads.append(biggest[3])
            boxes.append([round(v, 4) for v in biggest])
    faces_most = max(len(f) for f in found.values())
    gray_mid = gray(middle)
    face = float(np.median(face_reads)) if face_reads else 0.0
    faces_count = bool(face_reads)  # bodies are looked for only where there is no face, or it may be far
    est = ScaleEstimate("LS", 0.0, {}, "nobody", faces=faces_most, face_height=round(face, 4), frames=len(picks),
                        boxes=boxes)
    body_from_face = face / FACE_SHARE if faces_count else None
    if body_from_face is None or body_from_face < BODY_BANDS[1]:
        mid = frames[picks[len(picks) // 2]]
        bodies = det.bodies(_gray(mid, BODY_HEIGHT))
        whole = [b for b in bodies if b[1] + b[3] < 0.98 and b[1] > 0.0]  # the box ends inside the frame
        est.bodies = len(bodies)
        if whole:
            tallest = max(whole, key=lambda b: b[3])
            est.body_box_height = round(tallest[3], 4)
            if body_from_face is None:
                est.body_height = round(BOX_SHARE * tallest[3], 4)
                est.evidence = "body"
    if body_from_face is not None:
        est.body_height, est.evidence = round(body_from_face, 4), "face"
    if est.body_height is not None:
        # thin evidence reads wider: a face in one frame of several, or a body's box
        spread = SPREAD * (1.0 if est.evidence == "face" and len(face_reads) >= min(2, len(picks)) else 1.5)
        probs = band_probabilities(math.log(max(est.body_height, 1e-3)), spread)
    else:
        est.focus = round(focus_share(gray_mid), 4)
        probs = _nobody(est.focus)
    est.probabilities = {k: round(v, 4) for k, v in probs.items()}
    est.label = max(probs, key=probs.get)
    est.confidence = round(probs[est.label], 4)
    return est


PEOPLE_SIDE = 360  # short side of the frames analyze hands the estimate (it searches them at WORK_HEIGHT)


class PeopleSource:
    """Shot scale from the people in the frame (:func:`estimate_scale`), as a label source."""

    name, tasks, frames, side = "people", ("scale",), FRAMES, PEOPLE_SIDE

    def estimate(self, frames: np.ndarray, times: np.ndarray):
        est = estimate_scale(frames)
        evidence = est.to_dict()
        for key in ("label", "confidence", "probabilities"):
            evidence.pop(key)
        return {"scale": Estimate("scale", "people", dict(est.probabilities), evidence)}
