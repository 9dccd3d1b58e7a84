"""The probability timeline within each shot: windows every half second, what geometry (and, when
asked, the network) says in each, in shots.json, in the report, and under the web app's strips."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import shotscope
from shotscope import AnalyzeSettings
from shotscope._cli.main import main
from shotscope.analysis.timeline import timeline_record, window_frames, window_spans
from shotscope.archive.ingest import read_timelines
from shotscope.data.synthetic import _render, compose_scene, photographs
from shotscope.errors import DataError
from shotscope.sources.base import Estimate
from shotscope.video.decode import write_video
from shotscope.views.charts import MOVEMENT_COLOURS, probability_timeline


@pytest.fixture(scope="module")
def push_starts(tmp_path_factory) -> Path:
    """One shot, no cut: the camera holds still for 2 s, then pushes in (1.5x) for 2 s."""
    w, h, fps = 320, 180, 24
    scene = compose_scene(photographs()[1], None, h, w, np.random.default_rng(3))
    still, push = np.ones(48), 1.5 ** (np.arange(1, 49) / 48)
    frames = _render(scene, w, h, np.r_[still, push], np.zeros((96, 2)))
    path = tmp_path_factory.mktemp("timeline") / "push-starts.mp4"
    write_video(path, iter(frames), fps=fps)
    return path


def test_windows_cover_the_shot_a_step_apart():
    spans = window_spans(10.0, 13.2, 0.5)
    centres = [c for c, _, _ in spans]
    assert centres[0] == pytest.approx(10.25) and np.allclose(np.diff(centres), 0.5) and centres[-1] < 13.2
    assert len(spans) == 6
    assert all(10.0 <= a < c < b <= 13.2 for c, a, b in spans)  # cut to the shot
    assert spans[2][2] - spans[2][1] == pytest.approx(1.0)  # a window is 1 s wide (2 steps) inside the shot
    assert window_spans(5.0, 5.3, 0.5) == [(pytest.approx(5.15), 5.0, 5.3)]  # shorter than a step: the whole shot
    assert window_spans(0.0, 4.0, 0.0) == []  # off
    assert len(window_spans(0.0, 4.0, 2.0)) == 2 and window_spans(0.0, 4.0, 2.0)[0][1:] == (0.0, 3.0)


def test_each_window_reads_its_own_frames_and_shares_them():
    times = np.arange(0, 4.0, 1 / 24)
    spans = window_spans(0.0, 4.0, 0.5)
    picked, stretches = window_frames(times, spans)
    assert len(set(picked.tolist())) == len(picked) <= 10  # a grid a step apart: each frame once
    for (_, first, last), (a, b) in zip(spans, stretches, strict=True):
        assert b > a  # at least a pair in every window
        assert times[picked[a]] == pytest.approx(first, abs=0.05) and times[picked[b]] == pytest.approx(last, abs=0.05)


def test_the_timeline_shows_where_a_push_starts_within_one_shot(push_starts):
    film = shotscope.analyze(push_starts, None, settings=AnalyzeSettings(movement="geometry", scale="none"),
                             progress=False)
    assert len(film.shots) == 1  # no cut: one shot, one label for all of it
    timeline = film.shots[0].timeline
    times, part = np.array(timeline["times"]), timeline["movement"]
    assert part["source"] == "geometry" and "scale" not in timeline
    assert np.allclose(np.diff(times), 0.5) and len(times) == 8
    labels = list(part["probs"])
    top = [labels[int(np.argmax([part["probs"][k][i] for k in labels]))] for i in range(len(times))]
    # what the shot's one label cannot say: still first, pushing in from its middle on
    assert all(label == "Static" for label, t in zip(top, times, strict=True) if t < 1.5), top
    assert all(label == "Push" for label, t in zip(top, times, strict=True) if t > 2.6), top
    for values in part["probs"].values():
        assert len(values) == len(times)
    assert np.allclose(np.sum([part["probs"][k] for k in labels], 0), 1.0, atol=0.01)


def test_the_people_timeline_shows_a_figure_framed_ever_wider_within_one_shot(tmp_path):
    """A real photograph of a woman: at first only her head and shoulders fill the frame, then the
    frame widens slowly to her waist, in one shot. The scale from people is read in each window."""
    from skimage.data import astronaut

    from .test_people import top_of

    person = np.asarray(astronaut())[..., :3]
    # 1.5 s close, 1.5 s widening, 1.5 s to the waist (the framings test_people reads CS and MS)
    shares = np.r_[np.full(36, 0.42), np.linspace(0.42, 0.8, 36), np.full(36, 0.8)]
    path = tmp_path / "widening.mp4"
    write_video(path, (top_of(person, share)[0] for share in shares), fps=24)
    plain = shotscope.analyze(path, None, settings=AnalyzeSettings(movement="geometry", scale="people"),
                              progress=False)
    assert "scale" not in plain.shots[0].timeline  # only when asked: it costs a frame a point
    # asked for on the command line: shots.json holds the scale's timeline beside the movement's
    assert main(["analyze", str(path), "--scale", "people", "--movement", "geometry", "--timeline-people",
                 "-o", str(tmp_path / "out"), "-q"]) == 0
    data = json.loads(next((tmp_path / "out").glob("*/shots.json")).read_text())
    assert len(data["shots"]) == 1 and data["settings"]["timeline_people"] is True
    timeline = data["shots"][0]["timeline"]
    part = timeline["scale"]
    assert part["source"] == "people" and len(timeline["times"]) == 9
    close = [part["probs"]["ECS"][i] + part["probs"]["CS"][i] for i in range(9)]
    assert close[0] > 0.9 and close[-1] < 0.5, close  # the head first, the figure to the waist at the end
    assert max(part["probs"], key=lambda k: part["probs"][k][-1]) == "MS"
    assert np.allclose(np.sum([part["probs"][k] for k in part["probs"]], 0), 1.0, atol=0.01)


def test_the_timeline_is_in_shots_json_and_under_the_reports_strip(push_starts, tmp_path):
    out = tmp_path / "out"
    assert main(["analyze", str(push_starts), "-o", str(out), "--movement", "geometry", "--scale", "none", "-q"]) == 0
    folder = next(p for p in out.iterdir() if p.is_dir())
    shots = json.loads((folder / "shots.json").read_text())["shots"]
    assert shots[0]["timeline"]["movement"]["probs"]["Push"][-1] > 0.5
    assert read_timelines(folder)[0][1]["times"] == shots[0]["timeline"]["times"]
    report = (folder / "report.html").read_text()
    svg = re.search(r'<svg[^>]*class="timeline" data-field="movement".*?</svg>', report, re.S)
    assert svg and MOVEMENT_COLOURS["Push"] in svg.group(0) and "from geometry" in svg.group(0)
    # turned off: none in shots.json, none in the report
    assert main(["analyze", str(push_starts), "-o", str(tmp_path / "off"), "--movement", "geometry",
                 "--scale", "none", "--timeline", "0", "-q"]) == 0
    off = next(p for p in (tmp_path / "off").iterdir() if p.is_dir())
    assert json.loads((off / "shots.json").read_text())["shots"][0]["timeline"] is None
    assert 'class="timeline"' not in (off / "report.html").read_text()


def test_a_step_too_small_is_refused_with_the_reason():
    with pytest.raises(DataError, match="timeline must be 0 .none. or at least 0.1 seconds"):
        AnalyzeSettings(timeline=0.01)
    with pytest.raises(DataError, match="timeline must be a number >= 0"):
        AnalyzeSettings(timeline=-1)


def test_with_the_network_each_window_is_a_clip_of_its_own(push_starts, tiny_model, monkeypatch):
    from shotscope.sources.network import NetworkSource

    seen = []
    classify = NetworkSource.classify

    def counting(self, clips):
        seen.append(len(clips))
        return classify(self, clips)

    monkeypatch.setattr(NetworkSource, "classify", counting)
    settings = AnalyzeSettings(movement="model", scale="model", timeline_network=True, batch_size=3)
    film = shotscope.analyze(push_starts, tiny_model, settings=settings, progress=False)
    timeline = film.shots[0].timeline
    assert sum(seen) == 1 + len(timeline["times"])  # the shot's clip and one a window, in batches
    assert max(seen) <= 3
    for task in ("scale", "movement"):
        assert timeline[task]["source"] == "model"
        assert all(len(v) == len(timeline["times"]) for v in timeline[task]["probs"].values())
    # without asking, the network's clips are the shot's alone; movement's timeline is geometry's
    seen.clear()
    film = shotscope.analyze(push_starts, tiny_model, settings=AnalyzeSettings(movement="geometry", scale="model"),
                             progress=False)
    assert sum(seen) == 1
    assert "scale" not in film.shots[0].timeline and film.shots[0].timeline["movement"]["source"] == "geometry"


def test_a_task_takes_the_source_its_label_came_from():
    def answer(source, task, probs):
        return {task: {source: Estimate(task, source, probs)}}

    still = {"Static": 0.9, "Motion": 0.05, "Pull": 0.025, "Push": 0.025}
    windows = [{"scale": {}, "movement": {"geometry": Estimate("movement", "geometry", still)}}] * 2
    record = timeline_record([0.25, 0.75], windows, {"scale": "model", "movement": "fused"})
    assert record["movement"]["source"] == "geometry"  # fused, without the network's windows: geometry's
    assert "scale" not in record  # the network's scale has no windows: none, not another source's
    assert timeline_record([0.25], [{"scale": {}, "movement": {}}], {"scale": "people", "movement": "model"}) is None


def test_the_chart_draws_each_point_over_its_stretch_and_leaves_gaps_empty():
    still = {"Static": [1.0, 1.0], "Motion": [0.0, 0.0], "Pull": [0.0, 0.0], "Push": [0.0, 0.0]}
    pushing = {"Static": [1.0, 0.0], "Motion": [0.0, 0.0], "Pull": [0.0, 0.0], "Push": [0.0, 1.0]}
    shots = [{"start_time": 0.0, "end_time": 1.0, "timeline": {"times": [0.25, 0.75], "movement": {"source": "geometry", "probs": still}}},
             {"start_time": 1.0, "end_time": 2.0},  # no timeline: a gap
             {"start_time": 2.0, "end_time": 4.0, "timeline": {"times": [2.5, 3.5], "movement": {"source": "geometry", "probs": pushing}}}]
    svg = probability_timeline(shots, "movement", 4.0, columns=8)
    bands = {fill: d for d, fill in re.findall(r'<path d="([^"]*)" fill="([^"]*)"', svg)}

    def thickness(fill: str) -> list[tuple[float, float]]:
        """(x, band height) along a label's band, every 25 units: each run's ring is its top edge
        left to right, then its bottom edge back."""
        out = []
        for ring in bands[fill].strip("Z").split("ZM"):
            pts = np.array([tuple(map(float, p.split(","))) for p in ring.strip("M").split("L")])
            turn = int(np.argmax(pts[:, 0]))
            upper, lower = pts[: turn + 1], pts[turn + 1:][::-1]
            for x in np.arange(upper[0, 0] + 1, upper[-1, 0], 25.0):
                out.append((x, np.interp(x, lower[:, 0], lower[:, 1]) - np.interp(x, upper[:, 0], upper[:, 1])))
        return out

    push, static = thickness(MOVEMENT_COLOURS["Push"]), thickness(MOVEMENT_COLOURS["Static"])
    # Push full height over its point's stretch (3-4 s: columns 6-8 of 8), nowhere else
    assert push and all((h > 23) == (x > 750) for x, h in push if abs(x - 750) > 125), push
    assert all(h > 23 for x, h in static if x < 250) and all(h < 1 for x, h in static if x > 875)
    # nothing drawn over the shot without a timeline (1-2 s: columns 2-4)
    assert not any(250 < x < 500 for fill in bands for x, _ in thickness(fill))
    assert probability_timeline([shots[1]], "movement", 4.0) == ""
