"""Server-side SVG charts for the web app: label strips with visible shot boundaries, share over
time, shot length by position (Cinemetrics style, with a trend line), ASL per label. Every label
and title is escaped; the charts work without JavaScript, which only adds the clicks."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

# scale: an ordered palette, dark (closest) to light (farthest), ECS -> LS (viridis steps)
SCALE_COLOURS = {"ECS": "#440154", "CS": "#3b528b", "MS": "#21918c", "FS": "#5ec962", "LS": "#c8e020"}
# movement: a colour-blind-safe set (Okabe-Ito), none of it used for scale
MOVEMENT_COLOURS = {"Static": "#999999", "Motion": "#e69f00", "Pull": "#56b4e9", "Push": "#d55e00"}
COLOURS = {"scale": SCALE_COLOURS, "movement": MOVEMENT_COLOURS}
LOW_CONFIDENCE = 0.5  # a label less probable than this is flagged
SLIVER = 2.5  # thousandths of a strip: a shot narrower than this is drawn without boundary or hatching


def clock(seconds: float) -> str:
    """m:ss (or h:mm:ss)."""
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def ticks(total: float, count: int = 6) -> list[float]:
    if total <= 0:
        return [0.0]
    raw = total / count
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600) if s >= raw), 3600)
    return [float(t) for t in np.arange(0, total + 1e-9, step)]


def axis(marks: Sequence[tuple[float, str]]) -> str:
    """Labels under a chart that spans the page's width, each at its fraction (0-1) of that width,
    placed in % so that they line up with the chart at any width (an axis in a viewBox of its own
    shrinks and shifts as the page narrows, and its text with it)."""
    parts = []
    for at, text in marks:
        x = 100 * at
        anchor = "start" if x < 2 else "end" if x > 98 else "middle"  # the first and last stay inside
        parts.append(f'<line class="tick" data-at="{at:.6f}" x1="{x:.3f}%" x2="{x:.3f}%" y1="0" y2="5" stroke="#555"/>'
                     f'<text x="{x:.3f}%" y="16" font-size="11" text-anchor="{anchor}">{escape(text)}</text>')
    return (f'<svg class="axis-svg" width="100%" height="22" role="img" aria-label="axis">'
            f'<line x1="0" x2="100%" y1="0.5" y2="0.5" stroke="#555"/>{"".join(parts)}</svg>')


def time_axis(total: float) -> str:
    """Times (m:ss) under a chart of a film ``total`` seconds long."""
    total = max(total, 1e-6)
    return axis([(t / total, clock(t)) for t in ticks(total)])


def strip(shots: Sequence[dict], field: str, total: float) -> str:
    """One rectangle per shot (a white boundary keeps neighbours of one label apart); a click on
    one plays that shot (``data-shot``); low-confidence shots are hatched."""
    total = max(total, 1e-6)
    colours = COLOURS[field]
    rects = []
    for s in shots:
        label = s.get(field)
        prob = s.get(f"{field}_prob")
        low = prob is not None and prob == prob and prob < LOW_CONFIDENCE
        x, w = 1000 * s["start_time"] / total, max(1000 * s["duration"] / total, 0.5)
        title = f"shot {s['shot']} ({clock(s['start_time'])}-{clock(s['end_time'])}): {label}" + (
            " (corrected)" if s.get(f"{field}_corrected") else "") + (" - low confidence" if low else "")
        # a white boundary and the hatching where a shot is wide enough to show them (~3 px of a
        # page-wide strip): in a feature of 1,500 shots most are slivers, which they would wash out
        wide = w >= SLIVER
        edge = 'stroke="#fff" stroke-width="0.6" vector-effect="non-scaling-stroke"' if wide else 'stroke="none"'
        rects.append(f'<rect class="seg" data-shot="{int(s["shot"])}" x="{x:.2f}" y="0" width="{w:.2f}" height="24" '
                     f'fill="{colours.get(label, "#ccc")}" {edge}><title>{escape(title)}</title></rect>')
        if low and wide:
            rects.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="24" fill="url(#low)" pointer-events="none"/>')
    hatch = ('<defs><pattern id="low" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>')
    return (f'<svg viewBox="0 0 1000 24" preserveAspectRatio="none" class="strip" data-field="{field}">{hatch}'
            f'{"".join(rects)}<line class="playhead" x1="0" x2="0" y1="0" y2="24" stroke="#000" stroke-width="2" '
            f'vector-effect="non-scaling-stroke"/></svg>' + time_axis(total))


def probability_timeline(shots: Sequence[dict], field: str, total: float, columns: int = 1000) -> str:
    """Under a strip: each label's probability within the shots, stacked (0-1 from the bottom, in
    the label's colour), from each shot's ``timeline`` (points every half second). The film is
    cut into ``columns``; a column holds the mean of its points (a feature's 0.5 s points, several
    a column), and stays empty where no shot has points (a gap, not a guess). "" without any."""
    total = max(total, 1e-6)
    sums: dict[str, np.ndarray] = {}
    count = np.zeros(columns)
    source = None
    for s in shots:
        part = (s.get("timeline") or {}).get(field)
        if not part:
            continue
        source = source or part.get("source")
        times = np.asarray(s["timeline"]["times"], float)
        # each point stands for the stretch of its shot nearer it than its neighbours
        bounds = np.r_[s["start_time"], (times[1:] + times[:-1]) / 2, s["end_time"]] / total * columns
        first = np.clip(np.floor(bounds[:-1]).astype(int), 0, columns - 1)
        last = np.clip(np.ceil(bounds[1:]).astype(int), first + 1, columns)
        point = np.repeat(np.arange(len(times)), last - first)
        at = np.concatenate([np.arange(a, b) for a, b in zip(first, last, strict=True)])
        np.add.at(count, at, 1)
        for label, values in part["probs"].items():
            np.add.at(sums.setdefault(label, np.zeros(columns)), at, np.asarray(values, float)[point])
    if not count.any():
        return ""
    filled = count > 0
    labels = [k for k in COLOURS[field] if k in sums] + [k for k in sums if k not in COLOURS[field]]
    shares = np.array([np.where(filled, sums[k] / np.maximum(count, 1), 0.0) for k in labels])
    shares /= np.maximum(shares.sum(0), 1e-9)
    top = np.cumsum(shares, 0)  # the top edge of each label's band, from the bottom
    height = 24
    # runs of filled columns: each band is one polygon a run
    edges = np.flatnonzero(np.diff(np.r_[0, filled.astype(int), 0]))
    runs = list(zip(edges[::2], edges[1::2], strict=True))
    parts = []
    for j, label in enumerate(labels):
        points = []
        for a, b in runs:
            xs = np.r_[np.arange(a, b), b] * 1000 / columns  # a column spans [i, i + 1)
            upper = np.r_[top[j, a:b], top[j, b - 1]]
            lower = np.r_[top[j - 1, a:b], top[j - 1, b - 1]] if j else np.zeros(b - a + 1)
            ring = _flat_runs(xs, height * (1 - upper)) + _flat_runs(xs, height * (1 - lower))[::-1]
            points.append("M" + "L".join(f"{x:.4g},{y:.3g}" for x, y in ring) + "Z")
        parts.append(f'<path d="{"".join(points)}" fill="{COLOURS[field].get(label, "#ccc")}">'
                     f'<title>{escape(label)}</title></path>')
    said = f" (from {escape(source)})" if source else ""
    return (f'<svg viewBox="0 0 1000 {height}" preserveAspectRatio="none" class="timeline" data-field="{field}" '
            f'role="img" aria-label="{escape(field)} probability within the shots{said}">'
            f'<title>{escape(field)}: each label\'s probability within the shots, every half second{said}</title>'
            f'{"".join(parts)}</svg>')


def _flat_runs(xs: np.ndarray, ys: np.ndarray) -> list[tuple[float, float]]:
    """The points of a line, less those inside a level run (the same height both sides): a point
    every half second over a short film spans many columns, and the page need not carry them."""
    ys = np.round(ys, 2)
    keep = np.ones(len(xs), bool)
    keep[1:-1] = ~((ys[1:-1] == ys[:-2]) & (ys[1:-1] == ys[2:]))
    return list(zip(xs[keep].tolist(), ys[keep].tolist(), strict=True))


def probability_bar(probs: dict | None, field: str, motion: dict | None = None) -> str:
    """A thin bar of one shot's probabilities for one task (labels in the model's order, in their
    colours), titled with them from the most probable down: what the model hesitated between. With
    ``motion``, the picture's own evidence (what the geometry said) is added to the title. A CSS
    gradient with hard stops: a feature's 1,500 rows carry two of these each."""
    if not probs:
        return ""
    x, stops = 0.0, []
    for label, p in probs.items():
        w = 100 * float(p or 0.0)
        if w > 0:
            stops.append(f"{COLOURS[field].get(label, '#ccc')} {x:.1f}% {x + w:.1f}%")
        x += w
    text = f"{field}: " + ", ".join(f"{label} {float(p or 0.0):.2f}"
                                    for label, p in sorted(probs.items(), key=lambda kv: -float(kv[1] or 0.0)))
    if motion and motion.get("label"):
        numbers = ", ".join(f"{k} {float(motion[k]):+.4f}" for k in ("zoom", "pan") if motion.get(k) is not None)
        text += f" | the picture's geometry: {motion['label']} {float(motion.get('confidence') or 0.0):.2f}" + (
            f" ({numbers})" if numbers else "")
    return (f'<i class="probs" role="img" title="{escape(text)}" '
            f'style="background:linear-gradient(90deg,{",".join(stops)})"></i>')


