"""Timelines editors open, through OpenTimelineIO and its adapters: one film's shots (a clip per
shot, named by its labels, a coloured marker) and supercuts of shots found across an archive
(each clip pointing at its own film). EDL (CMX 3600), OTIO and FCP 7 XML."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..timecodes import frame_time, timecode, timeline_rate  # noqa: F401 - the timelines' rate and timecodes

TIMELINE_ADAPTERS = {"edl": "cmx_3600", "otio": "otio_json", "xml": "fcp_xml"}  # OpenTimelineIO's, by suffix
# marker colours editors see on the timeline, one per scale
SCALE_MARKER_COLOURS = {"ECS": "PURPLE", "CS": "PINK", "MS": "ORANGE", "FS": "GREEN", "LS": "BLUE"}


def safe_title(name: str) -> str:
    """A file name fit for line-based formats (EDL titles and comments): control characters
    (newlines, tabs, escapes) become spaces."""
    return "".join(" " if (ord(c) < 32 or ord(c) == 127) else c for c in name).strip() or "untitled"


def clip_name(scale: str | None, movement: str | None, index: int) -> str:
    return " ".join(p for p in (scale, movement) if p) or f"shot {index}"


def marker_name(s: Any) -> str:
    parts = []
    if s.scale:
        parts.append(f"{s.scale} {s.scale_prob or 0:.2f}")
    if s.movement:
        parts.append(f"{s.movement} {s.movement_prob or 0:.2f}")
    return " ".join(parts) or f"shot {s.index}"


def _media(path: str | os.PathLike, frames: int, fps: float):
    """The film as a clip's media: its absolute location, and its whole length (FCP XML needs it)."""
    import opentimelineio as otio

    return otio.schema.ExternalReference(target_url=Path(path).absolute().as_uri(),
                                         available_range=otio.opentime.TimeRange(frame_time(0, fps),
                                                                                 frame_time(frames, fps)))


def film_timeline(film: Any, title: str):
    """One analysed film (a :class:`~shotscope.analysis.film.FilmAnalysis`): a clip per shot named by
    its labels, a coloured marker with the labels and their probabilities, and every shot field in
    the clip's metadata."""
    import opentimelineio as otio

    fps = film.fps
    tl = otio.schema.Timeline(name=safe_title(title))
    track = otio.schema.Track(name="shots", kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    media = _media(Path(film.path).resolve(), film.frame_count, fps)
    for s in film.shots:
        start = frame_time(s.start_frame, fps)
        clip = otio.schema.Clip(name=clip_name(s.scale, s.movement, s.index), media_reference=media,
                                source_range=otio.opentime.TimeRange(start, frame_time(s.end_frame, fps) - start))
        clip.metadata["shotscope"] = {k: v for k, v in s.to_dict().items() if k not in ("motion", "timeline")}
        clip.markers.append(otio.schema.Marker(
            name=marker_name(s), color=SCALE_MARKER_COLOURS.get(s.scale, "RED"),
            marked_range=otio.opentime.TimeRange(start, otio.opentime.RationalTime(0, start.rate))))
        track.append(clip)
    return tl


def supercut_timeline(shots: Any, title: str, locate: Callable[[str], Path | None] | None = None):
    """Shots found across an archive (rows of :meth:`shotscope.Archive.shots`) as one timeline, each
    clip pointing at its own film's absolute location (``locate`` finds a film stored by a relative
    path). Returns (timeline, the films not found on this machine)."""
    import opentimelineio as otio

    tl = otio.schema.Timeline(name=safe_title(title))
    track = otio.schema.Track(name="shots", kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    missing: dict[str, None] = {}
    media: dict[str, Any] = {}
    for row in shots.itertuples():
        if row.film not in media:
            found = locate(row.film) if locate is not None else (Path(row.film) if Path(row.film).is_file() else None)
            if found is None:
                missing[row.film] = None
            frames = round((row.film_duration or row.end_time) * row.fps)
            media[row.film] = _media(found or row.film, max(frames, int(row.end_frame)), row.fps)
        start = frame_time(row.start_frame, row.fps)
        clip = otio.schema.Clip(name=clip_name(row.scale, row.movement, row.shot), media_reference=media[row.film].clone(),
                                source_range=otio.opentime.TimeRange(start, frame_time(row.end_frame, row.fps) - start))
        clip.metadata["shotscope"] = {"film": row.film, "shot": int(row.shot)}
        track.append(clip)
    return tl, list(missing)


def timeline_text(tl: Any, kind: str) -> str:
    """A timeline as the text of a file of ``kind`` (edl, otio, xml). An empty one is an empty
    timeline of that kind (OpenTimelineIO's EDL writer fails on an empty track: its header alone)."""
    import opentimelineio as otio

    adapter = TIMELINE_ADAPTERS.get(kind)
    if adapter is None:
        raise DataError(f"a timeline is {', '.join(TIMELINE_ADAPTERS)}, not {kind!r}")
    if kind == "edl" and not len(tl.tracks[0]):
        return f"TITLE: {tl.name}\n\n"
    return otio.adapters.write_to_string(tl, adapter)


def supercut_text(shots: Any, title: str, kind: str,
                  locate: Callable[[str], Path | None] | None = None) -> tuple[str, list[str]]:
    """:func:`supercut_timeline` as a file's text; (text, films not found)."""
    tl, missing = supercut_timeline(shots, title, locate)
    return timeline_text(tl, kind), missing
