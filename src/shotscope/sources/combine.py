"""The one place where the sources' answers become a shot's labels: each task from the source the
settings chose (:mod:`shotscope.sources.selection`), or, for movement, the network and geometry
combined by the model's fitted combiner (:class:`shotscope.sources.fusion.MovementFusion`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..labels import MOVEMENT_LABELS
from .base import Estimate


def fused_movement(fusion: Any, network: Estimate, geometry: Estimate) -> Estimate:
    """The combiner's movement from the network's probabilities and the geometric evidence."""
    from .geometry import MotionEstimate

    net = np.array([network.probabilities.get(k, 0.0) for k in MOVEMENT_LABELS])
    probs = fusion.combine(net, MotionEstimate(**geometry.evidence))
    return Estimate("movement", "fused", dict(zip(MOVEMENT_LABELS, probs.tolist(), strict=True)), geometry.evidence)


def choose(task: str, source: str, answers: dict[str, Estimate], fusion: Any = None) -> Estimate | None:
    """The answer for ``task`` from ``source`` ("model", "geometry", "people" or "fused") among the
    sources' ``answers`` (by source name); None when that source gave none."""
    if source == "fused":
        if "model" not in answers or "geometry" not in answers:
            return None
        return fused_movement(fusion, answers["model"], answers["geometry"])
    return answers.get(source)
