"""Camera movement from geometry: no training, thresholds documented and tunable.

The camera is told apart from the subjects by where they usually are: subjects fill the middle
of the frame, the background shows at its border. Between sampled frames of a shot, a grid of
points over the whole frame is tracked (Lucas-Kanade, kept only where tracking forward and back
agrees). Over the shot this gives:

- ``still``: the share of the border (outside the central half of the frame) whose points stay
  put between frames. A fixed camera keeps its background still however much the subjects move;
  any camera move shifts it all.
- ``zoom``: the background's radial expansion (> 0: push in) or contraction (pull out), summed
  over the shot, as a log scale, measured separately in the four corners of the border; a zoom or
  dolly expands every corner alike (``agreement``), a subject walking toward the camera does not.
- ``pan``: the border's net translation per second, in frame widths (pans, tilts, tracking);
- ``residual``: the share of tracked points a similarity transform leaves unexplained (subjects
  moving); ``quality``: the share of frame pairs with enough texture to track.

Rules (defaults in :class:`MotionThresholds`): a border at least ``still`` still -> Static;
else a background zoom of at least ``zoom`` that the corners agree on, that one similarity
transform explains for most of the frame (``zoom_fit``: not a subject approaching, not parallax)
and that is not outweighed by the translation -> Push / Pull; else Motion. Confidence grows with the margin from the thresholds and
is scaled by ``quality``, so a textureless shot is never a confident answer; a temperature fitted on
held-out real shots makes it say how often the label is right. Measured on real
footage and generated camera moves in docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from ..labels import MOVEMENT_LABELS
from .base import Estimate

GRID = (24, 14)  # tracked points across and down the frame
GEOMETRY_SIDE = 180  # short side of the frames the estimate reads (analyze, predict and evaluate alike)
GEOMETRY_FRAMES = 16  # frames it reads per shot (or per clip, in predict and evaluate)


@dataclass
class MotionThresholds:
    still: float = 0.25  # share of the border that stays put: at least this, the camera is fixed
    still_px: float = 0.6  # per-pair motion below this (pixels at the 320 px work width) counts as still...
    still_source_px: float = 0.5  # ...and below this many pixels of the source (noise of small, compressed films)
    zoom: float = 0.08  # |log scale| of the background over the shot (about 8 % size change)
    agreement: float = 0.75  # share of the border's four corners whose zoom has the same sign
    zoom_fit: float = 0.4  # a zoom moves the whole picture alike: at most this share of points off one similarity
    zoom_px: float = 1.0  # a slow zoom: first frame to last, all four corners of the border moved radially
    # at least this many work pixels, more than the border drifted sideways (too slow to show between pairs)
    pan: float = 0.03  # frame widths per second (a feature for the combiner; Motion needs no threshold)
    min_points: int = 12  # fewer tracked points than this: no evidence
    work_width: int = 320  # frames are analysed at this width (small films are enlarged to it)


@dataclass
class MotionEstimate:
    label: str
    confidence: float
    probabilities: dict[str, float]
    zoom: float
    pan: float
    residual: float
    quality: float
    pairs: int
    still: float = 0.0
    agreement: float = 0.0
    ends_zoom: float = 0.0  # the border's log scale from the first frame to the last, measured directly
    ends_px: float = 0.0  # how far that zoom moved the border (work pixels) ...
    ends_shift_px: float = 0.0  # ... and how far the border drifted sideways meanwhile

    def features(self) -> list[float]:
        """The evidence as numbers, for a combiner (see shotscope.sources.fusion)."""
        return [self.zoom, abs(self.zoom), self.pan, self.residual, self.quality, self.still, self.agreement]

    def to_dict(self) -> dict:
        return asdict(self)


FEATURE_NAMES = ["zoom", "abs_zoom", "pan", "residual", "quality", "still", "agreement"]


def _gray(frame: np.ndarray, width: int) -> np.ndarray:
    g = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if g.shape[1] != width:
        shrink = g.shape[1] > width
        g = cv2.resize(g, (width, max(8, round(g.shape[0] * width / g.shape[1]))),
                       interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return g


def _grid(h: int, w: int) -> np.ndarray:
    xs, ys = np.meshgrid(np.linspace(0.04 * w, 0.96 * w, GRID[0]), np.linspace(0.05 * h, 0.95 * h, GRID[1]))
    return np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32).reshape(-1, 1, 2)


@dataclass
class PairMotion:
    still: float  # share of border points that stayed put
    shift: np.ndarray  # the border's median translation (px)
    corners: list[float]  # radial log-scale change in each corner of the border: (-x,-y), (-x,+y), (+x,-y), (+x,+y)
    outliers: float  # share of points one similarity transform leaves off by more than 1 px


def pair_motion(a: np.ndarray, b: np.ndarray, th: MotionThresholds, still_px: float | None = None) -> PairMotion | None:
    """The motion between gray frames ``a`` and ``b``; None without enough texture to track.
    ``still_px``: motion below this (work pixels) counts as still (default: ``th.still_px``)."""
    h, w = a.shape
    pts = _grid(h, w)
    lk = dict(winSize=(15, 15), maxLevel=3)
    nxt, st, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, flags=cv2.OPTFLOW_LK_GET_MIN_EIGENVALS,
                                         minEigThreshold=1e-3, **lk)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, nxt, None, **lk)
    ok = (st.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm((back - pts).reshape(-1, 2), axis=1) < 0.5)
    if ok.sum() < th.min_points:
        return None
    p, q = pts.reshape(-1, 2)[ok], nxt.reshape(-1, 2)[ok]
    flow, r = q - p, p - np.array([w / 2, h / 2])
    border = (np.abs(r[:, 0]) > 0.25 * w) | (np.abs(r[:, 1]) > 0.25 * h)
    if border.sum() < th.min_points // 2:
        border = np.ones(len(p), bool)
    shift = np.median(flow[border], 0)
    limit = (th.still_px if still_px is None else still_px) * w / th.work_width
    still = float(np.mean(np.linalg.norm(flow[border], axis=1) < limit))
    radial = ((flow - shift) * r).sum(1) / np.maximum((r**2).sum(1), 1.0)
    corners = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            m = border & (np.sign(r[:, 0]) == sx) & (np.sign(r[:, 1]) == sy)
            corners.append(float(np.median(radial[m])) if m.sum() >= 3 else float("nan"))
    _, inliers = cv2.estimateAffinePartial2D(p, q, method=cv2.RANSAC, ransacReprojThreshold=1.0)
    outliers = 1.0 - float(inliers.mean()) if inliers is not None else 1.0
    return PairMotion(still, shift, corners, outliers)


def estimate_movement(frames: np.ndarray, times: np.ndarray | None = None,
                      thresholds: MotionThresholds | None = None) -> MotionEstimate:
    """Classify the camera movement of one shot from its frames (T, H, W, 3) uint8, in time order."""
    tracked = TrackedFrames(frames, times, thresholds)
    return tracked.estimate(0, len(frames) - 1)


def movement_timeline(frames: np.ndarray, times: np.ndarray, spans: list[tuple[int, int]],
                      thresholds: MotionThresholds | None = None) -> list[MotionEstimate]:
    """The movement within stretches of one shot: for each ``(first, last)`` (indices of ``frames``)
    the estimate :func:`estimate_movement` makes of ``frames[first:last + 1]``; a pair of frames
    shared by overlapping stretches is tracked once."""
    tracked = TrackedFrames(frames, times, thresholds)
    return [tracked.estimate(first, last) for first, last in spans]


class TrackedFrames:
    """A shot's frames made gray at the work width, with the motion between neighbours tracked
    once and kept, so that any stretch of them can be judged (the whole shot, or a window of it)."""

    def __init__(self, frames: np.ndarray, times: np.ndarray | None, thresholds: MotionThresholds | None):
        self.th = th = thresholds or MotionThresholds()
        n = len(frames)
        self.times = np.arange(n, dtype=float) / 12.0 if times is None else np.asarray(times, float)
        self.gray = [_gray(f, th.work_width) for f in frames]
        self.width = self.gray[0].shape[1]
        # what counts as still, in work pixels: the work threshold, or half a source pixel when enlarged
        self.still_px = max(th.still_px, th.still_source_px * self.width / frames.shape[2])
        self._pairs: dict[int, PairMotion | None] = {}

    def pair(self, i: int) -> PairMotion | None:
        """The motion from frame ``i`` to the next (None: too little texture to track)."""
        if i not in self._pairs:
            self._pairs[i] = pair_motion(self.gray[i], self.gray[i + 1], self.th, self.still_px)
        return self._pairs[i]

    def estimate(self, first: int, last: int) -> MotionEstimate:
        """The movement over frames ``first`` to ``last`` (both included)."""
        th, times, width, gray = self.th, self.times, self.width, self.gray
        pairs, found, span = 0, [], 0.0
        for i in range(first, last):
            if times[i + 1] <= times[i]:
                continue  # repeated frame (short shot)
            pairs += 1
            motion = self.pair(i)
            if motion is not None:
                found.append(motion)
                span += times[i + 1] - times[i]
        quality = len(found) / pairs if pairs else 0.0
        if not found:
            return MotionEstimate("Static", 0.25, dict.fromkeys(MOVEMENT_LABELS, 0.25), 0.0, 0.0, 0.0, 0.0, pairs)
        still = float(np.mean([m.still for m in found]))
        # slow moves shift the border little between two samples but steadily: compare the ends too
        ends = pair_motion(gray[first], gray[last], th, 4 * self.still_px) if last > first else None
        if ends is not None:
            still = min(still, ends.still)
        # net drift, not per-pair speed: vibration cancels out, pans and tracks add up
        pan = float(np.hypot(*np.sum([m.shift for m in found], 0)) / width / span) if span > 0 else 0.0
        residual = float(np.mean([m.outliers for m in found]))
        corners = np.nansum(np.array([m.corners for m in found]), 0)  # log scale per corner over the shot
        zoom = float(np.median(corners))
        agreement = float(np.mean(np.sign(corners) == np.sign(zoom))) if zoom else 0.0
        ends_zoom, ends_px, ends_shift_px, ends_agree, ends_fit = 0.0, 0.0, 0.0, False, 1.0
        if ends is not None and not np.isnan(ends.corners).any():
            ends_zoom = float(np.median(ends.corners))
            ends_agree = bool(ends_zoom and np.all(np.sign(ends.corners) == np.sign(ends_zoom)))
            ends_px, ends_shift_px = abs(ends_zoom) * 0.35 * width, float(np.hypot(*ends.shift))
            ends_fit = ends.outliers
        evidence = MovementEvidence(still, zoom, agreement, residual, pan * span, quality,
                                    ends_zoom if ends_agree and ends_fit <= th.zoom_fit else 0.0, ends_px,
                                    ends_shift_px)
        label, probs = classify_evidence(evidence, th)
        return MotionEstimate(label, float(probs[label]), {k: round(v, 4) for k, v in probs.items()},
                              zoom, pan, residual, quality, pairs, still, agreement, round(ends_zoom, 5),
                              round(ends_px, 3), round(ends_shift_px, 3))


@dataclass(frozen=True)
class MovementEvidence:
    """What a shot's tracked frames say (see the module's docstring); ``drift``: the border's net
    translation over the shot, in frame widths."""

    still: float
    zoom: float
    agreement: float
    residual: float
    drift: float
    quality: float = 1.0
    ends_zoom: float = 0.0  # first frame to last: the border's log scale, where its corners agree and one fit explains it
    ends_px: float = 0.0  # how far it moved the border (work pixels)
    ends_shift_px: float = 0.0  # how far the border drifted sideways meanwhile


    @property
    def zoom_shift(self) -> float:
        """How far the zoom moves the border, in widths (it lies about a third of the width from the centre)."""
        return abs(self.zoom) * 0.35


# each piece of evidence scores its margin from its threshold, in these units
SCORE_UNITS = {
    "still": 0.1,  # share of the border
    "zoom": 0.5,  # of the zoom threshold
    "agreement": 0.25,  # share of the corners
    "zoom_fit": 0.1,  # share of the points
    "zoom_shift": 0.02,  # widths: the zoom's shift of the border over 0.4 of the drift
}
DRIFT_SHARE = 0.4  # a zoom must move the border at least this share of how far it drifts


def movement_scores(ev: MovementEvidence, th: MotionThresholds) -> dict[str, float]:
    """Each label's score (a logit before the quality scaling). Static: the still margin; the zoom
    score: the sum of the zoom's margins (size, agreement, fit, shift over drift); Push or Pull:
    the zoom score less one in the zoom's direction, -5 against it; Motion: the opposite of the
    still margin, less half a positive zoom score."""
    units = SCORE_UNITS
    s_still = (ev.still - th.still) / units["still"]
    s_zoom = ((abs(ev.zoom) - th.zoom) / (units["zoom"] * th.zoom) + (ev.agreement - th.agreement) / units["agreement"]
              + (th.zoom_fit - ev.residual) / units["zoom_fit"]
              + (ev.zoom_shift - DRIFT_SHARE * ev.drift) / units["zoom_shift"])
    s_slow = slow_zoom(ev, th) if abs(ev.zoom) < th.zoom else -1.0  # only where the zoom is too small for pairs
    towards = ev.zoom if s_zoom - 1.0 >= s_slow else ev.ends_zoom
    s_move = max(s_zoom - 1.0, s_slow)
    return {
        "Static": s_still - max(s_slow, 0.0),
        "Motion": -s_still - max(s_zoom, 0.0) / 2,
        "Pull": s_move if towards < 0 else -5.0,
        "Push": s_move if towards > 0 else -5.0,
    }


def slow_zoom(ev: MovementEvidence, th: MotionThresholds) -> float:
    """> 0 for a zoom seen from the first frame to the last (its corners agree, one similarity explains
    it) that moved the border at least ``zoom_px`` work pixels and more than the border drifted
    sideways: its margin, in pixels; <= 0 otherwise."""
    if not ev.ends_zoom:
        return -1.0
    return min(ev.ends_px - th.zoom_px, ev.ends_px - ev.ends_shift_px)


def decide_movement(ev: MovementEvidence, th: MotionThresholds) -> str:
    """The rules: a slow zoom seen end to end -> Push / Pull; a still border -> Static; a zoom that
    passes every threshold -> Push / Pull; else Motion."""
    if abs(ev.zoom) < th.zoom and slow_zoom(ev, th) > 0:  # too slow to show between two samples: seen end to end
        return "Push" if ev.ends_zoom > 0 else "Pull"
    if ev.still >= th.still:
        return "Static"
    if (abs(ev.zoom) >= th.zoom and ev.agreement >= th.agreement and ev.residual <= th.zoom_fit
            and ev.zoom_shift >= DRIFT_SHARE * ev.drift):
        return "Push" if ev.zoom > 0 else "Pull"
    return "Motion"


# the scores are margins in threshold units, not log-odds: divided by this, their softmax says how
# often the label is right. Fitted (negative log-likelihood) on 78 hand-labelled real shots, leaving
# out one source or one stretch of the development set at a time: 1.86-2.25 in every fold, 2.04 on
# all; expected calibration error 0.12 -> 0.06 on the shots left out (benchmarks/motion.py)
TEMPERATURE = 2.0


def classify_evidence(ev: MovementEvidence, th: MotionThresholds) -> tuple[str, dict[str, float]]:
    """The rule's label and the probabilities: a softmax of the scores (clipped to +-20) scaled by
    the quality and divided by :data:`TEMPERATURE`, with the label's made the largest (it swaps
    places with the top one)."""
    label = decide_movement(ev, th)
    scores = movement_scores(ev, th)
    logits = np.clip(np.array([scores[k] for k in MOVEMENT_LABELS]), -20, 20) * ev.quality / TEMPERATURE
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    chosen, top = MOVEMENT_LABELS.index(label), int(probs.argmax())
    probs[[chosen, top]] = probs[[top, chosen]]  # the rule's answer is the most probable one
    return label, dict(zip(MOVEMENT_LABELS, probs.tolist(), strict=True))


class GeometrySource:
    """Camera movement from the picture (:func:`estimate_movement`), as a label source."""

    name, tasks, frames, side = "geometry", ("movement",), GEOMETRY_FRAMES, GEOMETRY_SIDE

    def estimate(self, frames: np.ndarray, times: np.ndarray):
        return self._answer(estimate_movement(frames, times))

    def timeline(self, frames: np.ndarray, times: np.ndarray, spans: list[tuple[int, int]]):
        """Its answers for stretches of the shot (:func:`movement_timeline`)."""
        return [self._answer(est) for est in movement_timeline(frames, times, spans)]

    @staticmethod
    def _answer(est: MotionEstimate) -> dict[str, Estimate]:
        return {"movement": Estimate("movement", "geometry", dict(est.probabilities), est.to_dict())}
