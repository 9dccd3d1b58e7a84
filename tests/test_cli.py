"""Habits users bring from scenedetect, transformers and OpenTimelineIO: a fast, quiet command line,
the same movement through predict/evaluate/analyze, the options they reach for, Hugging Face
loading and pipelines, and outputs without float noise."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

from shotscope.data.synthetic import make_film
from shotscope.runs.batch import output_dir_for

from .conftest import real_video

ENV = dict(os.environ, HF_HUB_OFFLINE="1")
SHOTS = [("LS", "Static", 24), ("CS", "Motion", 30), ("MS", "Static", 24)]


def shotscope(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shotscope", *map(str, args)], capture_output=True, text=True,
                          env=ENV, **kw)


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "film.mp4"
    make_film(path, SHOTS, width=160, height=96, fps=24)
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    import torch

    from shotscope import PreprocessConfig, ShotScopeConfig, ShotScopeModel

    from .conftest import TINY

    torch.manual_seed(1)
    model = ShotScopeModel(ShotScopeConfig(**TINY)).eval()
    model.preprocess_config = PreprocessConfig(image_size=TINY["image_size"])
    path = tmp_path_factory.mktemp("m") / "model"
    model.save_pretrained(path)
    return path


def test_help_and_usage_errors_load_no_heavy_library():
    code = ("import sys\nfrom shotscope._cli.main import build_parser, main\nbuild_parser()\n"
            "try:\n    main(['analyze', '--batch-size', '0', 'x'])\nexcept SystemExit as e:\n    code = e.code\n"
            "print(code, sorted(m for m in ('torch', 'transformers', 'cv2', 'av', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert out.stdout.split("\n")[-2] == "2 []", out.stdout + out.stderr
    helps = [shotscope("--help"), shotscope("--version")] + [shotscope(c, "--help") for c in
                                                            ("analyze", "predict", "evaluate", "train", "prepare")]
    assert all(h.returncode == 0 for h in helps)
    analyze_help = helps[2].stdout
    for option in ("--start", "--end", "--device", "--threshold", "--min-scene-len", "--cuts", "--format", "-o OUT, --out OUT",
                   "-q, --quiet", "-v, --verbose", "examples:", "(default: adaptive)"):
        assert option in analyze_help, option


def test_output_is_quiet_and_results_alone_go_to_stdout(film, model_dir, tmp_path):
    out = shotscope("analyze", film, "-m", model_dir, "-o", tmp_path / "o")
    assert out.returncode == 0, out.stderr
    report = output_dir_for(film, tmp_path / "o") / "report.html"
    assert out.stdout.splitlines() == [str(report)]  # stdout: the results
    for noise in ("\r", "\x1b[", "it/s", "Loading weights", "Writing model", "Traceback", "{'"):
        assert noise not in out.stderr, (noise, out.stderr)
    assert "1 analysed" in out.stderr and len(out.stderr.splitlines()) <= 3
    quiet = shotscope("analyze", film, "-m", model_dir, "-o", tmp_path / "o", "--force", "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""
    forced_bars = shotscope("analyze", film, "-m", model_dir, "-o", tmp_path / "o", "--force", "--progress")
    assert "films" in forced_bars.stderr and "film/s" in forced_bars.stderr  # bars when asked, off a terminal too


def test_same_clip_same_labels_through_predict_evaluate_and_analyze(model_dir, tmp_path, capsys):
    """The clip is one shot: analyze, predict and evaluate see the same frames and the same movement source."""
    import shutil

    from shotscope._cli.main import main
    from shotscope.sources.fusion import MovementFusion

    def run(*args) -> str:
        assert main(list(map(str, args))) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    clip = tmp_path / "clip.mp4"
    make_film(clip, [("MS", "Push", 30)], width=160, height=96, fps=24)
    fused_model = tmp_path / "fused"
    shutil.copytree(model_dir, fused_model)
    rng = np.random.default_rng(0)
    MovementFusion(rng.normal(size=(4, 15)), rng.normal(size=4), np.zeros(15), np.ones(15)).save(fused_model)
    for model in (model_dir, fused_model):
        for movement in ("auto", "model", "geometry"):
            out = run("analyze", clip, "-m", model, "-o", tmp_path / f"a-{model.name}-{movement}", "--movement",
                      movement, "--format", "json")
            shot = json.loads(out[out.index("{"):])["shots"]
            assert len(shot) == 1
            row = json.loads(run("predict", clip, "-m", model, "--movement", movement, "--format", "jsonl"))
            assert (row["scale"], row["movement"], row["movement_source"]) == (
                shot[0]["scale"], shot[0]["movement"], shot[0]["movement_source"]), (movement, row, shot[0])
            assert row["scale_prob"] == pytest.approx(shot[0]["scale_prob"], abs=1e-3)
            assert row["movement_prob"] == pytest.approx(shot[0]["movement_prob"], abs=1e-3)
            manifest = tmp_path / "m.csv"
            manifest.write_text(f"path,scale,movement\n{clip},{row['scale']},{row['movement']}\n")
            run("evaluate", "-m", model, "--data", manifest, "-o", tmp_path / "ev", "--movement", movement)
            metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
            assert metrics["scale"]["accuracy"] == 100 and metrics["movement"]["accuracy"] == 100
            assert metrics["movement_source"] == row["movement_source"]
            if movement == "auto":
                assert row["movement_source"] == ("fused" if model == fused_model else "model")
    assert row["movement_source"] == "geometry"


def test_predict_without_a_model_and_with_ranges(film, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,start,end\n{film},0,1\n{film},1.0,2.25\n")
    out = shotscope("predict", manifest, "--movement", "geometry", "--scale", "none", "--format", "csv", "-o",
                    tmp_path / "p.csv")
    assert out.returncode == 0 and out.stdout == "", out.stderr
    rows = list(csv.DictReader((tmp_path / "p.csv").read_text().splitlines()))
    assert [(r["start"], r["end"]) for r in rows] == [("0.0", "1.0"), ("1.0", "2.25")]
    assert "scale" not in rows[0] and rows[0]["movement_source"] == "geometry"
    assert abs(sum(float(rows[0][f"p_{k}"]) for k in ("Static", "Motion", "Pull", "Push")) - 1) < 1e-3


def test_cuts_from_scene_list_edl_and_otio(film, tmp_path):
    """Cuts someone already has: PySceneDetect's scene list, an EDL, an OTIO file."""
    scenes = tmp_path / "film-Scenes.csv"
    scenes.write_text("Timecode List:,00:00:00.500\nScene Number,Start Frame,Start Timecode,Start Time (seconds),"
                      "End Frame,End Timecode,End Time (seconds)\n1,1,00:00:00.000,0.000,12,00:00:00.500,0.500\n"
                      "2,13,00:00:00.500,0.500,54,00:00:02.250,2.250\n3,55,00:00:02.250,2.250,78,00:00:03.250,3.250\n")
    first = shotscope("analyze", film, "-o", tmp_path / "a", "--movement", "geometry", "--cuts", scenes,
                      "--format", "csv")
    assert first.returncode == 0, first.stderr
    starts = [int(r["start_frame"]) for r in csv.DictReader(io.StringIO(first.stdout[first.stdout.index("shot,"):]))]
    assert starts == [0, 12, 54]
    folder = output_dir_for(film, tmp_path / "a")
    for name in ("shots.edl", "shots.otio"):  # shotscope's own timelines round-trip as cut lists
        again = shotscope("analyze", film, "-o", tmp_path / name, "--movement", "geometry", "--cuts", folder / name)
        assert again.returncode == 0, again.stderr
        shots = json.loads((output_dir_for(film, tmp_path / name) / "shots.json").read_text())
        assert [s["start_frame"] for s in shots["shots"]] == [0, 12, 54] and shots["detector"]["name"] == "cut-list"


