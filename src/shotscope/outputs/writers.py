"""Output files for one analysed film: shots.csv, shots.json, an EDL (CMX 3600), an OTIO timeline
and FCP 7 XML (the last three made by :mod:`.timelines`), frames.zip and report.html."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..analysis.results import FilmAnalysis
from ..files import atomic_write_text
from ..labels import MOVEMENT_LABELS, SCALE_LABELS
from .timelines import film_timeline, timecode, timeline_rate, timeline_text


def csv_text(film: FilmAnalysis) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["shot", "start_frame", "end_frame", "start_timecode", "end_timecode", "start_seconds",
                "end_seconds", "duration", "scale", "scale_prob", *[f"p_{k}" for k in SCALE_LABELS],
                "movement", "movement_prob", *[f"p_{k}" for k in MOVEMENT_LABELS], "movement_source", "short"])
    for s in film.shots:  # (the csv module writes None as an empty field)
        w.writerow([s.index, s.start_frame, s.end_frame, timecode(s.start_frame, film.fps),
                    timecode(s.end_frame, film.fps), f"{s.start_time:.3f}", f"{s.end_time:.3f}",
                    f"{s.duration:.3f}", s.scale, s.scale_prob, *[s.scale_probs.get(k) for k in SCALE_LABELS],
                    s.movement, s.movement_prob, *[s.movement_probs.get(k) for k in MOVEMENT_LABELS],
                    s.movement_source, int(s.short)])
    return out.getvalue()


def json_text(film: FilmAnalysis) -> str:
    """shots.json: a line for each of the film's fields and a line for each shot, their values
    written compact, so a shot is one line to grep or diff and the file is quick to read (a feature's
    1,500 shots with their motion evidence: 0.9 MB, where JSON indented throughout took 1.5 MB)."""
    from ..analysis.statistics import film_statistics

    rate = timeline_rate(film.fps)
    data = {
        "file": film.path, "fps": round(film.fps, 4), "timecode_rate": rate,
        "timecode_note": None if rate == film.fps else (
            f"{film.fps:.3f} fps is not a SMPTE timecode rate (variable or unusual frame rate): "
            f"timecodes are on a {rate:g} fps timeline placed by seconds; frame numbers are the film's own"),
        "frames": film.frame_count, "duration": round(film.duration, 3),
        "width": film.width, "height": film.height, **film.metadata,
        "integrity": film.integrity,
        "statistics": film_statistics(film),
    }
    fields = [f"  {_compact(key)}: {_compact(value)}," for key, value in data.items()]
    shots = ",\n".join(f"    {_compact(s.to_dict())}" for s in film.shots)
    return "\n".join(["{", *fields, '  "shots": [' + (f"\n{shots}\n  ]" if shots else "]"), "}", ""])


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), default=float, ensure_ascii=False)


def otio_text(film: FilmAnalysis, title: str) -> str:
    return timeline_text(film_timeline(film, title), "otio")


def edl_text(film: FilmAnalysis, title: str) -> str:
    """CMX 3600: an event per shot, labels in the clip name, a LOC marker with the labels and
    probabilities."""
    return timeline_text(film_timeline(film, title), "edl")


def fcpxml_text(film: FilmAnalysis, title: str) -> str:
    """Final Cut Pro 7 XML (imports into Premiere Pro, DaVinci Resolve, Avid)."""
    return timeline_text(film_timeline(film, title), "xml")


def write_outputs(film: FilmAnalysis, out_dir: str | Path) -> dict[str, Path]:
    """All files for one film, each written atomically; shots.json last (it marks the film done)."""
    from ..files import atomic_write_bytes
    from .frames import FRAMES_FILE, frames_zip, shot_frames
    from .report import report_html

    out_dir = Path(out_dir)
    title = Path(film.path).name
    frames = [shot_frames(s) for s in film.shots]  # encoded once: the report and frames.zip
    atomic_write_bytes(out_dir / FRAMES_FILE, frames_zip(film, frames))
    files = {
        "csv": (out_dir / "shots.csv", csv_text(film)),
        "edl": (out_dir / "shots.edl", edl_text(film, title)),
        "otio": (out_dir / "shots.otio", otio_text(film, title)),
        "fcpxml": (out_dir / "shots.xml", fcpxml_text(film, title)),
        "report": (out_dir / "report.html", report_html(film, out_dir, frames)),
        "json": (out_dir / "shots.json", json_text(film)),
    }
    for path, text in files.values():
        atomic_write_text(path, text)
    return {"frames": out_dir / FRAMES_FILE, **{k: p for k, (p, _) in files.items()}}