def shares(shots: Sequence[dict], field: str, labels: Sequence[str]) -> list[dict]:
    """Per label that occurs: shots, share of shots and of screen time."""
    total_time = sum(s["duration"] for s in shots) or 1e-9
    out = []
    for label in labels:
        mine = [s for s in shots if s.get(field) == label]
        if mine:
            out.append({"label": label, "shots": len(mine), "share_of_shots": len(mine) / len(shots),
                        "share_of_time": sum(s["duration"] for s in mine) / total_time,
                        "colour": COLOURS[field][label]})
    return out


def share_bar(parts: Sequence[dict], key: str = "share_of_time") -> str:
    """One stacked bar (100 % wide) of label shares."""
    x, rects = 0.0, []
    for p in parts:
        w = 100 * (p.get(key) or 0.0)
        if w > 0:
            rects.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="10" fill="{p["colour"]}">'
                         f'<title>{escape(p["label"])}: {w:.0f} %</title></rect>')
        x += w
    return f'<svg viewBox="0 0 100 10" preserveAspectRatio="none" class="share">{"".join(rects)}</svg>'


def over_time(shots: Sequence[dict], field: str, labels: Sequence[str], total: float, bins: int = 10) -> str:
    """Share of screen time per label in each tenth of the film (stacked columns), with an axis."""
    total = max(total, 1e-6)
    share = np.zeros((bins, len(labels)))
    for s in shots:
        if s.get(field) not in labels:
            continue
        j = labels.index(s[field])
        for b in range(bins):
            lo, hi = b * total / bins, (b + 1) * total / bins
            share[b, j] += max(0.0, min(hi, s["end_time"]) - max(lo, s["start_time"]))
    share /= np.maximum(share.sum(1, keepdims=True), 1e-9)
    cols = []
    for b in range(bins):
        y = 0.0
        for j, label in enumerate(labels):
            h = 100 * share[b, j]
            if h > 0:
                cols.append(f'<rect x="{b * 10 + 0.5}" y="{y:.2f}" width="9" height="{h:.2f}" '
                            f'fill="{COLOURS[field][label]}"><title>{clock(b * total / bins)}-'
                            f'{clock((b + 1) * total / bins)}: {label} {h:.0f} % of the time</title></rect>')
            y += h
    return (f'<svg viewBox="0 0 100 100" preserveAspectRatio="none" class="time">{"".join(cols)}</svg>'
            + time_axis(total))


