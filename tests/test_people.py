"""Shot scale from the people in the frame: a real photograph of a person framed closer and wider
reads closer and wider scales; nobody in frame gives spread probabilities; the estimate travels
through analyze, predict and evaluate without any model, and is the default offline."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from shotscope.labels import SCALE_LABELS
from shotscope.sources.people import (
    BODY_BANDS,
    FACE_SHARE,
    SKIN_LEAST,
    band_probabilities,
    detector,
    estimate_scale,
    skin_share,
)

skimage_data = pytest.importorskip("skimage.data")


def astronaut() -> np.ndarray:
    return np.asarray(skimage_data.astronaut())[..., :3]  # a real photograph: a woman from the waist up


def background(size: tuple[int, int]) -> np.ndarray:
    """A real photograph to stand the person in (scikit-learn's picture of a Chinese temple)."""
    from sklearn.datasets import load_sample_image

    return cv2.resize(load_sample_image("china.jpg"), size, interpolation=cv2.INTER_AREA)


def framed(person: np.ndarray, scale: float, size: tuple[int, int] = (640, 360)) -> np.ndarray:
    """``person`` at ``scale`` times the frame's height, centred on a photograph (or cropped to its
    top centre where larger): the same person, framed wider or closer."""
    w, h = size
    side = max(1, round(h * scale))
    img = cv2.resize(person, (side, side), interpolation=cv2.INTER_AREA if side < person.shape[0] else cv2.INTER_CUBIC)
    frame = background(size)
    if side <= h:
        y, x = (h - side) // 2, (w - side) // 2
        frame[y:y + side, x:x + side] = img
    else:  # closer than the frame: its top centre (the face) fills it
        x0 = (side - w) // 2 if side > w else 0
        part = img[: h, x0: x0 + w]
        frame[: part.shape[0], (w - part.shape[1]) // 2: (w - part.shape[1]) // 2 + part.shape[1]] = part
    return np.stack([frame] * 3)


def test_the_closer_the_framing_the_closer_the_scale():
    """The photograph framed ever closer: the face is found, its height grows with the framing, and
    the scale read never moves wider; the tightest framings are close-ups, the widest long or full shots."""
    readings = []
    for scale in (0.35, 0.5, 1.0, 1.8, 3.0):
        est = estimate_scale(framed(astronaut(), scale))
        readings.append(est)
    faces = [e.face_height for e in readings if e.evidence == "face"]
    assert len(faces) >= 4 and faces == sorted(faces)
    order = [SCALE_LABELS.index(e.label) for e in readings]  # ECS 0 ... LS 4: closer is smaller
    assert order == sorted(order, reverse=True), [e.label for e in readings]
    assert readings[-1].label in ("ECS", "CS") and readings[0].label in ("FS", "LS")
    assert readings[2].label == "MS" and readings[2].evidence == "face"  # the photograph as taken: waist up
    for est in readings:
        assert abs(sum(est.probabilities.values()) - 1) < 1e-3 and est.confidence == max(est.probabilities.values())
        assert list(est.probabilities) == list(SCALE_LABELS)


def test_the_evidence_says_what_was_found():
    est = estimate_scale(framed(astronaut(), 1.0))
    assert est.faces >= 1 and est.frames >= 2 and est.boxes
    assert est.body_height == pytest.approx(est.face_height / FACE_SHARE, rel=1e-3)
    data = est.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain values for shots.json


def test_in_colour_a_face_must_show_skin():
    """The face of the photograph passes the skin check; the same picture with its colours turned
    (skin gone blue, the shapes unchanged) has no face for the estimate, while a black-and-white
    copy, with no colour to judge by, keeps it."""
    frame = framed(astronaut(), 1.0)[0]
    gray = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
    plain = detector().faces(gray, profiles=False)
    assert plain, "the cascade finds the face"
    assert max(skin_share(frame, b) for b in plain) >= SKIN_LEAST
    assert detector().faces(gray, profiles=False, rgb=frame) == plain
    turned = np.ascontiguousarray(frame[..., ::-1])  # red and blue swapped: the face goes blue
    assert all(skin_share(turned, b) < SKIN_LEAST for b in plain)
    assert detector().faces(gray, profiles=False, rgb=turned) == []
    mono = np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)] * 3, -1)
    assert detector().faces(gray, profiles=False, rgb=mono) == plain
    wall = np.full((360, 640, 3), (120, 160, 230), np.uint8)  # a pale blue wall
    assert skin_share(wall, (0.2, 0.2, 0.4, 0.4)) == 0.0