def test_detector_settings_reach_pyscenedetect(film, tmp_path):
    import shotscope as lib
    from shotscope.analysis.film import AnalyzeSettings
    from shotscope.video.cuts import make_detector

    settings = AnalyzeSettings(movement="geometry")
    default = lib.analyze(film, None, settings=settings, progress=False)
    assert len(default.shots) == 3
    long_min = lib.analyze(film, None, detector=make_detector("adaptive", min_scene_len="1.5s"), settings=settings,
                           progress=False)
    assert len(long_min.shots) < 3 and long_min.metadata["detector"]["min_scene_len"] == "1.5s"
    deaf = lib.analyze(film, None, detector=make_detector("content", threshold=250), settings=settings, progress=False)
    assert len(deaf.shots) == 1 and deaf.metadata["detector"]["threshold"] == 250


def test_json_has_no_float_noise_and_says_its_timecode_rate(tmp_path):
    import shotscope as lib
    from shotscope.analysis.film import AnalyzeSettings
    from shotscope.outputs.writers import write_outputs

    path = real_video("goldeneye-vfr-drop3.mp4")
    film = lib.analyze(path, None, settings=AnalyzeSettings(movement="geometry"), progress=False)
    text = write_outputs(film, tmp_path)["json"].read_text()
    decimals = [len(m) for m in __import__("re").findall(r"\d\.(\d+)", text)]
    assert max(decimals) <= 4, max(decimals)
    data = json.loads(text)
    assert data["timecode_rate"] == 24 and "not a SMPTE timecode rate" in data["timecode_note"]
    shot = data["shots"][0]
    assert shot["duration"] == round(shot["end_time"] - shot["start_time"], 3)


