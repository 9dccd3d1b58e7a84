"""What every label source gives for a shot, and the one interface they share.

A source reads a shot's frames (those analyze already decoded: ``frames`` of them at a short side
of ``side`` pixels) and answers one or more tasks, each answer an :class:`Estimate`: a label, a
probability per label in shotscope's order (:data:`shotscope.labels.SCALE_LABELS`,
:data:`MOVEMENT_LABELS`) and the evidence it read. The network is the one source that runs in
batches (:class:`shotscope.sources.network.NetworkSource`); geometry and people are per shot.
:mod:`shotscope.sources.combine` makes the label of each task from the sources' answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

TASKS = ("scale", "movement")


@dataclass
class Estimate:
    """One source's answer for one task of one shot."""

    task: str
    source: str  # "model", "geometry", "people", or "fused" for a combiner's
    probabilities: dict[str, float]  # every label of the task, in shotscope's order
    evidence: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return max(self.probabilities, key=self.probabilities.get)

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.label])

    def rounded(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in self.probabilities.items()}


class ShotSource(Protocol):
    """A source that reads one shot's frames at a time."""

    name: str
    tasks: tuple[str, ...]
    frames: int  # how many frames of the shot it reads (spread evenly over it)
    side: int  # their short side, in pixels

    def estimate(self, frames: np.ndarray, times: np.ndarray) -> dict[str, Estimate]:
        """Its answers for the shot: ``frames`` (T, H, W, 3) uint8 in time order, ``times`` in seconds."""
        ...


class TimelineSource(ShotSource, Protocol):
    """A source that can also judge stretches of a shot for its probability timeline
    (:mod:`shotscope.analysis.timeline`): cheap enough to run every half second."""

    def timeline(self, frames: np.ndarray, times: np.ndarray, spans: list[tuple[int, int]]
                 ) -> list[dict[str, Estimate]]:
        """Its answers for each ``(first, last)`` stretch of ``frames`` (indices, both included)."""
        ...