def length_top(shots: Sequence[dict]) -> float:
    """The top of a shot-length axis for these shots (a little over their 98th percentile)."""
    lengths = [s["duration"] for s in shots] or [1.0]
    return max(float(np.percentile(lengths, 98)) * 1.1, 1e-3)


def share_axis() -> str:
    """0-100 % of a film under a chart (films of any length compared on one axis)."""
    return axis([(k / 4, f"{25 * k} %") for k in range(5)])


def length_by_position(shots: Sequence[dict], total: float, top: float | None = None, share: bool = False) -> str:
    """Cinemetrics-style: each shot's length (y, seconds) at its place in the film (x), with a
    least-squares trend line and a y axis. The y axis's labels sit in a column of their own and the
    plot stretches to the width (its strokes do not), so it and the time axis under it line up.
    ``top`` (seconds) and ``share`` (x in % of the film) put several films on common axes."""
    if not shots:
        return ""
    total = max(total, 1e-6)
    lengths = np.array([s["duration"] for s in shots])
    top = top or length_top(shots)
    mids = np.array([(s["start_time"] + s["end_time"]) / 2 for s in shots])

    def y(seconds: float) -> float:  # in the plot's 205 units of height
        return 200 - 190 * min(max(seconds, 0.0), top) / top

    line = 'vector-effect="non-scaling-stroke"'
    thick = min(3.0, max(1.0, 600 / len(shots)))  # px: bars of a feature's 1,500 shots do not overlap into a block
    bars = "".join(
        f'<line class="seg" data-shot="{int(s["shot"])}" x1="{1000 * m / total:.1f}" x2="{1000 * m / total:.1f}" '
        f'y1="200" y2="{y(d):.1f}" stroke="#3b528b" stroke-width="{thick:g}" {line}>'
        f"<title>shot {int(s['shot'])}: {d:.2f} s</title></line>" for s, m, d in zip(shots, mids, lengths, strict=True))
    trend = ""
    if len(shots) >= 3:
        slope, icept = np.polyfit(mids, lengths, 1)
        trend = (f'<line x1="0" x2="1000" y1="{y(icept):.1f}" y2="{y(icept + slope * total):.1f}" stroke="#d55e00" '
                 f'stroke-width="2" stroke-dasharray="6 4" {line}><title>trend: {slope * 60:+.2f} s per minute'
                 f'</title></line>')
    grid = "".join(f'<line x1="0" x2="1000" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee" {line}/>'
                   for v in ticks(top, 4))
    labels = "".join(f'<text x="100%" dx="-4" y="{100 * y(v) / 205:.2f}%" font-size="11" text-anchor="end" '
                     f'dominant-baseline="middle">{v:.0f} s</text>' for v in ticks(top, 4))
    return (f'<div class="lengths-chart"><svg class="yaxis" role="img" aria-label="seconds">{labels}</svg><div>'
            f'<svg viewBox="0 0 1000 205" preserveAspectRatio="none" class="lengths" role="img" '
            f'aria-label="shot length by position">{grid}{bars}{trend}'
            f'<line x1="0" x2="1000" y1="200" y2="200" stroke="#555" {line}/></svg>'
            f'{share_axis() if share else time_axis(total)}</div></div>')


