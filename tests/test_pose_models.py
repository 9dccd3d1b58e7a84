"""MediaPipe's model files for the scale from people: taken out of the mediapipe wheel and checked,
never half-written, refused when they are not the files expected; without them the estimate falls
back to OpenCV's detectors and says so, or, asked for MediaPipe's, fails naming the fix."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

from shotscope.errors import ModelLoadError
from shotscope.sources.people import estimate_scale
from shotscope.sources.pose_models import MODEL_FILES, fetch_people_models, model_paths

skimage_data = pytest.importorskip("skimage.data")


def wheel_with(tmp_path: Path, people_models: Path, change: str | None = None) -> Path:
    """A wheel holding the three model files where mediapipe's does (``change``: that one's bytes altered)."""
    path = tmp_path / "mediapipe-0.10.9-cp311-cp311-manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr("mediapipe/__init__.py", "")
        for name, (member, _) in MODEL_FILES.items():
            data = (people_models / Path(member).name).read_bytes()
            whl.writestr(member, data[:-1] + bytes([data[-1] ^ 1]) if name == change else data)
    return path


def test_the_models_come_out_of_the_wheel_checked(tmp_path, people_models):
    target = tmp_path / "models"
    paths = fetch_people_models(target, wheel=wheel_with(tmp_path, people_models))
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in paths.values())  # nothing else left
    for name, path in paths.items():
        assert path.read_bytes() == (people_models / Path(MODEL_FILES[name][0]).name).read_bytes()
    stamp = {p: p.stat().st_mtime_ns for p in paths.values()}
    assert fetch_people_models(target, wheel=tmp_path / "no-such.whl") == paths  # already there: kept, no wheel read
    assert {p: p.stat().st_mtime_ns for p in paths.values()} == stamp


def test_a_model_that_is_not_the_one_expected_is_refused(tmp_path, people_models):
    """A wheel whose landmark model differs: refused, naming the wheel and the file, and nothing of
    it written; a damaged file in the models' folder is refused by name and replaced by the next fetch."""
    target = tmp_path / "models"
    bad = wheel_with(tmp_path, people_models, change="pose_landmark")
    with pytest.raises(ModelLoadError, match=r"\.whl: its .*pose_landmark_full\.tflite is not the file expected"):
        fetch_people_models(target, wheel=bad)
    assert not (target / "pose_landmark_full.tflite").exists()
    assert not [p for p in target.glob(".*")]  # no temporary file left
    assert model_paths(target) is None  # incomplete: the estimate will not use it
    good = fetch_people_models(target, wheel=wheel_with(tmp_path, people_models))
    landmark = good["pose_landmark"]
    landmark.write_bytes(landmark.read_bytes()[:-10])  # cut short
    with pytest.raises(ModelLoadError, match="pose_landmark_full.tflite: not MediaPipe's"):
        model_paths(target)
    assert fetch_people_models(target, wheel=wheel_with(tmp_path, people_models)) == good
    assert model_paths(target) == good


def test_a_file_that_is_no_wheel_is_named(tmp_path):
    junk = tmp_path / "mediapipe.whl"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelLoadError, match="mediapipe.whl: not a readable wheel"):
        fetch_people_models(tmp_path / "models", wheel=junk)


def test_without_the_models_opencv_stands_in_and_says_so(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SHOTSCOPE_PEOPLE_MODELS", str(tmp_path / "empty"))
    frames = np.stack([np.asarray(skimage_data.astronaut())[..., :3]] * 3)
    with caplog.at_level(logging.WARNING, logger="shotscope"):
        est = estimate_scale(frames)
    assert est.detector == "opencv" and est.label in ("MS", "CS")
    assert "fetch-people-models" in caplog.text and "OpenCV" in caplog.text
    with pytest.raises(ModelLoadError, match="empty: MediaPipe's pose and face models are not there.*fetch-people-models"):
        estimate_scale(frames, detector="mediapipe")
    with pytest.raises(ValueError, match="detector must be one of"):
        estimate_scale(frames, detector="yolo")


def test_the_command_fetches_them_from_a_wheel(tmp_path, people_models, capsys):
    from shotscope._cli.main import main

    assert main(["fetch-people-models", "--wheel", str(wheel_with(tmp_path, people_models)),
                 "--dir", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "m") in out and "pose_landmark_full.tflite" in out
    assert model_paths(tmp_path / "m") is not None
    junk = tmp_path / "x.whl"
    junk.write_bytes(b"junk")
    assert main(["fetch-people-models", "--wheel", str(junk), "--dir", str(tmp_path / "n")]) == 2
    assert "x.whl: not a readable wheel" in capsys.readouterr().err
