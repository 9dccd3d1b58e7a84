"""People and their poses in a frame: MediaPipe's BlazePose and BlazeFace run with OpenVINO.

BlazePose (Bazarevsky et al., 2020) finds a person in two steps: a detector gives, per person, the
middle of the hips and a point on the circle around the whole body (it is trained to predict
that circle from the visible part, so a person cut off at the waist still gets one); a crop
aligned on that circle then goes through the landmark model, which places 33 points (nose, eyes,
shoulders, elbows, ..., hips, knees, ankles, feet) with a visibility each, also for points
outside the frame. BlazeFace's full-range model finds faces down to a few pixels. OpenVINO reads
the ``.tflite`` files directly (:mod:`shotscope.sources.pose_models` says where they come from).

Coordinates are in frame heights from the frame's top left (x up to the frame's width/height).
The decoding follows MediaPipe's graphs (``pose_detection_cpu.pbtxt``,
``face_detection_full_range.pbtxt``): SSD anchors, sigmoid scores, non-maximum suppression.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..errors import ModelLoadError
from .pose_models import FETCH_HINT, model_paths, models_dir

# the 33 landmarks' indices that tell how much of a body is in frame (MediaPipe's order)
NOSE, SHOULDERS, HIPS, KNEES, ANKLES = (0,), (11, 12), (23, 24), (25, 26), (27, 28)
PERSON_LEAST = 0.5  # the detector's score (MediaPipe's threshold)
POSE_LEAST = 0.5  # the landmark model's confidence that the crop holds a person
FACE_LEAST = 0.6  # BlazeFace full-range's threshold
OVERLAP = 0.3  # boxes overlapping more than this (intersection over union) are one person or face
CROP_MARGIN = 1.25  # the landmark model's crop: the body's circle, widened (MediaPipe's value)


@dataclass
class Person:
    """One person the detector found, with the landmark model's reading of their pose."""

    score: float  # the detector's
    presence: float  # the landmark model's confidence that it is a person
    size: float  # diameter of the circle around the whole body, in frame heights
    points: np.ndarray  # (33, 2): x, y of each landmark in frame heights
    visibility: np.ndarray  # (33,): how sure the model is that each landmark is visible (0-1)


def _anchors(size: int, strides: tuple[int, ...], per_layer: int) -> np.ndarray:
    """SSD anchor centres (x, y in 0-1) as MediaPipe's SsdAnchorsCalculator makes them with a fixed
    anchor size: layers of the same stride share one grid, ``per_layer`` anchors each per cell."""
    centres, i = [], 0
    while i < len(strides):
        stride, count = strides[i], 0
        while i < len(strides) and strides[i] == stride:
            count += per_layer
            i += 1
        cells = math.ceil(size / stride)
        grid = (np.arange(cells) + 0.5) / cells
        xs, ys = np.meshgrid(grid, grid)
        centres.append(np.repeat(np.stack([xs.ravel(), ys.ravel()], 1), count, axis=0))
    return np.concatenate(centres).astype(np.float32)


POSE_INPUT, FACE_INPUT, LANDMARK_INPUT = 224, 192, 256
POSE_ANCHORS = _anchors(POSE_INPUT, (8, 16, 32, 32, 32), 2)  # 2254
FACE_ANCHORS = _anchors(FACE_INPUT, (4,), 1)  # 2304


def _letterbox(rgb: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """The frame padded to a square (black bars) and resized to ``size``; the square's side and the
    frame's offset in it, to map detections back."""
    h, w = rgb.shape[:2]
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    square = cv2.copyMakeBorder(np.ascontiguousarray(rgb), top, side - h - top, left, side - w - left,
                                cv2.BORDER_CONSTANT, value=(0, 0, 0))
    small = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)
    return small, float(side), float(left), float(top)


