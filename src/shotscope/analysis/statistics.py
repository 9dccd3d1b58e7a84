"""Film statistics scholars report (Cinemetrics-style): shot lengths, label shares by count and time."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..labels import MOVEMENT_LABELS, SCALE_LABELS
from .film import FilmAnalysis


def _shares(film: FilmAnalysis, attr: str, labels: tuple[str, ...]) -> dict[str, dict[str, float]]:
    total = sum(s.duration for s in film.shots) or 1.0
    labelled = [s for s in film.shots if getattr(s, attr)]
    n = len(labelled) or 1
    out = {}
    for k in labels:
        mine = [s for s in labelled if getattr(s, attr) == k]
        out[k] = {"shots": len(mine), "share_of_shots": round(len(mine) / n, 4),
                  "seconds": round(sum(s.duration for s in mine), 3),
                  "share_of_time": round(sum(s.duration for s in mine) / total, 4),
                  "average_shot_length": round(float(np.mean([s.duration for s in mine])), 3) if mine else None}
    return out


def film_statistics(film: FilmAnalysis) -> dict[str, Any]:
    """Shot count, average / median / min / max shot length (seconds), and per-label shares."""
    lengths = np.array([s.duration for s in film.shots]) if film.shots else np.zeros(1)
    return {
        "shots": len(film.shots),
        "duration": round(film.duration, 3),
        "average_shot_length": round(float(lengths.mean()), 3),
        "median_shot_length": round(float(np.median(lengths)), 3),
        "shortest_shot": round(float(lengths.min()), 3),
        "longest_shot": round(float(lengths.max()), 3),
        "short_shots": sum(s.short for s in film.shots),
        "scale": _shares(film, "scale", SCALE_LABELS),
        "movement": _shares(film, "movement", MOVEMENT_LABELS),
    }
