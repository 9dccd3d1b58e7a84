"""Shot scale from the people in the frame: a real photograph of a person framed closer reads
closer scales (MediaPipe's pose models, and OpenCV's detectors as the fallback); the body's height
read from where the landmarks lie; nobody in frame gives spread probabilities; the models come from
the mediapipe wheel, checked; the estimate travels through analyze, predict and evaluate without
any model, and is the default offline."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from shotscope.labels import SCALE_LABELS
from shotscope.sources.blazepose import Person
from shotscope.sources.opencv_people import FACE_SHARE, SKIN_LEAST, detector, skin_share
from shotscope.sources.people import BODY_BANDS, CANON, band_probabilities, body_from_pose, estimate_scale

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


def top_of(person: np.ndarray, share: float, size: tuple[int, int] = (640, 360)) -> np.ndarray:
    """The top ``share`` of a photograph of a person filling the frame's height (black bars at the
    sides, its middle where wider): the photograph framed closer, the frame's bottom edge ever
    higher on the body."""
    w, h = size
    part = person[: max(8, round(person.shape[0] * share))]
    img = cv2.resize(part, (max(1, round(part.shape[1] * h / part.shape[0])), h), interpolation=cv2.INTER_AREA)
    if img.shape[1] > w:
        img = img[:, (img.shape[1] - w) // 2:][:, :w]
    frame = np.zeros((h, w, 3), np.uint8)
    frame[:, (w - img.shape[1]) // 2:(w - img.shape[1]) // 2 + img.shape[1]] = img
    return np.stack([frame] * 3)


def test_the_closer_the_framing_the_closer_the_pose_reads():
    """MediaPipe's pose of the photograph (a woman from the waist up) framed ever closer: the body's
    height read grows with every step, the parts in frame go from head, shoulders to the head
    alone, and the scale goes from a medium shot through close-ups to an extreme close-up."""
    readings = [estimate_scale(top_of(astronaut(), share)) for share in (0.8, 0.6, 0.45, 0.25)]
    assert all(e.detector == "mediapipe" and e.evidence == "pose" and e.people >= 1 for e in readings)
    heights = [e.body_height for e in readings]
    assert heights == sorted(heights) and heights[0] < BODY_BANDS[2] < heights[1], heights
    assert [e.label for e in readings] == ["MS", "CS", "CS", "ECS"]
    assert readings[0].parts[:2] == ["head", "shoulders"] and "hips" not in readings[0].parts
    assert readings[-1].parts == ["head"]
    for est in readings:
        assert abs(sum(est.probabilities.values()) - 1) < 1e-3 and est.confidence == max(est.probabilities.values())
        assert list(est.probabilities) == list(SCALE_LABELS)
    assert json.loads(json.dumps(readings[0].to_dict())) == readings[0].to_dict()  # plain values for shots.json


def person_at(marks: dict[tuple[int, ...], tuple[float, float]], seen: float = 1.0) -> Person:
    """A person whose landmark groups (``marks``: indices -> x, y in frame heights) lie as given."""
    points = np.full((33, 2), 0.5)
    for idx, xy in marks.items():
        points[list(idx)] = xy
    return Person(score=0.9, presence=0.99, size=1.0, points=points, visibility=np.full(33, seen))


def standing(top: float, height: float) -> dict:
    """A standing figure's landmarks: the head's top at ``top``, ``height`` tall (frame heights)."""
    return {idx: (0.8, top + share * height) for idx, share in CANON}


def test_the_body_height_read_from_the_landmarks():
    """A whole figure in frame is as tall as it stands; a frame cut at the waist (0.45 of the
    body's height) holds a body 2.2 frame heights tall; feet in frame but hidden (behind a table) cut the
    body below the lowest part seen; landmarks that do not stand upright read nothing."""
    whole = body_from_pose(person_at(standing(0.1, 0.8)), 16 / 9)
    assert whole[0] == pytest.approx(0.8) and whole[1] == ["head", "shoulders", "hips", "knees", "ankles"]
    cut = body_from_pose(person_at(standing(0.0, 2.2)), 16 / 9)  # frame bottom above the hips: the waist
    assert cut[0] == pytest.approx(2.2, rel=0.01) and cut[1] == ["head", "shoulders"]
    assert max(band_probabilities(math.log(cut[0]), 0.3).items(), key=lambda kv: kv[1])[0] == "MS"
    hidden = person_at(standing(0.1, 0.8))
    hidden.visibility[[25, 26, 27, 28]] = 0.1  # knees and feet behind a table
    height, parts = body_from_pose(hidden, 16 / 9)
    assert parts == ["head", "shoulders", "hips"] and height == pytest.approx(1 / 0.61)
    upside_down = person_at({idx: (0.8, 0.9 - share * 0.8) for idx, share in CANON})
    assert body_from_pose(upside_down, 16 / 9) is None
    off_side = person_at(standing(0.1, 0.8))
    off_side.points[:, 0] = 2.5  # beyond the frame's right edge: nothing of it in frame
    assert body_from_pose(off_side, 16 / 9) is None


def test_the_closer_the_framing_the_closer_the_scale_with_opencv():
    """OpenCV's detectors (the fallback) on the photograph framed ever closer: the face is found,
    its height grows with the framing, and the scale read never moves wider; the tightest framings
    are close-ups, the widest long or full shots."""
    readings = []
    for scale in (0.35, 0.5, 1.0, 1.8, 3.0):
        est = estimate_scale(framed(astronaut(), scale), detector="opencv")
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
    est = estimate_scale(framed(astronaut(), 1.0), detector="opencv")
    assert est.detector == "opencv" and est.faces >= 1 and est.frames >= 2 and est.boxes
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
    """analyze with no model: every shot's scale from the people in it (with its evidence and the
    detector that found them), in shots.json and the CSV; a rerun with OpenCV's detectors redoes
    the film; --scale none leaves it empty; --scale model without a model is refused."""
    from shotscope._cli.main import main
    from shotscope.video.decode import write_video

    film = tmp_path / "film.mp4"
    frames = [top_of(astronaut(), 0.8)[0]] * 24 + [top_of(astronaut(), 0.3)[0]] * 24
    write_video(film, iter(frames), fps=24)
    assert main(["analyze", str(film), "-o", str(tmp_path / "out"), "--movement", "geometry", "-q"]) == 0
    data = json.loads(next((tmp_path / "out").glob("*/shots.json")).read_text())
    assert [s["scale_source"] for s in data["shots"]] == ["people", "people"]
    assert data["shots"][0]["scale"] == "MS" and data["shots"][1]["scale"] in ("CS", "ECS")
    assert data["shots"][0]["people"]["evidence"] == "pose" and data["settings"]["scale"] == "people"
    assert data["shots"][0]["people"]["detector"] == "mediapipe" and "shoulders" in data["shots"][0]["people"]["parts"]
    assert data["settings"]["people_detector"] == "mediapipe"  # what made it, so a rerun with another one redoes it
    assert main(["analyze", str(film), "-o", str(tmp_path / "out"), "--movement", "geometry", "-q",
                 "--people-detector", "opencv"]) == 0
    data = json.loads(next((tmp_path / "out").glob("*/shots.json")).read_text())
    assert data["settings"]["people_detector"] == "opencv"
    assert {s["people"]["detector"] for s in data["shots"]} == {"opencv"}
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
    for k, (share, label) in enumerate(((0.8, "MS"), (0.5, "CS"))):
        path = tmp_path / f"c{k}.mp4"
        write_video(path, iter([top_of(astronaut(), share)[0]] * 16), fps=24)
        clips.append((path, label))
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,scale,movement\n" + "".join(f"{p},{lab},Static\n" for p, lab in clips))
    assert main(["predict", str(manifest), "--scale", "people", "--movement", "geometry", "--format", "csv",
                 "-o", str(tmp_path / "p.csv"), "-q"]) == 0
    import csv

    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert list(rows[0])[1:3] == ["scale", "scale_prob"] and rows[0]["scale"] == "MS"
    # each row says where its scale came from and who found the people (MediaPipe's models, fetched)
    assert {(r["scale_source"], r["people_detector"]) for r in rows} == {("people", "mediapipe")}
    assert main(["predict", str(manifest), "--scale", "people", "--people-detector", "opencv", "--movement",
                 "geometry", "--format", "jsonl", "-o", str(tmp_path / "p.jsonl"), "-q"]) == 0
    opencv = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [r["people_detector"] for r in opencv] == ["opencv", "opencv"]
    assert main(["evaluate", "--data", str(manifest), "--scale", "people", "--movement", "geometry", "-o",
                 str(tmp_path / "ev"), "-q", "--people-detector", "opencv"]) == 0
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["scale"]["n"] == 2 and metrics["scale"]["accuracy"] is not None
    assert metrics["scale_source"] == "people" and metrics["people_detector"] == "opencv"