@lru_cache(maxsize=4)
def _compiled(folder: str) -> dict:
    try:
        import openvino as ov
    except ImportError:
        raise ModelLoadError("the people in the frame are read with OpenVINO: pip install 'shotscope[people]'") from None
    paths = model_paths(folder)
    if paths is None:
        raise ModelLoadError(f"{folder}: MediaPipe's pose and face models are not there: "
                             f"run `{FETCH_HINT}` once (it takes them from the mediapipe wheel)")
    core = ov.Core()
    # f32 everywhere (the same answers on every CPU); one thread: the models are small and the
    # estimate runs beside decoding
    config = {"INFERENCE_NUM_THREADS": 1, "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
    return {name: core.compile_model(core.read_model(str(path)), "CPU", config) for name, path in paths.items()}


class PoseDetector:
    """BlazePose and BlazeFace, compiled once per process; each detector has its own inference
    requests (one per thread: :func:`pose_detector`)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        compiled = _compiled(str(Path(folder) if folder is not None else models_dir()))
        self._requests = {name: model.create_infer_request() for name, model in compiled.items()}

    def _run(self, name: str, x: np.ndarray) -> list[np.ndarray]:
        request = self._requests[name]
        request.infer([x])
        return [request.get_output_tensor(i).data.copy() for i in range(len(request.model_outputs))]

    @staticmethod
    def _decode(reg: np.ndarray, logits: np.ndarray, anchors: np.ndarray, size: int, keypoints: int,
                least: float) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """(score, box x0 y0 x1 y1, keypoints (k, 2)), in the letterboxed square's 0-1 units."""
        score = 1.0 / (1.0 + np.exp(-np.clip(logits.ravel().astype(np.float64), -100.0, 100.0)))
        keep = np.flatnonzero(score >= least)
        if keep.size == 0:
            return []
        r, a = reg[keep] / size, anchors[keep]
        centre, half = r[:, :2] + a, r[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], 1)
        points = r[:, 4:4 + 2 * keypoints].reshape(-1, keypoints, 2) + a[:, None, :]
        xywh = [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes]
        chosen = cv2.dnn.NMSBoxes(xywh, score[keep].tolist(), least, OVERLAP)
        return [(float(score[keep][k]), boxes[k], points[k]) for k in np.ravel(chosen)]

    def _detect(self, rgb: np.ndarray, name: str, size: int, anchors: np.ndarray, keypoints: int, least: float):
        square, side, left, top = _letterbox(rgb, size)
        x = (square.astype(np.float32) / 127.5 - 1.0)[None]
        reg, logits = self._run(name, x)[:2]
        h = rgb.shape[0]

        def to_frame(p: np.ndarray) -> np.ndarray:  # square 0-1 -> frame heights
            return (p * side - np.array([left, top])) / h

        return [(s, to_frame(b.reshape(2, 2)).ravel(), to_frame(k)) for s, b, k in
                self._decode(reg[0], logits[0], anchors, size, keypoints, least)]

    def faces(self, rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Faces (x, y, w, h in frame heights), the surest first."""
        found = self._detect(rgb, "face_detection", FACE_INPUT, FACE_ANCHORS, 6, FACE_LEAST)
        return [(float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])) for _, b, _ in found]

    def people(self, rgb: np.ndarray, most: int = 3) -> list[Person]:
        """The people in a frame (the ``most`` surest detections), each with their landmarks; those
        the landmark model does not take for a person are left out."""
        found = self._detect(rgb, "pose_detection", POSE_INPUT, POSE_ANCHORS, 4, PERSON_LEAST)
        out = []
        for score, _, points in found[:most]:
            person = self._landmarks(rgb, score, points[0], points[1])
            if person.presence >= POSE_LEAST:
                out.append(person)
        return out

    def _landmarks(self, rgb: np.ndarray, score: float, hips: np.ndarray, rim: np.ndarray) -> Person:
        """The landmark model on the crop MediaPipe makes: centred on the hips, as wide as the body's
        circle (times :data:`CROP_MARGIN`), turned so the body stands upright."""
        h = rgb.shape[0]
        (cx, cy), (ex, ey) = hips * h, rim * h
        radius = math.hypot(ex - cx, ey - cy)
        angle = math.pi / 2 - math.atan2(-(ey - cy), ex - cx)  # rotation that puts the rim above the hips
        scale = 2 * radius * CROP_MARGIN / LANDMARK_INPUT
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) * max(scale, 1e-6)
        shift = np.array([cx, cy]) - rot @ np.array([LANDMARK_INPUT / 2, LANDMARK_INPUT / 2])
        to_frame = np.hstack([rot, shift[:, None]])  # crop pixel -> frame pixel
        crop = cv2.warpAffine(np.ascontiguousarray(rgb), to_frame, (LANDMARK_INPUT, LANDMARK_INPUT),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)
        outputs = self._run("pose_landmark", (crop.astype(np.float32) / 255.0)[None])
        marks = outputs[0].reshape(-1, 5)[:33]
        points = (rot @ marks[:, :2].T).T + shift
        visibility = 1.0 / (1.0 + np.exp(-np.clip(marks[:, 3], -50.0, 50.0)))
        return Person(score=score, presence=float(np.ravel(outputs[1])[0]), size=2 * radius / h,
                      points=points / h, visibility=visibility)


_LOCAL = threading.local()


def pose_detector(folder: str | Path | None = None) -> PoseDetector:
    """This thread's detector (an inference request serves one thread at a time)."""
    key = str(Path(folder) if folder is not None else models_dir())
    cached = getattr(_LOCAL, "detectors", None)
    if cached is None:
        cached = _LOCAL.detectors = {}
    if key not in cached:
        cached[key] = PoseDetector(folder)
    return cached[key]
