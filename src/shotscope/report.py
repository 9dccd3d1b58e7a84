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

# scale: an ordered palette, dark (closest) to light (farthest), ECS -> LS (viridis steps)
SCALE_COLOURS = {"ECS": "#440154", "CS": "#3b528b", "MS": "#21918c", "FS": "#5ec962", "LS": "#c8e020"}
# movement: a colour-blind-safe set (Okabe-Ito), none of it used for scale
MOVEMENT_COLOURS = {"Static": "#999999", "Motion": "#e69f00", "Pull": "#56b4e9", "Push": "#d55e00"}


def _clock(seconds: float) -> str:
    """m:ss (or h:mm:ss) for chart ticks."""
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _ticks(total: float, count: int = 6) -> list[float]:
    """Round tick positions (seconds) over [0, total]."""
    if total <= 0:
        return [0.0]
    raw = total / count
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600) if s >= raw), 3600)
    return [t for t in np.arange(0, total + 1e-9, step)]


def _time_axis(total: float) -> str:
    """An SVG time axis (ticks and m:ss labels) under a 1000-unit-wide chart."""
    marks = "".join(f'<line x1="{1000 * t / total:.1f}" x2="{1000 * t / total:.1f}" y1="0" y2="5" stroke="#555"/>'
                    f'<text x="{1000 * t / total:.1f}" y="16" font-size="11" text-anchor="middle">{_clock(t)}</text>'
                    for t in _ticks(total))
    return f'<svg viewBox="-20 0 1040 20" class="axis-svg"><line x1="0" x2="1000" y1="0" y2="0" stroke="#555"/>{marks}</svg>'


