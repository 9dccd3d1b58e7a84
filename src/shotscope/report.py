"""report.html: one self-contained page per film (thumbnails, timelines, distributions, filters).

Every string that comes from the file system or the video is escaped.
"""

from __future__ import annotations

import base64
from collections import Counter
from html import escape
from pathlib import Path

import cv2
import numpy as np

from .analysis import FilmAnalysis
from .labels import MOVEMENT_DESCRIPTIONS, MOVEMENT_LABELS, SCALE_DESCRIPTIONS, SCALE_LABELS

SCALE_COLOURS = {"ECS": "#7b2cbf", "CS": "#c9184a", "MS": "#f77f00", "FS": "#2a9d8f", "LS": "#277da1"}
MOVEMENT_COLOURS = {"Static": "#8d99ae", "Motion": "#e9c46a", "Pull": "#3a86ff", "Push": "#ef476f"}


def _thumb(img: np.ndarray | None) -> str:
    if img is None:
        return ""
    h, w = img.shape[:2]
    small = cv2.resize(img, (160, max(1, round(h * 160 / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


def _strip(film: FilmAnalysis, attr: str, colours: dict[str, str]) -> str:
    total = max(film.duration, 1e-6)
    rects = []
    for s in film.shots:
        label = getattr(s, attr)
        x, w = 1000 * s.start_time / total, max(1000 * s.duration / total, 0.5)
        rects.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="24" fill="{colours.get(label, "#ccc")}">'
                     f"<title>shot {s.index}: {escape(str(label))}</title></rect>")
    return f'<svg viewBox="0 0 1000 24" preserveAspectRatio="none" class="strip">{"".join(rects)}</svg>'


def _legend(colours: dict[str, str], descriptions: dict[str, str]) -> str:
    return "".join(f'<span class="key" title="{escape(descriptions[k])}"><i style="background:{c}"></i>{k}</span>'
                   for k, c in colours.items())


def _bars(counts: Counter, labels: tuple[str, ...], colours: dict[str, str]) -> str:
    total = max(sum(counts.values()), 1)
    rows = []
    for k in labels:
        pct = 100 * counts.get(k, 0) / total
        rows.append(f'<div class="bar"><span>{k}</span><i style="width:{0.7 * pct:.1f}%;background:{colours[k]}"></i>'
                    f"<b>{counts.get(k, 0)} ({pct:.0f}%)</b></div>")
    return "".join(rows)


def _over_time(film: FilmAnalysis, attr: str, labels: tuple[str, ...], colours: dict[str, str], bins: int = 10) -> str:
    """Share of screen time per label in each tenth of the film (stacked columns)."""
    total = max(film.duration, 1e-6)
    share = np.zeros((bins, len(labels)))
    for s in film.shots:
        label = getattr(s, attr)
        if label not in labels:
            continue
        for b in range(bins):
            lo, hi = b * total / bins, (b + 1) * total / bins
            share[b, labels.index(label)] += max(0.0, min(hi, s.end_time) - max(lo, s.start_time))
    share /= np.maximum(share.sum(1, keepdims=True), 1e-9)
    cols = []
    for b in range(bins):
        y = 0.0
        for j, k in enumerate(labels):
            hgt = 100 * share[b, j]
            cols.append(f'<rect x="{b * 10 + 0.5}" y="{y:.2f}" width="9" height="{hgt:.2f}" fill="{colours[k]}"/>')
            y += hgt
    return f'<svg viewBox="0 0 100 100" preserveAspectRatio="none" class="time">{"".join(cols)}</svg>'


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
        f'stroke="{colour}" stroke-width="0.6"><title>{name} {v:.2f} s</title></line>'
        for name, v, colour in (("average", lengths.mean(), "#c9184a"), ("median", np.median(lengths), "#f77f00")))
    return (f'<svg viewBox="0 0 100 100" preserveAspectRatio="none" class="time">{bars}{marks}</svg>'
            f'<div class="axis">0 s … {top:.1f} s (longer shots in the last bar) · '
            f'<span style="color:#c9184a">average</span> · <span style="color:#f77f00">median</span></div>')


def report_html(film: FilmAnalysis) -> str:
    from .statistics import film_statistics

    name = escape(Path(film.path).name)
    shots = film.shots
    stats = film_statistics(film)
    scale_counts = Counter(s.scale for s in shots if s.scale)
    move_counts = Counter(s.movement for s in shots if s.movement)
    cards = []
    for s in shots:
        sp = f"{s.scale_prob:.2f}" if s.scale_prob is not None else "-"
        mp = f"{s.movement_prob:.2f}" if s.movement_prob is not None else "-"
        cards.append(
            f'<div class="shot" data-scale="{escape(str(s.scale))}" data-movement="{escape(str(s.movement))}">'
            f'<img src="{_thumb(s.thumbnail)}" alt="shot {s.index}"><div>#{s.index} '
            f"{s.start_time:.2f}-{s.end_time:.2f}s{' <em>short</em>' if s.short else ''}<br>"
            f'<b style="color:{SCALE_COLOURS.get(s.scale, "#333")}">{escape(str(s.scale or "-"))}</b> {sp} · '
            f'<b style="color:{MOVEMENT_COLOURS.get(s.movement, "#333")}">{escape(str(s.movement or "-"))}</b> {mp}'
            "</div></div>")
    model = film.metadata.get("model") or {}
    options = lambda labels: "".join(f"<option>{k}</option>" for k in labels)  # noqa: E731
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>shotscope: {name}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}} h1{{font-size:1.4em}}
.strip{{width:100%;height:24px;display:block;margin:4px 0 12px}} .time{{width:100%;height:120px}}
.grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}}
.shot{{font-size:12px}} .shot img{{width:160px;display:block}} .bar{{display:flex;align-items:center;gap:6px}}
.bar span{{width:4em}} .bar b{{white-space:nowrap}} .bar i{{display:inline-block;height:12px}} .cols{{display:flex;gap:3em;flex-wrap:wrap}}
.cols>div{{min-width:280px;flex:1}} .key{{margin-right:1em;font-size:13px}}
.key i{{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}}
.axis{{font-size:12px;color:#555}}
</style></head><body>
<h1>{name}</h1>
<p>{len(shots)} shots · {film.duration:.1f} s · average shot length {stats["average_shot_length"]:.2f} s ·
median {stats["median_shot_length"]:.2f} s (shortest {stats["shortest_shot"]:.2f}, longest {stats["longest_shot"]:.2f}) ·
{stats["short_shots"]} short · {film.fps:.3f} fps ·
model {escape(str(model.get("source") or "none"))} · movement from {escape(shots[0].movement_source if shots else "-")}</p>
<h2>Scale over the film</h2>{_strip(film, "scale", SCALE_COLOURS)}<div>{_legend(SCALE_COLOURS, SCALE_DESCRIPTIONS)}</div>
<h2>Movement over the film</h2>{_strip(film, "movement", MOVEMENT_COLOURS)}<div>{_legend(MOVEMENT_COLOURS, MOVEMENT_DESCRIPTIONS)}</div>
<div class="cols"><div><h2>Scale distribution</h2>{_bars(scale_counts, SCALE_LABELS, SCALE_COLOURS)}
<h3>Scale share by tenth of the film</h3>{_over_time(film, "scale", SCALE_LABELS, SCALE_COLOURS)}</div>
<div><h2>Movement distribution</h2>{_bars(move_counts, MOVEMENT_LABELS, MOVEMENT_COLOURS)}
<h3>Movement share by tenth of the film</h3>{_over_time(film, "movement", MOVEMENT_LABELS, MOVEMENT_COLOURS)}</div></div>
<h2>Shot lengths</h2>{_length_histogram(film)}
<h2>Shots</h2>
<p>Filter: scale <select id="fs"><option value="">all</option>{options(SCALE_LABELS)}</select>
movement <select id="fm"><option value="">all</option>{options(MOVEMENT_LABELS)}</select></p>
<div class="grid">{"".join(cards)}</div>
<script>
function f(){{var s=document.getElementById('fs').value,m=document.getElementById('fm').value;
document.querySelectorAll('.shot').forEach(function(e){{e.style.display=((!s||e.dataset.scale==s)&&(!m||e.dataset.movement==m))?'':'none';}});}}
document.getElementById('fs').onchange=f;document.getElementById('fm').onchange=f;
</script></body></html>
"""