def test_nobody_in_the_frame_gives_an_honest_spread():
    rng = np.random.default_rng(0)
    sharp = np.stack([rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)] * 3)  # detail everywhere: a wide view
    blurred = sharp.copy()
    blurred[:, :, :480] = cv2.GaussianBlur(sharp[0], (0, 0), 12)[None, :, :480]  # most of it out of focus
    wide, detail = estimate_scale(sharp), estimate_scale(blurred)
    for est in (wide, detail):
        assert est.evidence == "nobody" and est.confidence < 0.65  # never a sure answer without people
    assert wide.label == "LS" and wide.focus > detail.focus
    assert detail.probabilities["ECS"] + detail.probabilities["CS"] > wide.probabilities["ECS"] + wide.probabilities["CS"]
    assert estimate_scale(np.zeros((0, 8, 8, 3), np.uint8)).label == "LS"


def test_band_probabilities_follow_the_bands():
    for body, label in ((0.3, "LS"), (0.9, "FS"), (1.8, "MS"), (4.0, "CS"), (10.0, "ECS")):
        p = band_probabilities(math.log(body), 0.3)
        assert max(p, key=p.get) == label and abs(sum(p.values()) - 1) < 1e-3
    edge = band_probabilities(math.log(BODY_BANDS[2]), 0.3)  # on the MS/CS boundary: a toss-up
    assert edge["MS"] == pytest.approx(edge["CS"], abs=0.01)


def test_a_film_without_a_model_gets_scale_from_people(tmp_path):
    """analyze with no model: every shot's scale from the people in it (with its evidence), in
    shots.json and the CSV; --scale none leaves it empty; --scale model without a model is refused."""
    from shotscope._cli.main import main
    from shotscope.video.decode import write_video

    film = tmp_path / "film.mp4"
    frames = [framed(astronaut(), 1.0)[0]] * 24 + [framed(astronaut(), 3.0)[0]] * 24
    write_video(film, iter(frames), fps=24)
    assert main(["analyze", str(film), "-o", str(tmp_path / "out"), "--movement", "geometry", "-q"]) == 0
    data = json.loads(next((tmp_path / "out").glob("*/shots.json")).read_text())
    assert [s["scale_source"] for s in data["shots"]] == ["people", "people"]
    assert data["shots"][0]["scale"] == "MS" and data["shots"][1]["scale"] in ("CS", "ECS")
    assert data["shots"][0]["people"]["evidence"] == "face" and data["settings"]["scale"] == "people"
    assert main(["analyze", str(film), "-o", str(tmp_path / "none"), "--movement", "geometry", "--scale", "none",
                 "-q"]) == 0
    data = json.loads(next((tmp_path / "none").glob("*/shots.json")).read_text())
    assert all(s["scale"] is None and s["scale_source"] is None for s in data["shots"])
    assert main(["analyze", str(film), "-o", str(tmp_path / "x"), "--movement", "geometry", "--scale", "model",
                 "-q"]) == 2


def test_offline_without_the_published_model_analyze_needs_no_model(tmp_path, monkeypatch, capsys):
    """No -m, the hub offline and the published model not in the cache: analyze says so and labels
    scale from people and movement from geometry, loading no model (not even torch's weights)."""
    from shotscope._cli.main import main
    from shotscope.video.decode import write_video

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    film = tmp_path / "film.mp4"
    write_video(film, iter([framed(astronaut(), 1.0)[0]] * 24), fps=24)
    assert main(["analyze", str(film), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "not on this machine" in err and "scale from the people in the frame, movement from geometry" in err
    data = json.loads(next((tmp_path / "out").glob("*/shots.json")).read_text())
    assert data["model"] is None and data["shots"][0]["scale_source"] == "people"
    assert data["shots"][0]["movement_source"] == "geometry"


def test_predict_and_evaluate_take_scale_from_people(tmp_path):
    from shotscope._cli.main import main
    from shotscope.video.decode import write_video

    clips = []
    for k, (scale, label) in enumerate(((1.0, "MS"), (3.0, "CS"))):
        path = tmp_path / f"c{k}.mp4"
        write_video(path, iter([framed(astronaut(), scale)[0]] * 16), fps=24)
        clips.append((path, label))
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,scale,movement\n" + "".join(f"{p},{lab},Static\n" for p, lab in clips))
    assert main(["predict", str(manifest), "--scale", "people", "--movement", "geometry", "--format", "csv",
                 "-o", str(tmp_path / "p.csv"), "-q"]) == 0
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0].split(",")[1:3] == ["scale", "scale_prob"] and rows[1].split(",")[1] == "MS"
    assert main(["evaluate", "--data", str(manifest), "--scale", "people", "--movement", "geometry", "-o",
                 str(tmp_path / "ev"), "-q"]) == 0
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["scale"]["n"] == 2 and metrics["scale"]["accuracy"] is not None
    assert metrics["scale_source"] == "people"