def _thumb(img: np.ndarray | None) -> str:
    if img is None:
        return ""
    h, w = img.shape[:2]
    small = cv2.resize(img, (160, max(1, round(h * 160 / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


def _strip(film: FilmAnalysis, attr: str, colours: dict[str, str]) -> str:
    """One rectangle per shot, with a visible boundary, so neighbouring shots of the same label
    stay apart; a time axis below."""
    total = max(film.duration, 1e-6)
    rects = []
    for s in film.shots:
        label = getattr(s, attr)
        x, w = 1000 * s.start_time / total, max(1000 * s.duration / total, 0.5)
        rects.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="24" fill="{colours.get(label, "#ccc")}" '
                     f'stroke="#fff" stroke-width="0.6" vector-effect="non-scaling-stroke">'
                     f"<title>shot {s.index} ({_clock(s.start_time)}-{_clock(s.end_time)}): {escape(str(label))}"
                     "</title></rect>")
    return (f'<svg viewBox="0 0 1000 24" preserveAspectRatio="none" class="strip">{"".join(rects)}</svg>'
            + _time_axis(total))


def _legend(colours: dict[str, str], descriptions: dict[str, str]) -> str:
    return "".join(f'<span class="key" title="{escape(descriptions[k])}"><i style="background:{c}"></i>{k}</span>'
                   for k, c in colours.items())


def _bars(counts: Counter, labels: tuple[str, ...], colours: dict[str, str]) -> str:
    """A bar per label that occurs (labels absent from the film are left out, not shown as 0)."""
    total = max(sum(counts.values()), 1)
    rows = []
    for k in [k for k in labels if counts.get(k)]:
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
            if hgt > 0:
                cols.append(f'<rect x="{b * 10 + 0.5}" y="{y:.2f}" width="9" height="{hgt:.2f}" fill="{colours[k]}">'
                            f"<title>{_clock(b * total / bins)}-{_clock((b + 1) * total / bins)}: {k} "
                            f"{100 * share[b, j]:.0f} % of the time</title></rect>")
            y += hgt
    return (f'<svg viewBox="0 0 100 100" preserveAspectRatio="none" class="time">{"".join(cols)}</svg>'
            + _time_axis(total) + '<div class="axis">share of screen time (0-100 %) in each tenth of the film</div>')


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
    ticks = "".join(f'<text x="{100 * e / top:.2f}" y="99" font-size="4" text-anchor="middle">{e:.1f}</text>'
                    for e in edges[:: max(1, bins // 6)])
    return (f'<svg viewBox="0 -2 100 104" preserveAspectRatio="none" class="time">{bars}{marks}{ticks}</svg>'
            f'<div class="axis">shot length in seconds (x), shots (y, tallest bar {peak}); longer than {top:.1f} s '
            f'in the last bar · <span style="color:#c9184a">average</span> · '
            f'<span style="color:#f77f00">median</span></div>')


def _section(title: str, body: str, shown: bool, tag: str) -> str:
    """A chart with its heading, or nothing when the film has no such labels."""
    if not shown:
        return ""
    if tag == "div":
        return f"<div><h2>{title}</h2>{body}</div>"
    return f"<h2>{title}</h2>{body}"


def _model_name(model: dict) -> str:
    """The model as people name it: its hub id or folder name, not a machine's path."""
    name = model.get("name") or model.get("source")
    if not name:
        return "no model (movement from geometry only)"
    name = str(name)
    return f"model {name if not Path(name).is_absolute() else Path(name).name}"


def _movement_phrase(shots) -> str:
    source = shots[0].movement_source if shots else None
    return {"model": "from the network", "geometry": "from the picture's geometry",
            "fused": "from the network and the geometry combined"}.get(source, "-")


def report_html(film: FilmAnalysis) -> str:
    from .statistics import film_statistics

    name = escape(Path(film.path).name)
    shots = film.shots
    stats = film_statistics(film)
    scale_counts = Counter(s.scale for s in shots if s.scale)
    move_counts = Counter(s.movement for s in shots if s.movement)
    from .writers import timecode

    has_scale, has_movement = bool(scale_counts), bool(move_counts)
    cards = []
    for s in shots:
        sp = f"{s.scale_prob:.2f}" if s.scale_prob is not None else "-"
        mp = f"{s.movement_prob:.2f}" if s.movement_prob is not None else "-"
        cards.append(
            f'<div class="shot" data-scale="{escape(str(s.scale))}" data-movement="{escape(str(s.movement))}">'
            f'<img src="{_thumb(s.thumbnail)}" alt="shot {s.index}"><div>#{s.index} '
            f"{timecode(s.start_frame, film.fps)} · {s.duration:.2f} s{' <em>short</em>' if s.short else ''}<br>"
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
.axis{{font-size:12px;color:#555}} .axis-svg{{width:100%;height:20px;display:block;margin:-8px 0 8px}}
</style></head><body>
<h1>{name}</h1>
<p>{len(shots)} shots · {film.duration:.1f} s · average shot length {stats["average_shot_length"]:.2f} s ·
median {stats["median_shot_length"]:.2f} s (shortest {stats["shortest_shot"]:.2f}, longest {stats["longest_shot"]:.2f}) ·
{stats["short_shots"]} short · {film.fps:.3f} fps ·
{escape(_model_name(model))} · camera movement {escape(_movement_phrase(shots))}</p>
{_section("Scale over the film", _strip(film, "scale", SCALE_COLOURS) + f"<div>{_legend(SCALE_COLOURS, SCALE_DESCRIPTIONS)}</div>", has_scale, "h2")}
{_section("Movement over the film", _strip(film, "movement", MOVEMENT_COLOURS) + f"<div>{_legend(MOVEMENT_COLOURS, MOVEMENT_DESCRIPTIONS)}</div>", has_movement, "h2")}
<div class="cols">{_section("Scale distribution", _bars(scale_counts, SCALE_LABELS, SCALE_COLOURS) + "<h3>Scale share by tenth of the film</h3>" + _over_time(film, "scale", SCALE_LABELS, SCALE_COLOURS), has_scale, "div")}
{_section("Movement distribution", _bars(move_counts, MOVEMENT_LABELS, MOVEMENT_COLOURS) + "<h3>Movement share by tenth of the film</h3>" + _over_time(film, "movement", MOVEMENT_LABELS, MOVEMENT_COLOURS), has_movement, "div")}</div>
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
