"""SMPTE timecodes as editors' tools write them (through OpenTimelineIO): a film at a rate timecode
has (24, 25, 29.97...) on its own rate, one at another rate on a 24 or 60 fps timeline."""

from __future__ import annotations


def timeline_rate(fps: float) -> float:
    """The film's rate when SMPTE timecode supports it; else a 24 fps (or 60 fps) timeline."""
    import opentimelineio as otio

    if otio.opentime.RationalTime.is_valid_timecode_rate(fps):
        return fps
    return 24.0 if fps < 36 else 60.0


def frame_time(frame: int, fps: float):
    """Frame ``frame`` of a film at ``fps`` as a RationalTime on the timeline's rate (rounded to
    the nearest frame of a 24 or 60 fps timeline for films at other rates)."""
    import opentimelineio as otio

    rate = timeline_rate(fps)
    return otio.opentime.RationalTime(frame if rate == fps else round(frame / fps * rate), rate)


def timecode(frame: int, fps: float) -> str:
    """SMPTE timecode as OpenTimelineIO writes it (drop-frame for 29.97 and 59.94; films at other
    rates on a 24 or 60 fps timeline), so the CSV agrees with the EDL."""
    import opentimelineio as otio

    t = frame_time(frame, fps)
    return otio.opentime.to_timecode(t, t.rate)
