"""Property-based tests (hypothesis) where a rule is general: sampling positions, timecodes that
round-trip, manifests that read back what was written, statistics that add up."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shotscope.analysis.film import FilmAnalysis, Shot
from shotscope.analysis.shot_frames import positions
from shotscope.analysis.statistics import film_statistics
from shotscope.data.manifest import read_manifest, write_manifest
from shotscope.data.records import ClipRecord
from shotscope.labels import IGNORE_INDEX, MOVEMENT_LABELS, SCALE_LABELS
from shotscope.outputs.timelines import timecode, timeline_rate
from shotscope.video.sampling import reduced_size, sample_times

FAST = settings(max_examples=150, deadline=None)


@FAST
@given(start=st.floats(0, 1e4), span=st.floats(1e-3, 1e4), n=st.integers(1, 64), views=st.integers(1, 5))
def test_sample_times_stay_inside_the_clip_evenly_and_views_interleave(start, span, n, views):
    end = start + span
    t = sample_times(start, end, n, views)
    assert t.shape == (views, n)
    assert (t >= start).all() and (t < end + 1e-9 * max(1.0, end)).all()
    steps = np.diff(t, axis=1)
    assert np.allclose(steps, span / n, rtol=1e-6, atol=1e-9)  # evenly spread
    if views > 1:  # each view starts a little later than the one before, all within one step
        assert (np.diff(t[:, 0]) > 0).all() and t[-1, 0] - t[0, 0] < span / n


@FAST
@given(k=st.integers(1, 500), n=st.integers(1, 64), views=st.integers(1, 4))
def test_positions_among_kept_frames_are_valid_and_ordered(k, n, views):
    pos = positions(k, n, views)
    assert pos.shape == (views, n) and pos.min() >= 0 and pos.max() <= k - 1
    assert (np.diff(pos, axis=1) >= 0).all()
    if k >= n:  # enough frames: no frame repeats within a view
        assert all(len(set(row)) == n for row in pos)


@FAST
@given(w=st.integers(2, 8000), h=st.integers(2, 8000), side=st.integers(2, 2000))
def test_reduced_size_keeps_aspect_and_never_enlarges(w, h, side):
    rw, rh = reduced_size(w, h, side)
    assert rw <= max(w, 2) and rh <= max(h, 2)
    if min(w, h) > side:
        assert min(rw, rh) in (side, side - 1, side + 1)
        assert abs(rw / rh - w / h) <= 2 / min(rw, rh) * max(w / h, 1)


@FAST
@given(frame=st.integers(0, 24 * 3600 * 3), fps=st.sampled_from([23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0,
                                                                  12.5, 15.0, 48.0]))
def test_timecodes_round_trip_on_the_timeline_rate(frame, fps):
    rate = timeline_rate(fps)
    tc = timecode(frame, fps)
    back = otio.opentime.from_timecode(tc, rate).to_frames()
    expected = frame if rate == fps else round(frame / fps * rate)
    assert back == expected


labels = st.one_of(st.none(), st.sampled_from(SCALE_LABELS))
moves = st.one_of(st.none(), st.sampled_from(MOVEMENT_LABELS))
names = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\\x00"), min_size=1,
                max_size=20).filter(lambda s: s not in (".", "..") and s.strip() == s and not s.startswith("#"))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(names, labels, moves, st.one_of(st.none(), st.floats(0, 1000, allow_nan=False)),
                               st.floats(0.05, 100, allow_nan=False)), min_size=1, max_size=8))
def test_a_manifest_reads_back_what_was_written(rows):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        records = []
        for i, (name, scale, move, start, length) in enumerate(rows):
            if scale is None and move is None:
                scale = "MS"
            path = root / f"{i}-{name}.mp4"
            path.write_bytes(b"")
            records.append(ClipRecord(str(path), SCALE_LABELS.index(scale) if scale else IGNORE_INDEX,
                                      MOVEMENT_LABELS.index(move) if move else IGNORE_INDEX,
                                      start, None if start is None else start + length))
        manifest = write_manifest(root / "m.csv", records)
        back, report = read_manifest(manifest)
        assert report.skipped == 0 and len(back) == len(records)
        for a, b in zip(records, back, strict=True):
            assert Path(a.path).resolve() == Path(b.path).resolve()
            assert (a.scale, a.movement) == (b.scale, b.movement)
            for x, y in ((a.start, b.start), (a.end, b.end)):
                assert (x is None and y is None) or y == pytest.approx(x, abs=1e-3)


@FAST
@given(shots=st.lists(st.tuples(st.floats(0.04, 60, allow_nan=False), labels, moves), min_size=1, max_size=40))
def test_statistics_add_up(shots):
    t, made = 0.0, []
    for i, (length, scale, move) in enumerate(shots):
        made.append(Shot(i, i * 10, i * 10 + 10, t, t + length, scale=scale, movement=move, short=length < 0.5))
        t += length
    stats = film_statistics(FilmAnalysis("f.mp4", 24.0, len(shots) * 10, t, 320, 180, made, {}))
    lengths = [s.duration for s in made]
    assert stats["shots"] == len(made) and stats["short_shots"] == sum(s.short for s in made)
    assert stats["average_shot_length"] == pytest.approx(np.mean(lengths), abs=1e-3)
    assert stats["shortest_shot"] <= stats["median_shot_length"] <= stats["longest_shot"]
    for task, names_ in (("scale", SCALE_LABELS), ("movement", MOVEMENT_LABELS)):
        labelled = [s for s in made if getattr(s, task)]
        shares = stats[task]
        assert sum(v["shots"] for v in shares.values()) == len(labelled)
        assert set(shares) == set(names_)
        if labelled:
            assert sum(v["share_of_shots"] for v in shares.values()) == pytest.approx(1.0, abs=1e-3)
            total = sum(s.duration for s in labelled)
            assert sum(v["seconds"] for v in shares.values()) == pytest.approx(total, abs=1e-2)
            assert sum(v["share_of_time"] for v in shares.values()) == pytest.approx(total / t, abs=1e-3)