FILM_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00", "#000000", "#f0e442")


def length_histograms(films: Sequence[tuple[str, Sequence[float]]], bins: int = 20) -> str:
    """Several films' shot lengths overlaid on one set of bins (shares of each film's shots, so
    films of any size compare): a line per film in its colour, named in a legend."""
    pooled = [d for _, lengths in films for d in lengths]
    if not pooled:
        return ""
    top = max(float(np.percentile(pooled, 98)) * 1.05, 1e-3)
    edges = np.linspace(0, top, bins + 1)
    shares = [np.histogram(np.clip(lengths, 0, top), edges)[0] / max(len(lengths), 1) for _, lengths in films]
    peak = max(float(max(h.max() for h in shares)), 1e-6)
    lines = []
    for (name, _), h, colour in zip(films, shares, FILM_COLOURS, strict=False):
        points = " ".join(f"{1000 * (i + 0.5) / bins:.1f},{100 - 95 * v / peak:.1f}" for i, v in enumerate(h))
        lines.append(f'<polyline class="film-lengths" data-film="{escape(name)}" points="{points}" fill="none" '
                     f'stroke="{colour}" stroke-width="2" vector-effect="non-scaling-stroke">'
                     f'<title>{escape(name)}</title></polyline>')
    legend = " ".join(f'<span class="key"><i style="background:{c}"></i>{escape(n)}</span>'
                      for (n, _), c in zip(films, FILM_COLOURS, strict=False))
    marks = [(e / top, f"{e:.1f} s") for e in edges[:: max(1, bins // 5)]]
    return (f'<svg viewBox="0 0 1000 102" preserveAspectRatio="none" class="time histograms" role="img" '
            f'aria-label="shot lengths of each film">{"".join(lines)}'
            f'<line x1="0" x2="1000" y1="100" y2="100" stroke="#555" vector-effect="non-scaling-stroke"/></svg>'
            f'{axis(marks)}<div class="axis">shot length (x); share of each film\'s shots (y, highest '
            f'{100 * peak:.0f} %)</div><p class="legend">{legend}</p>')


def asl_per_label(shots: Sequence[dict], field: str, labels: Sequence[str]) -> str:
    """Average shot length of each label that occurs, as horizontal bars with their values."""
    rows = [(label, [s["duration"] for s in shots if s.get(field) == label]) for label in labels]
    rows = [(label, float(np.mean(d)), len(d)) for label, d in rows if d]
    if not rows:
        return ""
    top = max(v for _, v, _ in rows) or 1.0
    return "".join(f'<div class="bar"><span>{label}</span><i style="width:{70 * v / top:.1f}%;'
                   f'background:{COLOURS[field][label]}"></i><b>{v:.1f} s ({n})</b></div>' for label, v, n in rows)


def film_charts(shots: Sequence[dict], total: float) -> dict:
    """Every chart of one film, as the film page, the compare page and report.html show them:
    strips and shares over time only for a task with labels (absent tasks are hidden)."""
    from ..labels import MOVEMENT_LABELS, SCALE_LABELS

    fields = (("scale", SCALE_LABELS), ("movement", MOVEMENT_LABELS))
    present = {f for f, _ in fields if any(s.get(f) for s in shots)}
    return {
        "strips": {f: strip(shots, f, total) for f, _ in fields if f in present},
        "timelines": {f: probability_timeline(shots, f, total) for f, _ in fields if f in present},
        "over_time": {f: over_time(shots, f, labels, total) for f, labels in fields if f in present},
        "shares": {f: shares(shots, f, labels) for f, labels in fields},
        "asl": {f: asl_per_label(shots, f, labels) for f, labels in fields},
        "lengths": length_by_position(shots, total),
    }