def test_hugging_face_loading_restores_everything_and_pipeline_runs(model_dir, film, tmp_path):
    import shutil

    from transformers import AutoModel, pipeline

    import shotscope as lib
    from shotscope.model.preprocessing import PreprocessConfig
    from shotscope.sources.fusion import MovementFusion

    folder = tmp_path / "m"
    shutil.copytree(model_dir, folder)
    PreprocessConfig(image_size=32, resize_mode="letterbox", mean=(0.1, 0.2, 0.3)).save(folder)
    MovementFusion(np.ones((4, 15)), np.zeros(4), np.zeros(15), np.ones(15)).save(folder)
    for loaded in (AutoModel.from_pretrained(folder), lib.ShotScopeModel.from_pretrained(folder)):
        assert loaded.preprocess_config.resize_mode == "letterbox" and loaded.preprocess_config.mean == (0.1, 0.2, 0.3)
        assert loaded.movement_fusion is not None and np.allclose(loaded.movement_fusion.coef, 1)
    classify = pipeline("shot-classification", model=str(folder))
    whole = classify(str(film), top_k=2)
    ranged = classify({"video": str(film), "start": 1.0, "end": 2.25})
    assert whole["scale"] in lib.SCALE_LABELS and len(whole["scale_top"]) == 2
    assert ranged["start"] == 1.0 and ranged["end"] == 2.25
    model = lib.load_model(folder)
    from shotscope.data.records import ClipRecord
    from shotscope.training.evaluation import predict_records

    preds = predict_records(model, [ClipRecord(str(film), start=1.0, end=2.25)], movement="model", progress=False)
    assert ranged["scale"] == preds.labels(0)[0]
    assert ranged["scale_score"] == pytest.approx(float(preds.scale_probs[0].max()), abs=1e-4)


def test_model_cards_say_the_right_licence(tmp_path):
    from huggingface_hub import ModelCard

    from shotscope.model.card import write_model_card

    metrics = {"eval_scale_accuracy": 81.234, "eval_scale_macro_f1": 80.0, "eval_movement_accuracy": 90.0,
               "eval_movement_macro_f1": 70.5}
    scratch = {"output_dir": "runs/tiny", "model": {"backbone": None, "init": None},
               "data": {"kind": "manifest", "train": "t.csv", "val": "v.csv"}}
    tuned = {"output_dir": "runs/ms", "model": {"backbone": "MCG-NJU/videomae-base-finetuned-kinetics", "init": None},
             "data": {"kind": "movieshots", "root": "data", "val_split": "val"}}
    for cfg, licence, base in ((scratch, "apache-2.0", None), (tuned, "cc-by-nc-4.0", tuned["model"]["backbone"])):
        folder = tmp_path / cfg["output_dir"].split("/")[1]
        folder.mkdir()
        write_model_card(folder, cfg, metrics, [], [])
        card = ModelCard.load(folder / "README.md")
        assert card.data.license == licence and card.data.base_model == base
        assert card.data.pipeline_tag == "video-classification"
        values = {r.metric_name: r.metric_value for r in card.data.eval_results}
        assert values == {"scale accuracy": 81.23, "scale macro-f1": 80.0, "movement accuracy": 90.0,
                          "movement macro-f1": 70.5}
    assert ModelCard.load(tmp_path / "ms" / "README.md").data.datasets == ["MovieNet/MovieShots"]


def test_wheel_ships_the_named_configs(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(tmp_path), str(Path(__file__).resolve().parents[1])], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("shotscope-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "shotscope/configs/movieshots.yaml" in names and "shotscope/configs/tiny-synthetic.yaml" in names
    from shotscope.config import resolve_config_path

    assert resolve_config_path("movieshots").name == "movieshots.yaml"


def test_synth_never_writes_an_empty_split(tmp_path):
    out = shotscope("synth", tmp_path / "s", "--n", "20", "--width", "64", "--height", "48", "--frames", "6")
    assert out.returncode == 0, out.stderr
    train, val = (len((tmp_path / "s" / f"{n}.csv").read_text().splitlines()) - 1 for n in ("train", "val"))
    assert train + val == 20 and val == 4


def test_prepare_never_enlarges_reports_size_and_refuses_other_settings(film, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,scale\n{film},LS\n")
    cache = tmp_path / "cache"
    first = shotscope("prepare", "--manifest", manifest, "--cache-dir", cache, "--short-side", "256")
    assert first.returncode == 0 and " MB)" in first.stdout, first.stderr
    (entry,) = cache.glob("*.npy")
    assert np.load(entry).shape[1:] == (96, 160, 3)  # kept at its own size, not enlarged to 256
    other = shotscope("prepare", "--manifest", manifest, "--cache-dir", cache, "--short-side", "64")
    assert other.returncode == 2 and "this frame cache was made with" in other.stderr and "--rebuild" in other.stderr
    rebuilt = shotscope("prepare", "--manifest", manifest, "--cache-dir", cache, "--short-side", "64", "--rebuild")
    assert rebuilt.returncode == 0
    (entry,) = cache.glob("*.npy")
    assert np.load(entry).shape[1:] == (64, 106, 3)


def test_edl_and_otio_timelines_read_back_in_opentimelineio(film, tmp_path):
    out = shotscope("analyze", film, "-o", tmp_path, "--movement", "geometry")
    assert out.returncode == 0
    folder = output_dir_for(film, tmp_path)
    tl = otio.adapters.read_from_file(str(folder / "shots.otio"))
    assert [c.source_range.start_time.to_frames() for c in tl.find_clips()] == [0, 24, 54]
