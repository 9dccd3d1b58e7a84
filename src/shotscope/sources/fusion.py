"""A small calibrated combiner of the network's movement probabilities and the geometric evidence.

Multinomial logistic regression on [log p_network (4), log p_geometry (4), geometry features (7)], fitted on
validation clips (:func:`shotscope.training.fusion.fit_fusion`) and saved beside the model as
``movement_fusion.json`` (plain numbers, no pickle). It answers in shotscope's label order.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelLoadError
from ..files import atomic_write_text
from ..labels import MOVEMENT_LABELS
from .geometry import FEATURE_NAMES, TEMPERATURE, MotionEstimate

FUSION_FILE = "movement_fusion.json"
FEATURES = [f"log_p_network_{k}" for k in MOVEMENT_LABELS] + [f"log_p_geometry_{k}" for k in MOVEMENT_LABELS] + \
    FEATURE_NAMES


def _features(network_probs: np.ndarray, est: MotionEstimate) -> np.ndarray:
    # the geometry's probabilities before its temperature (what combiners were fitted on before it came)
    geo = np.array([est.probabilities[k] for k in MOVEMENT_LABELS]) ** TEMPERATURE
    geo = geo / geo.sum()
    return np.concatenate([np.log(np.clip(network_probs, 1e-6, 1.0)), np.log(np.clip(geo, 1e-6, 1.0)),
                           est.features()])


@dataclass
class MovementFusion:
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, network_probs: np.ndarray, estimates: list[MotionEstimate], labels: np.ndarray,
            num_classes: int = 4) -> MovementFusion:
        from sklearn.linear_model import LogisticRegression

        x = np.stack([_features(p, e) for p, e in zip(network_probs, estimates, strict=True)])
        mean, scale = x.mean(0), x.std(0) + 1e-6
        clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
        clf.fit((x - mean) / scale, labels)
        coef = np.zeros((num_classes, x.shape[1]))
        intercept = np.full(num_classes, -1e3)
        for row, cls_id in enumerate(clf.classes_):
            if len(clf.classes_) == 2:  # binary: sklearn keeps one row, the logit of the second class
                coef[cls_id] = clf.coef_[0] if row else 0.0  # softmax(z, 0) = sigmoid(z), as sklearn's
                intercept[cls_id] = clf.intercept_[0] if row else 0.0
            else:
                coef[cls_id], intercept[cls_id] = clf.coef_[row], clf.intercept_[row]
        return cls(coef, intercept, mean, scale)

    def combine(self, network_probs: np.ndarray, est: MotionEstimate) -> np.ndarray:
        z = self.coef @ ((_features(network_probs, est) - self.mean) / self.scale) + self.intercept
        p = np.exp(z - z.max())
        return p / p.sum()

    def to_dict(self) -> dict:
        return {"features": FEATURES, **{k: getattr(self, k).tolist() for k in ("coef", "intercept", "mean", "scale")}}

    def save(self, directory: str | os.PathLike) -> Path:
        path = Path(directory) / FUSION_FILE
        atomic_write_text(path, json.dumps(self.to_dict()))
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike) -> MovementFusion | None:
        path = Path(directory) / FUSION_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            fusion = cls(*(np.asarray(data[k], float) for k in ("coef", "intercept", "mean", "scale")))
            if not all(np.isfinite(getattr(fusion, k)).all() for k in ("coef", "intercept", "mean", "scale")):
                raise ValueError("values must be finite numbers")
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise ModelLoadError(f"{path}: not a valid movement combiner ({exc})") from None
        shapes = (fusion.coef.shape, fusion.intercept.shape, fusion.mean.shape, fusion.scale.shape)
        wanted = ((len(MOVEMENT_LABELS), len(FEATURES)), (len(MOVEMENT_LABELS),), (len(FEATURES),), (len(FEATURES),))
        if data.get("features") != FEATURES or shapes != wanted:
            raise ModelLoadError(f"{path}: fitted on other features than this shotscope computes; "
                                 "fit it again with `shotscope fit-fusion`")
        return fusion
