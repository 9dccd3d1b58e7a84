"""What the speed work must not change: the labels (reduced precision, the model in its own thread,
weights loaded without random initialisation), and the GPU benchmark script stays runnable.
Timings themselves live in benchmarks/ and docs/benchmarks.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from shotscope import PreprocessConfig, ShotScopeConfig, ShotScopeModel, load_model
from shotscope.data.records import ClipRecord
from shotscope.model.inference import resolve_precision
from shotscope.training.evaluation import predict_records

from .conftest import REAL_VIDEO_DIR, real_video


def test_precision_choices(monkeypatch):
    assert resolve_precision("fp32", "cpu") == torch.float32
    assert resolve_precision("bf16", "cpu") == torch.bfloat16
    import shotscope.devices as inference

    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", "cpu") == torch.bfloat16
    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", "cpu") == torch.float32  # no native bf16: emulated bf16 would be slower
    from shotscope import DataError

    with pytest.raises(DataError, match="precision must be one of"):
        resolve_precision("fp8", "cpu")


def test_base_size_model_reduced_precision_keeps_the_labels(tmp_path, monkeypatch):
    """VideoMAE-base (random weights: the real compute) on real clips: bf16, ONNX int8 and OpenVINO
against fp32."""
    real_video("testvideo.mp4")
    monkeypatch.setenv("SHOTSCOPE_CACHE", str(tmp_path / "cache"))  # the exported files stay here
    records = [ClipRecord(str(REAL_VIDEO_DIR / "testvideo.mp4"), start=a, end=a + 2) for a in (1.0, 6.5, 13.5, 20.5)]
    records += [ClipRecord(str(REAL_VIDEO_DIR / "issue-195-aspect-ratio.mp4"), start=8.0, end=10.0),
                ClipRecord(str(REAL_VIDEO_DIR / "goldeneye-vfr-drop3.mp4"), start=0.0, end=2.0)]
    torch.manual_seed(0)
    model = ShotScopeModel(ShotScopeConfig()).eval()
    model.preprocess_config = PreprocessConfig(image_size=224)
    model.save_pretrained(tmp_path / "base")
    from shotscope.model import probe

    # torch's bf16 where the CPU has it, and each backend's fastest kind where installed (ONNX int8,
    # OpenVINO bf16 or fp32): what the probe would offer here
    offered = probe.variants(torch.device("cpu"))
    variants = ("fp32", *(v for v in ("bf16", "onnx-int8", "openvino-bf16") if v in offered),
                *(("openvino-fp32",) if "openvino-fp32" in offered and "openvino-bf16" not in offered else ()))
    preds = {p: predict_records(load_model(tmp_path / "base", precision=p), records, progress=False, movement="model")
             for p in variants}
    a = preds["fp32"]
    for p in variants[1:]:
        for task in ("scale_probs", "movement_probs"):
            pa, pb = getattr(a, task), getattr(preds[p], task)
            assert (pa.argmax(-1) == pb.argmax(-1)).mean() >= 0.99, p
            assert np.abs(pa - pb).max() <= 0.02, p
    # auto: the fastest that agrees, as measured (among these: the others' conversions are their own tests')
    monkeypatch.setattr(probe, "variants", lambda device: list(variants))
    record = load_model(tmp_path / "base").precision_record
    assert set(record["seconds"]) == set(variants)
    fine = [k for k, ok in record["agrees"].items() if ok]
    assert record["choice"] == min(fine, key=record["seconds"].get)


def test_model_failure_in_its_thread_reaches_the_caller(tmp_path, tiny_model):
    """The model runs beside decoding; its errors must not be lost nor leave analyze hanging."""
    import shotscope
    from shotscope.data.synthetic import make_film

    film = tmp_path / "film.mp4"
    make_film(film, [("LS", "Static", 20), ("CS", "Motion", 20), ("MS", "Static", 20)] * 4, width=160, height=96)

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory (simulated)")

    tiny_model.forward = broken
    with pytest.raises(RuntimeError, match="simulated"):
        shotscope.analyze(film, tiny_model, settings=shotscope.AnalyzeSettings(batch_size=2), progress=False)


def test_labels_do_not_depend_on_the_batch_size(tmp_path, tiny_model):
    """Batches are handed to the model thread in order; every shot gets its own labels."""
    import shotscope
    from shotscope.data.synthetic import make_film

    film = tmp_path / "film.mp4"
    make_film(film, [("LS", "Static", 20), ("CS", "Motion", 20), ("MS", "Push", 20), ("ECS", "Pull", 20)] * 2,
              width=160, height=96)
    runs = [shotscope.analyze(film, tiny_model, settings=shotscope.AnalyzeSettings(batch_size=b), progress=False)
            for b in (1, 3, 16)]
    probs = [[s.scale_probs for s in r.shots] for r in runs]
    assert len(runs[0].shots) == 8 and probs[0] == probs[1] == probs[2]


def test_gpu_benchmark_script_runs_on_a_cpu_with_a_tiny_model():
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.py"
    done = subprocess.run([sys.executable, str(script), "--tiny", "--device", "cpu", "--no-write"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    results = json.loads(done.stdout[done.stdout.index("{"):])
    assert set(results["clips_per_s"]) == {"fp32", "bf16", "bf16 + torch.compile"}
    assert results["shots"] == 8 and results["train_steps_per_s"] > 0
