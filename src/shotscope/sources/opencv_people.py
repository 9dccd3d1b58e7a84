"""People found by OpenCV's own detectors: the fallback of the scale from people where
MediaPipe's models are not at hand (see :mod:`shotscope.sources.people`).

- **faces**: OpenCV's Haar cascades, frontal, and profile both ways round; in colour footage only
  boxes whose middle is partly skin-coloured, so a patterned wall or a lamp is not taken for a face;
- **whole bodies**: OpenCV's HOG people detector (Dalal and Triggs), where no face is found or the
  face is small (a full or long shot).

They ship inside OpenCV (opencv-python-headless 4.x), under its BSD/Apache licence. They miss
most faces in medium shots of small films and everyone seen from behind: MediaPipe's pose models
do far better (docs/benchmarks.md).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

FACE_SHARE = 0.12  # a face detector's box is about this share of a standing person's height (head ~1/7.5)
BOX_SHARE = 0.75  # a person fills about this share of the HOG detector's box (its window has margins)
WORK_HEIGHT = 288  # frames are searched for faces at this height (small films enlarged, large ones reduced)
BODY_HEIGHT = 360  # ... and for whole bodies at this one (the HOG window is 128 px tall)
SKIN_LEAST = 0.25  # in colour footage, a face's middle is at least this share skin-coloured
# skin in YCrCb (Chai and Ngan, 1999, the ranges face detection has used since): Cr 133-173, Cb 77-127
SKIN_CR, SKIN_CB = (133, 173), (77, 127)


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


_LOCAL = threading.local()


def detector() -> PeopleDetector:
    """This thread's detector (OpenCV's cascades are not shared across threads; one goes with
    its thread)."""
    if not hasattr(_LOCAL, "detector"):
        _LOCAL.detector = PeopleDetector()
    return _LOCAL.detector


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


def gray_at(frame: np.ndarray, height: int) -> np.ndarray:
    """A frame in gray at ``height`` pixels, its histogram equalised (the cascades' input)."""
    g = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if g.shape[0] != height:
        width = max(1, round(g.shape[1] * height / g.shape[0]))
        g = cv2.resize(g, (width, height), interpolation=cv2.INTER_AREA if g.shape[0] > height else cv2.INTER_CUBIC)
    return cv2.equalizeHist(g)


@dataclass
class OpenCVReading:
    """What OpenCV's detectors found in a shot's frames, and the body height it gives."""

    evidence: str  # "face", "body" or "nobody"
    body_height: float | None = None  # frame heights
    thin: bool = False  # a face in only one frame of several, or a body's box: read wider
    faces: int = 0  # faces found in the frame that had most
    face_height: float = 0.0  # the largest face's height in frame heights (median over the frames with one)
    bodies: int = 0
    body_box_height: float = 0.0  # the largest whole body's box, in frame heights
    frames: int = 0
    boxes: list[list[float]] = field(default_factory=list)  # faces found: x, y, w, h (frame heights)


def read_people(frames: np.ndarray, picks: list[int], far: float = 1.2) -> OpenCVReading:
    """Faces in the frames ``picks`` (the middle and the last; the first too when they disagree;
    profiles where no face turned this way was found), bodies where there is no face or only one
    whose body would be under ``far`` frame heights tall."""
    det = detector()
    middle = picks[len(picks) // 2]
    grays: dict[int, np.ndarray] = {}

    def gray(i: int) -> np.ndarray:
        if i not in grays:
            grays[i] = gray_at(frames[i], WORK_HEIGHT)
        return grays[i]

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
    face = float(np.median(face_reads)) if face_reads else 0.0
    reading = OpenCVReading("nobody", faces=max(len(f) for f in found.values()), face_height=round(face, 4),
                            frames=len(picks), boxes=boxes)
    body_from_face = face / FACE_SHARE if face_reads else None
    if body_from_face is None or body_from_face < far:  # no face, or a far one: look for whole bodies
        bodies = det.bodies(gray_at(frames[picks[len(picks) // 2]], BODY_HEIGHT))
        whole = [b for b in bodies if b[1] + b[3] < 0.98 and b[1] > 0.0]  # the box ends inside the frame
        reading.bodies = len(bodies)
        if whole:
            tallest = max(whole, key=lambda b: b[3])
            reading.body_box_height = round(tallest[3], 4)
            if body_from_face is None:
                reading.body_height, reading.evidence, reading.thin = round(BOX_SHARE * tallest[3], 4), "body", True
    if body_from_face is not None:
        reading.body_height, reading.evidence = round(body_from_face, 4), "face"
        reading.thin = len(face_reads) < min(2, len(picks))
    return reading
