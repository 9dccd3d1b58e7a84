"""Camera movement from geometry: no training, thresholds documented and tunable.

Between sampled frames of a shot, corners are tracked (Lucas-Kanade optical flow) and a
similarity transform is fitted with RANSAC. Over the shot this gives:

- ``zoom``: total log scale change (> 0: the picture grows, the camera pushes in);
- ``pan``: net translation per second as a fraction of the frame width;
- ``residual``: fraction of tracked points that the camera model does not explain
  (subjects moving inside the frame);
- ``quality``: how much there was to track (0 with no texture).

Rules (defaults in :class:`MotionThresholds`): |zoom| above ``zoom`` -> Push / Pull;
else pan above ``pan`` -> Motion; else Static. Confidence grows with the margin from the
thresholds and is scaled by ``quality``, so a textureless shot is never a confident answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .labels import MOVEMENT_LABELS


@dataclass
class MotionThresholds:
    zoom: float = 0.08  # |log scale| over the shot (about 8 % size change)
    pan: float = 0.03  # frame widths per second
    min_points: int = 12  # fewer tracked points than this: no evidence
    work_width: int = 320  # frames are analysed at this width


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

    def features(self) -> list[float]:
        """The evidence as numbers, for a combiner (see shotscope.fusion)."""
        return [self.zoom, abs(self.zoom), self.pan, self.residual, self.quality]

    def to_dict(self) -> dict:
        return asdict(self)


def _gray(frame: np.ndarray, width: int) -> np.ndarray:
    g = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if g.shape[1] > width:
        g = cv2.resize(g, (width, round(g.shape[0] * width / g.shape[1])), interpolation=cv2.INTER_AREA)
    return g


def pair_motion(a: np.ndarray, b: np.ndarray, min_points: int) -> tuple[float, float, float, float, int] | None:
    """(log scale, tx, ty, outlier fraction, points) from gray frame ``a`` to ``b``; None without texture."""
    pts = cv2.goodFeaturesToTrack(a, maxCorners=300, qualityLevel=0.01, minDistance=6, blockSize=5)
    if pts is None or len(pts) < min_points:
        return None
    nxt, status, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, winSize=(21, 21), maxLevel=3)
    ok = status.ravel() == 1
    if ok.sum() < min_points:
        return None
    src, dst = pts[ok].reshape(-1, 2), nxt[ok].reshape(-1, 2)
    m, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=1.0)
    if m is None:
        return None
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    # translation of the frame centre (not of the origin), so a zoom about the centre is not a pan
    h, w = a.shape
    c = np.array([w / 2, h / 2])
    moved = m[:, :2] @ c + m[:, 2] - c
    outliers = 1.0 - float(inliers.mean()) if inliers is not None else 1.0
    return np.log(max(scale, 1e-6)), float(moved[0]), float(moved[1]), outliers, int(ok.sum())


def estimate_movement(frames: np.ndarray, times: np.ndarray | None = None,
                      thresholds: MotionThresholds | None = None) -> MotionEstimate:
    """Classify the camera movement of one shot from its frames (T, H, W, 3) uint8, in time order."""
    th = thresholds or MotionThresholds()
    n = len(frames)
    times = np.arange(n, dtype=float) / 12.0 if times is None else np.asarray(times, float)
    gray = [_gray(f, th.work_width) for f in frames]
    width = gray[0].shape[1]
    log_scale, shift, outliers, good, pairs = 0.0, np.zeros(2), [], 0, 0
    span = 0.0
    for i in range(n - 1):
        if times[i + 1] <= times[i]:
            continue  # repeated frame (short shot)
        pairs += 1
        r = pair_motion(gray[i], gray[i + 1], th.min_points)
        if r is None:
            continue
        ls, tx, ty, out, _ = r
        good += 1
        log_scale += ls
        shift += (tx, ty)
        span += times[i + 1] - times[i]
        outliers.append(out)
    quality = good / pairs if pairs else 0.0
    # net drift, not per-pair speed: vibration cancels out, pans and tracks add up
    pan = float(np.hypot(*shift) / width / span) if span > 0 else 0.0
    residual = float(np.mean(outliers)) if outliers else 0.0
    zoom = float(log_scale)
    # evidence scores in threshold units; softmax-like probabilities
    z, p = abs(zoom) / th.zoom, pan / th.pan
    scores = {
        "Static": 1.0 - max(z, p),
        "Motion": p - max(z, 1.0) + 1.0 if p > z else p - z,
        "Pull": z if zoom < 0 else -z,
        "Push": z if zoom > 0 else -z,
    }
    if quality == 0:
        scores = dict.fromkeys(MOVEMENT_LABELS, 0.0)
    logits = np.array([scores[k] for k in MOVEMENT_LABELS]) * 4.0 * quality
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    if z >= 1.0 and z >= p * 0.5:
        label = "Push" if zoom > 0 else "Pull"
    elif p >= 1.0:
        label = "Motion"
    else:
        label = "Static"
    confidence = float(probs[MOVEMENT_LABELS.index(label)]) if quality > 0 else 0.25
    return MotionEstimate(label, confidence, dict(zip(MOVEMENT_LABELS, probs.round(4).tolist(), strict=True)),
                          zoom, pan, residual, quality, pairs)
