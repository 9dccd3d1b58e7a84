"""Archives on a local Ray cluster: every film once, the same outputs as one process, a bad film
recorded, a crashed worker retried, a rerun after the driver stops reusing what is done."""

from __future__ import annotations

import json
import shutil

import pytest

from shotscope.data.synthetic import make_film
from shotscope.runs.batch import analyze_many, output_dir_for
from shotscope.runs.distributed import CRASH_ONCE_ENV

ray = pytest.importorskip("ray")  # installed by the dev extra: CI runs these


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import os

    markers = tmp_path_factory.mktemp("crash-markers")
    os.environ[CRASH_ONCE_ENV] = str(markers)  # the workers inherit it: the first task on crash-*.mp4 dies
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield markers
    ray.shutdown()
    os.environ.pop(CRASH_ONCE_ENV, None)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    make_film(root / "a.mp4", [("LS", "Static", 20), ("CS", "Motion", 20)], width=160, height=96)
    make_film(root / "b.mp4", [("MS", "Push", 30), ("FS", "Static", 20), ("LS", "Pull", 20)], width=160, height=96)
    shutil.copy(root / "a.mp4", root / "crash-c.mp4")
    (root / "broken.mp4").write_text("not a film")
    return root


def _outputs(folder):
    return {name: (folder / name).read_text() for name in ("shots.csv", "shots.json", "shots.edl")}


def test_ray_runs_every_film_once_like_one_process(cluster, archive, tmp_path, tiny_model):
    tiny_model.save_pretrained(tmp_path / "model")
    from shotscope import load_model

    model = load_model(tmp_path / "model", precision="fp32")
    single = analyze_many([str(archive)], tmp_path / "one", model, progress=False)
    on_ray = analyze_many([str(archive)], tmp_path / "ray", model, progress=False, ray="local")
    assert len(on_ray.done) == len(single.done) == 3
    assert list(on_ray.errors) == list(single.errors) == [str(archive / "broken.mp4")]
    assert "not a readable video file" in on_ray.errors[str(archive / "broken.mp4")]
    # the film's own error, word for word as one process says it, not Ray's wrapper of it
    assert on_ray.errors == single.errors and "Ray" not in on_ray.errors[str(archive / "broken.mp4")]
    assert (cluster / "crash-c.mp4.crashed").exists()  # its worker died once; the retry finished it
    for film in ("a.mp4", "b.mp4", "crash-c.mp4"):
        assert _outputs(output_dir_for(archive / film, tmp_path / "ray")) == \
            _outputs(output_dir_for(archive / film, tmp_path / "one"))
    errors = json.loads((tmp_path / "ray" / "errors.json").read_text())
    assert list(errors) == [str(archive / "broken.mp4")]
    runs = json.loads((tmp_path / "ray" / "runs.json").read_text())
    assert runs[-1]["status"] == "done" and runs[-1]["done"] == 3 and runs[-1]["failed"] == 1
    again = analyze_many([str(archive)], tmp_path / "ray", model, progress=False, ray="local")  # a driver rerun
    assert again.done == [] and len(again.skipped) == 3


def test_ray_task_that_fails_every_time_is_recorded(cluster, archive, tmp_path, monkeypatch):
    """Retries are for faults that pass; a film that fails every time lands in the record. No bar
    when told so, even on a terminal."""
    import sys

    from shotscope.analysis.film import AnalyzeSettings

    from .conftest import Terminal

    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    result = analyze_many([str(archive / "a.mp4"), str(archive / "broken.mp4")], tmp_path / "out", None,
                          settings=AnalyzeSettings(movement="geometry", start=100.0), progress=False, ray="local")
    monkeypatch.undo()
    assert "films" not in err.getvalue()
    assert result.done == [] and len(result.errors) == 2
    assert "no decodable video frames in [100.000" in result.errors[str(archive / "a.mp4")]
