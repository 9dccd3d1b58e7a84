"""A CPU smoke run on synthetic data: the loss falls, validation beats chance, a killed run resumes."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shotscope import load_model
from shotscope.data.synthetic import SynthSettings, generate, split_manifest
from shotscope.training.trainer import TINY_CONFIG, inverse_frequency

CONFIG = TINY_CONFIG


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    manifest = generate(out, 120, settings=SynthSettings(width=96, height=64, frames=10), progress=False)
    return split_manifest(manifest, 0.25)


def _run(out, synth, *extra, background=False):
    cmd = [sys.executable, "-m", "shotscope", "train", "--config", str(CONFIG), f"output_dir={out}",
           f"data.train={synth[0]}", f"data.val={synth[1]}", "train.progress=false", *extra]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    if background:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


def _log(out):
    rows = list(csv.DictReader((out / "log.csv").read_text().splitlines()))
    losses = [float(r["value"]) for r in rows if r["key"] == "loss"]
    scale_acc = [float(r["value"]) for r in rows if r["key"] == "eval_scale_accuracy"]
    return losses, scale_acc


def test_training_smoke_loss_falls_and_beats_chance(synth, tmp_path):
    out = tmp_path / "run"
    result = _run(out, synth, "train.epochs=8")
    assert result.returncode == 0, result.stderr[-3000:]
    # readable logs on stderr, the result alone on stdout, no dicts, no bars off a terminal
    assert result.stdout.strip() == str(out / "model")
    assert "evaluation (epoch 1.00" in result.stderr and "scale accuracy" in result.stderr
    assert "{'" not in result.stderr + result.stdout and "\r" not in result.stderr
    assert "training finished" in result.stderr
    losses, scale_acc = _log(out)
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    assert max(scale_acc) > 20 + 15  # 5 classes: chance is 20 %
    model = load_model(out / "model")
    assert model.config.movement_class_weights is not None  # balanced movement loss by default
    assert (out / "config.yaml").is_file() and (out / "model" / "README.md").is_file()
    assert "eval_mean_macro_f1" in (out / "log.csv").read_text()


def test_killed_run_resumes_from_last_checkpoint(synth, tmp_path):
    out = tmp_path / "run"
    proc = _run(out, synth, "train.epochs=6", background=True)
    deadline = time.time() + 240
    while time.time() < deadline and not list(out.glob("checkpoint-*/trainer_state.json")):
        time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read()[-3000:]
    proc.send_signal(signal.SIGKILL)  # a later checkpoint may be cut short: resume must skip it
    proc.wait()
    first = sorted((p.parent for p in out.glob("checkpoint-*/trainer_state.json")),
                   key=lambda p: int(p.name.split("-")[1]))
    assert first, "no checkpoint written before the kill"
    done_steps = int(first[-1].name.split("-")[1])
    result = _run(out, synth, "train.epochs=6")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resuming from" in result.stderr and first[-1].name in result.stderr
    rows = list(csv.DictReader((out / "log.csv").read_text().splitlines()))
    resumed_steps = [int(r["step"]) for r in rows if r["key"] == "loss"]
    assert max(resumed_steps) > done_steps
    assert (out / "model" / "model.safetensors").is_file()


def test_inverse_frequency_weights():
    import numpy as np

    w = inverse_frequency(np.array([90, 10, 0, 0]))
    assert w[2] == w[3] == 0 and w[1] == pytest.approx(9 * w[0])


def test_training_runs_under_torchrun_on_two_processes(synth, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29519",
           "-m", "shotscope", "train", "--config", str(CONFIG), f"output_dir={out}", f"data.train={synth[0]}",
           f"data.val={synth[1]}", "train.epochs=1", "train.progress=false"]
    result = subprocess.run(cmd, env=dict(os.environ, HF_HUB_OFFLINE="1"), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    n_train = len(Path(synth[0]).read_text().splitlines()) - 1
    steps = -(-n_train // (8 * 2))  # each process sees half the clips per epoch
    assert (out / f"checkpoint-{steps}").is_dir(), sorted(p.name for p in out.iterdir())
    assert (out / "model" / "model.safetensors").is_file()


def test_movieshots_tree_prepare_then_train(tmp_path):
    """The MovieShots path end to end: a tree as distributed, `shotscope prepare`, then `train`."""
    import json
    import shutil

    from shotscope.data import read_manifest

    manifest = generate(tmp_path / "synth", 40, settings=SynthSettings(width=96, height=64, frames=8),
                        progress=False)
    records, _ = read_manifest(manifest)
    root = tmp_path / "movieshots"
    labels, split = {}, {"train": {}, "val": {}, "test": {}}
    for i, r in enumerate(records):
        imdb, shot = f"tt{i % 5:07d}", f"{i:04d}"
        (root / "trailer" / imdb).mkdir(parents=True, exist_ok=True)
        shutil.copy(r.path, root / "trailer" / imdb / f"shot_{shot}.mp4")
        entry = {"scale": {"label": r.scale_label, "value": 9}, "movement": {"label": r.movement_label, "value": 9}}
        labels.setdefault(imdb, {})[shot] = entry
        split["val" if i % 4 == 0 else "train"].setdefault(imdb, []).append(shot)
    (root / "v1_full_trailer.json").write_text(json.dumps(labels))
    (root / "v1_split_trailer.json").write_text(json.dumps(split))
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    for which in ("train", "val"):
        prep = subprocess.run([sys.executable, "-m", "shotscope", "prepare", "--movieshots", str(root), "--split",
                               which, "--cache-dir", str(tmp_path / "cache"), "--short-side", "64"],
                              capture_output=True, text=True, env=env)
        assert prep.returncode == 0 and "0 failed" in prep.stdout, prep.stdout + prep.stderr[-2000:]
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 40
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "shotscope", "train", "--config", str(CONFIG), f"output_dir={out}",
                             "data.kind=movieshots", f"data.root={root}", f"data.cache_dir={tmp_path / 'cache'}",
                             "train.epochs=1", "train.progress=false"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "train data: 30 clips kept" in result.stderr and "val data: 10 clips kept" in result.stderr
    assert (out / "model" / "model.safetensors").is_file()


def test_checkpoint_cut_short_is_skipped(tmp_path):
    import json

    from shotscope.training.trainer import last_complete_checkpoint

    (tmp_path / "checkpoint-5").mkdir()
    (tmp_path / "checkpoint-5" / "trainer_state.json").write_text(json.dumps({"global_step": 5}))
    (tmp_path / "checkpoint-10").mkdir()  # killed while saving: weights but no state yet
    (tmp_path / "checkpoint-10" / "model.safetensors").write_bytes(b"partial")
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-5")
    assert not (tmp_path / "checkpoint-10").exists()
    assert last_complete_checkpoint(tmp_path / "nothing-here") is None
