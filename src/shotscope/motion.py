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
is scaled by ``quality``, so a textureless shot is never a confident answer. Measured on real
footage and generated camera moves in docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .labels import MOVEMENT_LABELS

GRID = (24, 14)  # tracked points across and down the frame


@dataclass
class MotionThresholds:
    still: float = 0.25  # share of the border that stays put: at least this, the camera is fixed
    still_px: float = 0.6  # per-pair motion below this (pixels at the 320 px work width) counts as still...
    still_source_px: float = 0.5  # ...and below this many pixels of the source (noise of small, compressed films)
    zoom: float = 0.08  # |log scale| of the background over the shot (about 8 % size change)
    agreement: float = 0.75  # share of the border's four corners whose zoom has the same sign
    zoom_fit: float = 0.4  # a zoom moves the whole picture alike: at most this share of points off one similarity
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

    def features(self) -> list[float]:
        """The evidence as numbers, for a combiner (see shotscope.fusion)."""
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
    th = thresholds or MotionThresholds()
    n = len(frames)
    times = np.arange(n, dtype=float) / 12.0 if times is None else np.asarray(times, float)
    gray = [_gray(f, th.work_width) for f in frames]
    width = gray[0].shape[1]
    # what counts as still, in work pixels: the work threshold, or half a source pixel when enlarged
    still_px = max(th.still_px, th.still_source_px * width / frames.shape[2])
    pairs, found, span = 0, [], 0.0
    for i in range(n - 1):
        if times[i + 1] <= times[i]:
            continue  # repeated frame (short shot)
        pairs += 1
        motion = pair_motion(gray[i], gray[i + 1], th, still_px)
        if motion is not None:
            found.append(motion)
            span += times[i + 1] - times[i]
    quality = len(found) / pairs if pairs else 0.0
    if not found:
        return MotionEstimate("Static", 0.25, dict.fromkeys(MOVEMENT_LABELS, 0.25), 0.0, 0.0, 0.0, 0.0, pairs)
    still = float(np.mean([m.still for m in found]))
    # slow moves shift the border little between two samples but steadily: compare the ends too
    first, last = next(i for i in range(n) if times[i] >= times[0]), n - 1
    ends = pair_motion(gray[first], gray[last], th, 4 * still_px) if last > first else None
    if ends is not None:
        still = min(still, ends.still)
    # net drift, not per-pair speed: vibration cancels out, pans and tracks add up
    pan = float(np.hypot(*np.sum([m.shift for m in found], 0)) / width / span) if span > 0 else 0.0
    residual = float(np.mean([m.outliers for m in found]))
    corners = np.nansum(np.array([m.corners for m in found]), 0)  # log scale per corner over the shot
    zoom = float(np.median(corners))
    agreement = float(np.mean(np.sign(corners) == np.sign(zoom))) if zoom else 0.0
    # how far the zoom moves the border (about a third of the width from the centre) against how far it drifts
    zoom_shift, drift = abs(zoom) * 0.35, pan * span
    # evidence in threshold units -> scores -> softmax probabilities
    s_still = (still - th.still) / 0.1
    s_zoom = ((abs(zoom) / th.zoom - 1.0) * 2.0 + (agreement - th.agreement) * 4.0 + (th.zoom_fit - residual) * 10.0
              + (zoom_shift - 0.4 * drift) / 0.02)
    scores = {
        "Static": s_still,
        "Motion": -s_still - max(s_zoom, 0.0) * 0.5,
        "Pull": s_zoom - 1.0 if zoom < 0 else -5.0,
        "Push": s_zoom - 1.0 if zoom > 0 else -5.0,
    }
    if still >= th.still:
        label = "Static"
    elif (abs(zoom) >= th.zoom and agreement >= th.agreement and residual <= th.zoom_fit
          and zoom_shift >= 0.4 * drift):
        label = "Push" if zoom > 0 else "Pull"
    else:
        label = "Motion"
    logits = np.clip(np.array([scores[k] for k in MOVEMENT_LABELS]), -20, 20) * quality
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    chosen, top = MOVEMENT_LABELS.index(label), int(probs.argmax())
    probs[[chosen, top]] = probs[[top, chosen]]  # the rule's answer is the most probable one
    confidence = float(probs[chosen])
    return MotionEstimate(label, confidence, dict(zip(MOVEMENT_LABELS, probs.round(4).tolist(), strict=True)),
                          zoom, pan, residual, quality, pairs, still, agreement)
