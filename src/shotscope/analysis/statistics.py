"""Film statistics scholars report (Cinemetrics-style): shot lengths, label shares by count and time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..labels import MOVEMENT_LABELS, SCALE_LABELS
from .results import FilmAnalysis


def label_shares(shots: Sequence[Any], attr: str, labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per label of ``attr`` (scale or movement): shots, share of the labelled shots, seconds, share
    of the film's time, average shot length. ``shots``: anything with ``duration`` and ``attr``."""
    total = sum(s.duration for s in shots) or 1.0
    labelled = [s for s in shots if getattr(s, attr)]
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
    """Shot count, average / median / min / max shot length (seconds), their spread (SD, CV, MSL/ASL,
    range), and per-label shares."""
    lengths = np.array([s.duration for s in film.shots]) if film.shots else np.zeros(1)
    return {
        "shots": len(film.shots),
        "duration": round(film.duration, 3),
        "average_shot_length": round(float(lengths.mean()), 3),
        "median_shot_length": round(float(np.median(lengths)), 3),
        "shortest_shot": round(float(lengths.min()), 3),
        "longest_shot": round(float(lengths.max()), 3),
        # Cinemetrics' figures of the spread: standard deviation, its ratio to the mean (CV), the
        # median over the mean (MSL/ASL: how skewed by long takes), and the range
        "shot_length_sd": round(float(lengths.std()), 3),
        "shot_length_cv": round(float(lengths.std() / lengths.mean()), 4) if lengths.mean() > 0 else None,
        "msl_asl": round(float(np.median(lengths) / lengths.mean()), 4) if lengths.mean() > 0 else None,
        "shot_length_range": round(float(lengths.max() - lengths.min()), 3),
        "short_shots": sum(s.short for s in film.shots),
        "scale": label_shares(film.shots, "scale", SCALE_LABELS),
        "movement": label_shares(film.shots, "movement", MOVEMENT_LABELS),
    }
