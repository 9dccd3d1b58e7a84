"""Metrics against hand-computed values; evaluate and predict end to end; pictures are real PNGs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from shotscope.training.evaluation import comparison_rows, confusion_png, published_baseline
from shotscope.training.metrics import multitask_metrics, task_metrics

from .videos import index_video


def test_task_metrics_by_hand():
    labels = ["A", "B", "C", "D"]  # D never occurs and is never predicted
    y_true = np.array([0, 0, 0, 1, 1, 2, -100, -100])
    y_pred = np.array([0, 0, 1, 1, 2, 2, 3, 0])  # the two unlabelled rows must not count
    m = task_metrics(y_true, y_pred, labels)
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(100 * 4 / 6)
    # A: P=2/2 R=2/3 F=0.8; B: P=1/2 R=1/2 F=0.5; C: P=1/2 R=1 F=2/3
    assert m["per_class"]["A"]["precision"] == pytest.approx(100.0)
    assert m["per_class"]["A"]["recall"] == pytest.approx(100 * 2 / 3)
    assert m["per_class"]["B"]["f1"] == pytest.approx(50.0)
    assert m["per_class"]["C"]["f1"] == pytest.approx(100 * 2 / 3)
    assert m["macro_f1"] == pytest.approx(100 * (0.8 + 0.5 + 2 / 3) / 3)  # D is absent: not averaged
    assert m["per_class"]["D"]["support"] == 0 and m["per_class"]["D"]["accuracy"] is None
    assert m["confusion"] == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    assert m["confusion_normalized"][0] == pytest.approx([2 / 3, 1 / 3, 0, 0], abs=1e-4)


def test_multitask_with_a_task_entirely_unlabelled():
    m = multitask_metrics([-100, -100], [0, 1], [1, 2], [1, 2], ["a", "b"], ["x", "y", "z"])
    assert m["scale"]["n"] == 0 and m["scale"]["accuracy"] is None
    assert m["movement"]["accuracy"] == 100.0
    assert m["mean_macro_f1"] == 100.0


def test_baseline_comparison_and_png_size(tmp_path):
    base = published_baseline()
    assert base["movement"]["per_class"]["Pull"]["accuracy"] == 57.5 and "gullalc" in base["source"]
    m = multitask_metrics([0, 1, 2, 3, 4], [0, 1, 2, 3, 3], [0, 1, 2, 3, 0], [0, 1, 3, 3, 0],
                          ["ECS", "CS", "MS", "FS", "LS"], ["Static", "Motion", "Pull", "Push"])
    rows = {(t, k): (o, b) for t, k, o, b in comparison_rows(m, base)}
    assert rows[("scale", "accuracy")] == (80.0, 88.32)
    assert rows[("movement", "Pull accuracy")] == (0.0, 57.5)
    png = confusion_png(m, "scale", tmp_path / "c.png", size=(500, 400))
    with Image.open(png) as img:
        img.verify()
    with Image.open(png) as img:
        assert img.format == "PNG" and img.size == (500, 400)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from shotscope.data.synthetic import SynthSettings, generate, split_manifest
    from shotscope.training.trainer import TINY_CONFIG, train

    root = tmp_path_factory.mktemp("ev")
    manifest = generate(root / "synth", 50, settings=SynthSettings(width=96, height=64, frames=8), progress=False)
    train_csv, val_csv = split_manifest(manifest, 0.3)
    config = str(TINY_CONFIG)
    model_dir = train(config, [f"output_dir={root / 'run'}", f"data.train={train_csv}", f"data.val={val_csv}",
                               "train.epochs=3", "train.progress=false"])
    return model_dir, val_csv


def test_evaluate_end_to_end(trained, tmp_path):
    model_dir, val_csv = trained
    out = tmp_path / "ev"
    res = subprocess.run([sys.executable, "-m", "shotscope", "evaluate", "--model", str(model_dir), "--data",
                          str(val_csv), "--out", str(out), "--views", "2", "--crops", "3"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    n_val = len(val_csv.read_text().splitlines()) - 1
    assert metrics["scale"]["n"] == n_val and 0 <= metrics["scale"]["accuracy"] <= 100
    assert sum(map(sum, metrics["movement"]["confusion"])) == n_val
    assert "| scale | accuracy |" in (out / "metrics.md").read_text()
    # not MovieShots: no comparison with the published MovieShots figures, and it says so
    assert "88.32" not in res.stdout and "no baseline" in res.stderr
    assert f"evaluation data: {n_val} clips kept" in res.stderr  # not "val data": it is no split of a run
    for task in ("scale", "movement"):
        with Image.open(out / f"confusion_{task}.png") as img:
            assert img.size == (640, 560)
    card = (model_dir / "README.md").read_text()
    n_train = 50 - n_val
    assert "| scale |" in card and f"train: {n_train} clips" in card and "```yaml" in card


def test_predict_directory_with_a_corrupt_file(trained, tmp_path):
    model_dir, _ = trained
    clips = tmp_path / "clips"
    for name in ("a.mp4", "b.mp4"):
        index_video(clips / name, 12)
    (clips / "corrupt.mp4").write_bytes(b"not a video at all" * 20)
    res = subprocess.run([sys.executable, "-m", "shotscope", "predict", str(clips), "--model", str(model_dir),
                          "--format", "jsonl", "--quiet"], capture_output=True, text=True)
    assert res.returncode == 1, res.stderr[-2000:]  # some inputs failed, the others finished
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert sorted(r["path"].rsplit("/", 1)[1] for r in rows) == ["a.mp4", "b.mp4"]
    for r in rows:
        assert r["scale"] in ("ECS", "CS", "MS", "FS", "LS") and 0 < r["scale_prob"] <= 1
        assert sum(r[f"p_{k}"] for k in ("Static", "Motion", "Pull", "Push")) == pytest.approx(1, abs=1e-3)
    assert "corrupt.mp4" in res.stderr and "failed" in res.stderr


def test_evaluate_split_across_two_processes(trained, tmp_path):
    """Under torchrun / accelerate launch each process takes a share; the metrics are gathered once."""
    model_dir, val_csv = trained
    out_one, out_two = tmp_path / "one", tmp_path / "two"
    base = [sys.executable, "-m", "shotscope", "evaluate", "--model", str(model_dir), "--data", str(val_csv)]
    single = subprocess.run([*base, "--out", str(out_one)], capture_output=True, text=True)
    assert single.returncode == 0, single.stderr[-2000:]
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
              "-m", "shotscope", "evaluate", "--model", str(model_dir), "--data", str(val_csv), "--out", str(out_two)]
    double = subprocess.run(launch, capture_output=True, text=True, timeout=300)
    assert double.returncode == 0, double.stderr[-3000:]
    one = json.loads((out_one / "metrics.json").read_text())
    two = json.loads((out_two / "metrics.json").read_text())
    assert one["processes"] == 1 and two["processes"] == 2
    assert two["scale"]["n"] == one["scale"]["n"]
    assert two["scale"]["confusion"] == one["scale"]["confusion"]
    assert two["movement"]["confusion"] == one["movement"]["confusion"]
