"""Output files for one analysed film: shots.csv, shots.json, an EDL (CMX 3600) and an OTIO timeline."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .analysis import FilmAnalysis
from .labels import MOVEMENT_LABELS, SCALE_LABELS
from .preprocessing import atomic_write_text


def timecode(frame: int, fps: float) -> str:
    """HH:MM:SS:FF at the nearest integer frame rate (non-drop-frame)."""
    rate = max(1, round(fps))
    ff = frame % rate
    s = frame // rate
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{ff:02d}"


def csv_text(film: FilmAnalysis) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["shot", "start_frame", "end_frame", "start_timecode", "end_timecode", "start_seconds",
                "end_seconds", "duration", "scale", "scale_prob", *[f"p_{k}" for k in SCALE_LABELS],
                "movement", "movement_prob", *[f"p_{k}" for k in MOVEMENT_LABELS], "movement_source", "short"])
    for s in film.shots:
        w.writerow([s.index, s.start_frame, s.end_frame, timecode(s.start_frame, film.fps),
                    timecode(s.end_frame, film.fps), f"{s.start_time:.3f}", f"{s.end_time:.3f}",
                    f"{s.duration:.3f}", s.scale or "", s.scale_prob if s.scale_prob is not None else "",
                    *[s.scale_probs.get(k, "") for k in SCALE_LABELS], s.movement or "",
                    s.movement_prob if s.movement_prob is not None else "",
                    *[s.movement_probs.get(k, "") for k in MOVEMENT_LABELS], s.movement_source, int(s.short)])
    return out.getvalue()


def json_text(film: FilmAnalysis) -> str:
    from .statistics import film_statistics

    data = {
        "file": film.path, "fps": film.fps, "frames": film.frame_count, "duration": film.duration,
        "width": film.width, "height": film.height, **film.metadata,
        "statistics": film_statistics(film),
        "shots": [s.to_dict() for s in film.shots],
    }
    return json.dumps(data, indent=2, default=float)


def _clip_name(s) -> str:
    parts = [p for p in (s.scale, s.movement) if p]
    return " ".join(parts) or f"shot {s.index}"


def edl_text(film: FilmAnalysis, title: str) -> str:
    """CMX 3600: one event per shot; the clip name carries the labels."""
    safe = "".join(c if c.isprintable() else "_" for c in title)[:60]
    lines = [f"TITLE: {safe}", "FCM: NON-DROP FRAME", ""]
    for s in film.shots:
        src_in, src_out = timecode(s.start_frame, film.fps), timecode(s.end_frame, film.fps)
        lines.append(f"{s.index + 1:03d}  AX       V     C        {src_in} {src_out} {src_in} {src_out}")
        lines.append(f"* FROM CLIP NAME: {_clip_name(s)}")
        lines.append(f"* SHOTSCOPE: SCALE={s.scale or '-'} ({s.scale_prob or 0:.2f}) "
                     f"MOVEMENT={s.movement or '-'} ({s.movement_prob or 0:.2f})")
        lines.append("")
    return "\n".join(lines)


def otio_text(film: FilmAnalysis, title: str) -> str:
    import opentimelineio as otio

    rate = film.fps
    timeline = otio.schema.Timeline(name=title)
    track = otio.schema.Track(name="shots", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    media = otio.schema.ExternalReference(
        target_url=Path(film.path).resolve().as_uri(),
        available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                                otio.opentime.RationalTime(film.frame_count, rate)))
    for s in film.shots:
        clip = otio.schema.Clip(
            name=_clip_name(s), media_reference=media,
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(s.start_frame, rate),
                                                 otio.opentime.RationalTime(s.frames, rate)))
        clip.metadata["shotscope"] = {k: v for k, v in s.to_dict().items() if k != "motion"}
        clip.markers.append(otio.schema.Marker(
            name=_clip_name(s), marked_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(s.start_frame, rate), otio.opentime.RationalTime(0, rate))))
        track.append(clip)
    return otio.adapters.write_to_string(timeline, "otio_json")


def write_outputs(film: FilmAnalysis, out_dir: str | Path) -> dict[str, Path]:
    """All files for one film, each written atomically; shots.json last (it marks the film done)."""
    from .report import report_html

    out_dir = Path(out_dir)
    title = Path(film.path).name
    files = {
        "csv": (out_dir / "shots.csv", csv_text(film)),
        "edl": (out_dir / "shots.edl", edl_text(film, title)),
        "otio": (out_dir / "shots.otio", otio_text(film, title)),
        "report": (out_dir / "report.html", report_html(film)),
        "json": (out_dir / "shots.json", json_text(film)),
    }
    for path, text in files.values():
        atomic_write_text(path, text)
    return {k: p for k, (p, _) in files.items()}
