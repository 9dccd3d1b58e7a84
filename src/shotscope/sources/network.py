"""The network as a label source: both heads' probabilities for a batch of shots, named by the
model's own label maps and put in shotscope's order (a model may list its labels in another
order; one whose labels are other names keeps its own)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..labels import MOVEMENT_LABELS, SCALE_LABELS
from .base import Estimate

TAXONOMY = {"scale": SCALE_LABELS, "movement": MOVEMENT_LABELS}


def named(probs: np.ndarray, labels: list[str], task: str) -> dict[str, float]:
    """A head's probabilities by label, in shotscope's order when the model's labels are shotscope's."""
    given = dict(zip(labels, (float(p) for p in probs), strict=True))
    order = TAXONOMY[task]
    if set(given) <= set(order):
        return {k: given.get(k, 0.0) for k in order}
    return given


def in_order(probs: np.ndarray, labels: list[str], task: str) -> tuple[np.ndarray, list[str]]:
    """(n, classes) probabilities of a head in shotscope's order and those labels, when the model's
    labels are shotscope's (in any order); else as they are, with the model's labels."""
    order = TAXONOMY[task]
    if not set(labels) <= set(order):
        return probs, list(labels)
    out = np.zeros((len(probs), len(order)))
    for j, name in enumerate(labels):
        out[:, order.index(name)] = probs[:, j]
    return out, list(order)


class NetworkSource:
    """Both tasks from the network, in batches (see :func:`shotscope.model.inference.predict_probs`)."""

    name, tasks = "model", ("scale", "movement")

    def __init__(self, model: Any, batch_size: int = 8):
        self.model, self.batch_size = model, batch_size

    def classify(self, clips: list[np.ndarray]) -> list[dict[str, Estimate]]:
        """``clips``: each (views, T, H, W, 3) uint8; the answers of each, views averaged."""
        from ..model.inference import predict_probs

        cfg = self.model.config
        ps, pm = predict_probs(self.model, clips, self.batch_size)
        return [{"scale": Estimate("scale", "model", named(s, cfg.scale_labels, "scale")),
                 "movement": Estimate("movement", "model", named(m, cfg.movement_labels, "movement"))}
                for s, m in zip(ps, pm, strict=True)]
