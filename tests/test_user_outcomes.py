"""What a user sees, pinned exactly (round 2): each boundary of each search filter, supercuts of
films at rates timecode has not, thumbnails of every kind and only those, what a rerun compares
before it reuses a result, a model's own label order in analyze, the pictures of a shot's ends,
cut lists rounded to the nearest frame, and several views sampled in time order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from starlette.testclient import TestClient

from shotscope import Archive
from shotscope._cli.main import main
from shotscope.analysis.results import FilmAnalysis, Shot
from shotscope.data.synthetic import make_film
from shotscope.provenance import make_provenance, why_stale
from shotscope.runs.jobs import write_film_folder
from shotscope.video.decode import write_video

from .conftest import reordered  # noqa: E402

LOCAL = "http://localhost"


def shot(i: int, start: int, end: int, fps: float, scale=None, scale_prob=None, movement=None, movement_prob=None):
    return Shot(i, start, end, start / fps, end / fps, scale=scale, scale_prob=scale_prob,
                scale_probs={scale: scale_prob} if scale else {}, movement=movement, movement_prob=movement_prob,
                movement_probs={movement: movement_prob} if movement else {}, movement_source="model",
                scale_source="model" if scale else None)


def archive_of(tmp: Path, fps: float, shots: list[Shot], name: str = "film.mp4") -> Path:
    """An archive holding one film folder made by hand (the film a real video of the shots' length)."""
    film = tmp / "films" / name
    frames = shots[-1].end_frame
    film.parent.mkdir(parents=True, exist_ok=True)
    write_video(film, (np.full((48, 64, 3), (7 * k) % 250, np.uint8) for k in range(frames)), fps=fps)
    analysis = FilmAnalysis(str(film), fps, frames, frames / fps, 64, 48, shots, {"model": None, "settings": {}})
    out = tmp / "out"
    write_film_folder(analysis, out / "film", make_provenance(film, None, {"analyze": {}}))
    Archive(out).add_film(out / "film")
    return out


@pytest.fixture
def graded(tmp_path):
    """Shots 1, 2, 3 and 4 s long with chosen confidences (24 fps: whole frames)."""
    shots = [shot(0, 0, 24, 24.0, "CS", 0.9, "Static", 0.5),  # 1 s; scale sure, movement not
             shot(1, 24, 72, 24.0, "MS", 0.5, "Static", 0.9),  # 2 s; movement sure, scale not
             shot(2, 72, 144, 24.0, "LS", 0.8, "Static", 0.8),  # 3 s; both exactly 0.8
             shot(3, 144, 240, 24.0, None, None, "Static", 0.95)]  # 4 s; no scale at all
    return archive_of(tmp_path, 24.0, shots)


def found(out: Path, **filters) -> list[int]:
    return Archive(out).shots(**filters)["shot"].tolist()


def test_each_length_filter_keeps_its_boundary(graded, capsys):
    assert found(graded, min_duration=2.0) == [1, 2, 3]  # a shot exactly that long is in
    assert found(graded, min_duration=2.0001) == [2, 3]
    assert found(graded, max_duration=2.0) == [0, 1]  # not the longer ones
    assert found(graded, max_duration=1.9999) == [0]
    assert found(graded, min_duration=2.0, max_duration=3.0) == [1, 2]
    assert main(["search", str(graded), "--min-duration", "2", "--max-duration", "3", "--format", "csv"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert [int(r.split(",")[4]) for r in rows] == [1, 2]  # the shot column of what the command prints


def test_min_confidence_wants_both_labels_sure(graded, capsys):
    assert found(graded, min_confidence=0.8) == [2, 3]  # 0.8 itself is enough; a missing label asks nothing
    assert found(graded, min_confidence=0.81) == [3]
    assert found(graded, min_confidence=0.5) == [0, 1, 2, 3]
    assert main(["search", str(graded), "--min-confidence", "0.8", "--format", "jsonl"]) == 0
    printed = capsys.readouterr().out
    assert [json.loads(line)["shot"] for line in printed.splitlines()] == [2, 3], printed
    page = TestClient(__import__("shotscope.web", fromlist=["create_app"]).create_app(graded), base_url=LOCAL)
    assert page.get("/shots/export.csv", params={"min_confidence": "0.8"}).text.count("\n") == 3  # header + 2


def test_label_filters_and_corrected_filter(graded):
    assert found(graded, scale="MS") == [1] and found(graded, movement="Static") == [0, 1, 2, 3]
    Archive(graded).correct("film.mp4", 0, "movement", "Push")
    assert found(graded, movement="Push") == [0] and found(graded, corrected=True) == [0]
    assert found(graded, corrected=False) == [1, 2, 3]


@pytest.mark.parametrize(("fps", "rate", "start", "end"), [
    (23.5, 24.0, 48, 96),  # frames 47..94 of a 23.5 fps film: at 24 fps, round(47 / 23.5 * 24) = 48
    (25.0, 25.0, 47, 94),  # a timecode rate: the film's own frames
    (90.0, 60.0, 31, 63),  # past 36 fps: a 60 fps timeline, round(47 / 90 * 60) = 31
])
def test_a_supercut_of_a_film_at_any_rate_cuts_where_the_film_does(tmp_path, fps, rate, start, end, capsys):
    shots = [shot(0, 0, 47, fps, "CS", 0.9, "Static", 0.9), shot(1, 47, 94, fps, "LS", 0.9, "Motion", 0.9)]
    out = archive_of(tmp_path, fps, shots)
    for kind, adapter in (("otio", "otio_json"), ("xml", "fcp_xml"), ("edl", "cmx_3600")):
        target = tmp_path / f"cut.{kind}"
        assert main(["search", str(out), "--movement", "Motion", "-o", str(target)]) == 0
        kwargs = {"rate": rate} if kind == "edl" else {}
        clip = list(otio.adapters.read_from_file(str(target), adapter, **kwargs).find_clips())[0]
        assert clip.source_range.start_time.rate == rate, kind
        assert clip.source_range.start_time.value == start, kind
        assert clip.source_range.end_time_exclusive().value == end, kind


@pytest.fixture(scope="module")
def fading(tmp_path_factory):
    """A film of two shots whose pictures brighten over each shot, analysed (movement only)."""
    root = tmp_path_factory.mktemp("fading")
    frames = [np.full((96, 160, 3), 20 + 8 * k, np.uint8) for k in range(24)] + \
             [np.full((96, 160, 3), 250 - 8 * k, np.uint8) for k in range(24)]
    for f, k in zip(frames, range(48), strict=True):
        f[10:20, 10 + k:20 + k] = 255 - f[0, 0]  # something moving, so frames differ besides brightness
    write_video(root / "film.mp4", iter(frames), fps=24)
    assert main(["analyze", str(root / "film.mp4"), "-o", str(root / "out"), "--movement", "geometry", "--scale",
                 "none", "--cuts", str(_cut_list(root, [0.0, 1.0])), "-q"]) == 0
    return root / "out"


def _cut_list(root: Path, starts: list[float]) -> Path:
    path = root / "cuts.csv"
    path.write_text("Scene Number,Start Time (seconds)\n" + "".join(f"{k + 1},{s}\n" for k, s in enumerate(starts)))
    return path


def test_a_shots_first_middle_and_last_pictures_are_its_own(fading):
    """frames.zip (and the web app serving it) hold each shot's first frame, its most telling middle
    one and its last: a shot that brightens has a darker first picture than its last; any other kind
    is refused."""
    import cv2

    from shotscope.outputs.frames import read_frame
    from shotscope.web import create_app

    folder = next(p for p in fading.iterdir() if (p / "frames.zip").is_file())
    bright = {}
    for kind in ("first", "middle", "last"):
        data = read_frame(folder, 0, kind)
        bright[kind] = float(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)[40:, 40:].mean())
    assert bright["first"] < bright["middle"] < bright["last"]
    dim = float(cv2.imdecode(np.frombuffer(read_frame(folder, 1, "last"), np.uint8), cv2.IMREAD_GRAYSCALE)[40:, 40:].mean())
    assert dim < bright["last"]  # the second shot darkens: its last picture is dark
    client = TestClient(create_app(fading), base_url=LOCAL)
    film = int(Archive(fading).films()["id"].iloc[0])
    for kind in ("first", "middle", "last"):
        answer = client.get(f"/thumb/{film}/0/{kind}")
        assert answer.status_code == 200 and answer.content == read_frame(folder, 0, kind)
    for kind in ("firstt", "thumbnail", "0", "FIRST"):
        assert client.get(f"/thumb/{film}/0/{kind}").status_code == 404, kind


def test_cut_lists_are_rounded_to_the_nearest_frame():
    import tempfile

    from shotscope.video.cuts import CutListDetector

    with tempfile.TemporaryDirectory() as tmp:
        detector = CutListDetector(_cut_list(Path(tmp), [0.0, 1.99, 3.01, 4.02]))
        detector.reset(24.0)
        cuts = [c for k in range(200) for c in detector.push(k, None)]
    assert cuts == [48, 72, 96]  # 47.76 -> 48, 72.24 -> 72, 96.48 -> 96 (not 47, 72, 96 by truncation)


def test_several_views_are_sampled_each_in_time_order(tmp_path):
    """With several views per clip, each view's frames are the ones shown at its own times, in order,
    though the views' times interleave."""
    from shotscope.video.sampling import sample_frames, sample_times

    path = tmp_path / "ramp.mp4"
    write_video(path, (np.full((32, 32, 3), 4 * k, np.uint8) for k in range(60)), fps=20)
    clip = sample_frames(path, 4, 0.5, 2.5, views=3)
    want = np.floor(sample_times(0.5, 2.5, 4, 3) * 20 + 1e-6).astype(int)
    assert (clip.indices == want).all()
    brightness = clip.frames.mean(axis=(2, 3, 4))
    assert (np.diff(brightness, axis=1) > 0).all() and (brightness[1] > brightness[0]).all()


# --- what a rerun compares before it reuses a result -------------------------------------------------

def _current(tmp_path: Path) -> dict:
    film = tmp_path / "f.mp4"
    make_film(film, [("LS", "Static", 24)], width=64, height=48)
    return make_provenance(film, None, {"analyze": {"movement": "geometry"}, "detector": {"name": "adaptive"}})


@pytest.mark.parametrize(("change", "why"), [
    (lambda p: p["film"].update(sha256_edges="0" * 64), "the film changed (content)"),
    (lambda p: p["film"].update(size=p["film"]["size"] + 1), "the film changed (size)"),
    (lambda p: p.update(model={"source": "m", "weights_sha256": "a", "movement_fusion": None, "preprocessing": None}),
     "the model changed (m -> none)"),
    (lambda p: p.update(shotscope_version="0.0.1"), "made by shotscope 0.0.1"),
    (lambda p: p["settings"]["analyze"].update(movement="model"), "the settings changed (analyze"),
    (lambda p: p["settings"]["detector"].update(name="content"), "the settings changed (detector"),
])
def test_every_field_a_rerun_compares(tmp_path, change, why):
    current = _current(tmp_path)
    stored = json.loads(json.dumps(current))
    assert why_stale(stored, current) is None
    change(stored)
    assert why_stale(stored, current).startswith(why)


@pytest.mark.parametrize("part", ["movement_fusion", "preprocessing"])
def test_a_new_combiner_or_preprocessing_beside_the_same_weights_is_not_reused(tmp_path, part):
    current = _current(tmp_path)
    current["model"] = {"source": "m", "weights_sha256": "a", "movement_fusion": "x", "preprocessing": {"size": 1}}
    stored = json.loads(json.dumps(current))
    stored["model"][part] = "y"
    assert why_stale(stored, current) == "the model's preprocessing or movement combiner changed"


def test_a_film_replaced_by_another_of_the_same_size_is_analysed_again(tmp_path, capsys):
    film = tmp_path / "film.mp4"
    make_film(film, [("LS", "Static", 24), ("CS", "Static", 24)], width=64, height=48)
    out = tmp_path / "out"
    assert main(["analyze", str(film), "-o", str(out), "--movement", "geometry", "--scale", "none", "-q"]) == 0
    data = bytearray(film.read_bytes())
    data[len(data) // 2] ^= 0xFF  # another film of the same size (a byte of its middle differs) ...
    data[-100] ^= 0xFF  # ... and of its end, which the content hash reads
    film.write_bytes(bytes(data))
    capsys.readouterr()
    main(["analyze", str(film), "-o", str(out), "--movement", "geometry", "--scale", "none"])
    err = capsys.readouterr().err
    assert "0 reused" in err and "the film changed (content)" in err


def test_a_result_of_another_shotscope_version_is_not_reused(tmp_path, capsys):
    film = tmp_path / "film.mp4"
    make_film(film, [("LS", "Static", 24)], width=64, height=48)
    out = tmp_path / "out"
    assert main(["analyze", str(film), "-o", str(out), "--movement", "geometry", "--scale", "none", "-q"]) == 0
    record = next(out.glob("*/provenance.json"))
    data = json.loads(record.read_text())
    data["shotscope_version"] = "0.0.9"
    record.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["analyze", str(film), "-o", str(out), "--movement", "geometry", "--scale", "none"]) == 0
    err = capsys.readouterr().err
    assert "1 analysed, 0 reused" in err and "made by shotscope 0.0.9" in err


# --- a model's own label order in analyze ------------------------------------------------------------

def test_analyze_names_labels_by_the_models_config_not_the_built_in_order(tiny_model, tmp_path):
    """The same network with its heads and label maps in another order labels every shot the same."""

    import shotscope

    film = tmp_path / "film.mp4"
    make_film(film, [("LS", "Static", 20), ("CS", "Motion", 20), ("MS", "Static", 20)], width=96, height=64)
    other = reordered(tiny_model, [3, 0, 4, 1, 2], [2, 3, 1, 0])
    ours = shotscope.analyze(film, tiny_model, progress=False).shots
    theirs = shotscope.analyze(film, other, progress=False).shots
    assert [(s.scale, s.movement) for s in theirs] == [(s.scale, s.movement) for s in ours]
    assert [s.scale_probs for s in theirs] == [s.scale_probs for s in ours]
    assert list(theirs[0].scale_probs) == list(shotscope.SCALE_LABELS)  # shown in shotscope's order
    shutil.rmtree(tmp_path)


def test_several_views_with_a_decoder_that_only_decodes_in_order(tmp_path):
    """A backend that decodes in order only (the base class's way, as a decoder other than PyAV's
    seeking one does): the views' interleaved times still give each view its own frames."""
    from shotscope.video.decode import DecodedFrame, VideoBackend, VideoInfo
    from shotscope.video.sampling import sample_frames, sample_times

    class InOrder(VideoBackend):
        name = "in-order"

        @property
        def info(self):
            from fractions import Fraction

            return VideoInfo(str(self.path), 32, 32, 32, 32, Fraction(1), 0, 20.0, 3.0, 60, True, 0.0, "raw", "rgb24")

        def frames(self, start=None, end=None):
            for k in range(60):
                t = k / 20
                if (start is None or t >= start - 1e-9) and (end is None or t < end):
                    yield DecodedFrame(k, t, None)

        def to_rgb(self, frame, size=None, display=True):
            return np.full((32, 32, 3), frame.index, np.uint8)

    clip = sample_frames(InOrder(tmp_path / "x.mp4"), 4, 0.5, 2.5, views=3)
    want = np.floor(sample_times(0.5, 2.5, 4, 3) * 20 + 1e-6).astype(int)
    assert (clip.indices == want).all()
    assert (clip.frames[..., 0, 0, 0] == want).all()
