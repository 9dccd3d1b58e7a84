"""The probability timeline within each shot: what the label sources say in windows every ``step``
seconds (0.5 s by default, as TIB-AV-A scores), so a user sees where a push starts, a cut the
detector missed (the scale changes mid-shot), or a stretch the sources are unsure of.

Each window is ``max(2 * step, 1 s)`` wide, centred on its point and cut to the shot. Geometry
reads three frames of each window, a step apart (of the frames analyze kept for the shot: those
nearest the windows' centres; a pair shared by neighbouring windows is tracked once); the network, only when asked (``timeline_network``: a clip
a window, so as many clips as half-seconds of film), reads a clip of its own frames in each. The
people in the frame, where the scale comes from them and only when asked (``timeline_people``:
a frame a window costs more than decoding it), are searched in the middle frame of each window. A task's timeline comes from the
source its label came from (for the fused movement, the combiner on each window's answers), or,
where that source has no windows, from one that has (recorded in ``source``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..sources.base import Estimate
from ..sources.combine import choose


def window_spans(start: float, end: float, step: float) -> list[tuple[float, float, float]]:
    """(centre, first, last) seconds of each window of a shot [start, end): a centre every ``step``
    from ``start + step / 2``, the window ``max(2 * step, 1)`` wide around it, cut to the shot; a
    shot shorter than ``step`` has one window, the whole shot, centred on its middle."""
    duration = end - start
    if step <= 0 or duration <= 0:
        return []
    half = max(step, 0.5)
    count = max(1, int(np.floor(duration / step + 1e-9)))
    centres = [start + step / 2 + k * step for k in range(count)] if duration >= step else [start + duration / 2]
    return [(c, max(start, c - half), min(end, c + half)) for c in centres]


def nearest(times: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The index of the frame whose time is nearest each wanted time (``times`` ascending)."""
    right = np.clip(np.searchsorted(times, wanted), 1, max(len(times) - 1, 1))
    left = right - 1
    pick_left = np.abs(wanted - times[left]) <= np.abs(times[np.minimum(right, len(times) - 1)] - wanted)
    return np.where(pick_left, left, right).clip(0, len(times) - 1)


def window_frames(times: np.ndarray, windows: Sequence[tuple[float, float, float]]
                  ) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The frames geometry reads for the windows: of the shot's kept frames (their ``times``), the
    nearest to each window's centre and to the shot's ends, each once (a window of 2 steps spans
    its neighbours' centres: three frames, a step apart); and each window's (first, last) among them."""
    if not windows:
        return np.zeros(0, int), []
    wanted = np.array([windows[0][1], *(c for c, _, _ in windows), windows[-1][2]])
    picked = np.unique(nearest(times, wanted))
    picked_times = times[picked]
    spans = []
    for _, first, last in windows:
        a = int(nearest(picked_times, np.array([first]))[0])
        b = int(nearest(picked_times, np.array([last]))[0])
        spans.append((a, max(a, b)))
    return picked, spans


def network_positions(times: np.ndarray, windows: Sequence[tuple[float, float, float]], n: int) -> list[np.ndarray]:
    """For each window, the ``n`` kept frames (indices) the network reads: spread evenly over it."""
    out = []
    for _, first, last in windows:
        wanted = first + (np.arange(n) + 0.5) * (last - first) / n
        out.append(nearest(times, wanted))
    return out


def timeline_record(centres: Sequence[float], answers: Sequence[dict[str, dict[str, Estimate]]],
                    chosen: dict[str, str], fusion: Any = None) -> dict[str, Any] | None:
    """shots.json's ``timeline`` of a shot: the windows' centres (seconds of the film) and, for each
    task, the source and each label's probability at every centre (lists, 3 places); None when no
    task has windows. ``chosen``: the source each task's label came from (``settings``)."""
    if not centres or not answers:
        return None
    out: dict[str, Any] = {"times": [round(float(c), 3) for c in centres]}
    for task, source in chosen.items():
        # movement from the network alone, or fused, without the network's windows: geometry's
        fallback = ("geometry",) if task == "movement" and source in ("model", "fused") else ()
        for candidate in (source, *fallback):
            picked = [choose(task, candidate, a[task], fusion) for a in answers]
            if all(p is not None for p in picked):
                out[task] = {"source": candidate,
                             "probs": {k: [round(float(p.probabilities.get(k, 0.0)), 3) for p in picked]
                                       for k in picked[0].probabilities}}
                break
    return out if len(out) > 1 else None
