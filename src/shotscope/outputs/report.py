"""report.html: one self-contained page per film, from the web app's Jinja2 templates (autoescape).

The film plays in the page (referenced by a relative path, so the report works offline beside the
archive) and the current shot is highlighted as it plays; a click on a shot plays it from its first
frame to its end; a sortable, filterable shot table shows each shot's first and last frame side by
side; charts have time axes and timecodes, and labels absent from the film are left out.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from urllib.parse import quote

import numpy as np

from ..analysis.results import FilmAnalysis
from ..views.charts import MOVEMENT_COLOURS, SCALE_COLOURS, axis  # noqa: F401 - the palettes, re-exported


def _data_uri(picture: bytes | None) -> str:
    return "data:image/webp;base64," + base64.b64encode(picture).decode() if picture else ""


def _length_histogram(film: FilmAnalysis, bins: int = 12) -> str:
    """Shot lengths (seconds) as an SVG histogram, with the average and median marked."""
    lengths = np.array([s.duration for s in film.shots])
    if lengths.size == 0:
        return ""
    top = max(float(np.percentile(lengths, 95)), 1e-3)
    counts, edges = np.histogram(np.minimum(lengths, top), bins=bins, range=(0, top))
    peak = max(int(counts.max()), 1)
    bars = "".join(
        f'<rect x="{i * 100 / bins + 0.3:.2f}" y="{100 - 90 * c / peak:.2f}" width="{100 / bins - 0.6:.2f}" '
        f'height="{90 * c / peak:.2f}" fill="#577590"><title>{edges[i]:.1f}-{edges[i + 1]:.1f} s: {c} shots</title></rect>'
        for i, c in enumerate(counts))
    marks = "".join(
        f'<line x1="{100 * min(v, top) / top:.2f}" x2="{100 * min(v, top) / top:.2f}" y1="0" y2="100" '
        f'stroke="{colour}" stroke-width="2" vector-effect="non-scaling-stroke"><title>{name} {v:.2f} s</title></line>'
        for name, v, colour in (("average", lengths.mean(), "#c9184a"), ("median", np.median(lengths), "#f77f00")))
    return (f'<svg viewBox="0 -2 100 104" preserveAspectRatio="none" class="time">{bars}{marks}</svg>'
            + axis([(e / top, f"{e:.1f} s") for e in edges[:: max(1, bins // 6)]]) +
            f'<div class="axis">shot length in seconds (x), shots (y, tallest bar {peak}); longer than {top:.1f} s '
            f'in the last bar · <span style="color:#c9184a">average</span> · '
            f'<span style="color:#f77f00">median</span></div>')


def _model_name(model: dict) -> str:
    """The model as people name it: its hub id or folder name, not a machine's path."""
    name = model.get("name") or model.get("source")
    if not name:
        return "no model"
    name = str(name)
    return f"model {name if not Path(name).is_absolute() else Path(name).name}"


def _movement_phrase(shots) -> str:
    source = shots[0].movement_source if shots else None
    return {"model": "from the network", "geometry": "from the picture's geometry",
            "fused": "from the network and the geometry combined"}.get(source, "-")


def _scale_phrase(shots) -> str:
    source = next((s.scale_source for s in shots if s.scale_source), None)
    return {"model": "from the network", "people": "from the people in the frame"}.get(source, "not labelled")


def video_link(film_path: str | os.PathLike, report_dir: str | os.PathLike | None) -> str:
    """The film as the report's player finds it: a path relative to the report's folder (URL-quoted),
    so the report keeps working offline and when the archive moves with its films."""
    film = Path(film_path).absolute()
    if report_dir is None:
        return film.as_uri()
    try:
        rel = os.path.relpath(film, Path(report_dir).absolute())
    except ValueError:  # another drive (Windows)
        return film.as_uri()
    return quote(Path(rel).as_posix())


def report_html(film: FilmAnalysis, report_dir: str | os.PathLike | None = None,
                frames: list[dict[str, bytes]] | None = None) -> str:
    """The report of one analysed film (``report_dir``: where it will be written, for the player's
    link; ``frames``: each shot's pictures as :func:`.frames.shot_frames` makes them, when made already)."""
    from ..analysis.statistics import film_statistics
    from ..views import charts
    from ..views.templating import environment, static_text
    from .frames import shot_frames
    from .timelines import timecode

    if frames is None:
        frames = [shot_frames(s) for s in film.shots]
    shots = []
    for s, pictures in zip(film.shots, frames, strict=True):
        probs = [p for p in (s.scale_prob, s.movement_prob) if p is not None]
        shots.append({
            "shot": s.index, "start_time": s.start_time, "end_time": s.end_time, "duration": s.duration,
            "scale": s.scale, "scale_prob": s.scale_prob, "movement": s.movement, "movement_prob": s.movement_prob,
            "scale_probs": s.scale_probs, "movement_probs": s.movement_probs, "motion": s.motion,
            "timeline": s.timeline,
            "short": s.short, "timecode": timecode(s.start_frame, film.fps), "confidence": min(probs, default=1.0),
            "low": bool(probs) and min(probs) < charts.LOW_CONFIDENCE,
            "first": _data_uri(pictures.get("first")), "last": _data_uri(pictures.get("last"))})
    total = film.duration
    context = {
        "name": Path(film.path).name, "shots": shots, "duration": film.duration, "fps": film.fps,
        "stats": film_statistics(film), "model_name": _model_name(film.metadata.get("model") or {}),
        "movement_phrase": _movement_phrase(film.shots), "scale_phrase": _scale_phrase(film.shots),
        "integrity_summary": (film.metadata.get("integrity") or {}).get("summary"),
        # the film beside the report first (moved together), else where it was analysed (a report mailed)
        "video_src": video_link(film.path, report_dir), "video_uri": Path(film.path).absolute().as_uri(), **charts.film_charts(shots, total),
        "histogram": _length_histogram(film),
        "data": {"film": None, "fps": film.fps,
                 "shots": [{k: s[k] for k in ("shot", "start_time", "end_time", "scale", "movement")} for s in shots]},
        "css": static_text("app.css"), "js": static_text("app.js"),
    }
    return environment().get_template("report.html").render(**context)
