"""One script for a machine with a GPU; it needs nothing but the project (models with random
weights, generated videos). Results go to docs/benchmarks.md.

1. clips/s of a VideoMAE-base model at batch 32: fp32, bf16 (fp16 where bf16 is missing), compiled;
2. analyze of a generated 1080p film with the model hidden under decoding: analyze vs the decode
   pass alone (goal <= 1.1x);
3. training steps/s of the MovieShots recipe (the shipped `movieshots` config: 16x224, batch 8,
   layer decay, class-balanced loss, augmentations) on synthetic clips read from the frame cache.

Run: .venv/bin/python benchmarks/gpu.py [--tiny] [--device cuda]
(--tiny: a tiny model and small inputs, to check the script on a CPU.)
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from _common import machine, write_section
from shotscope import PreprocessConfig, ShotScopeConfig, ShotScopeModel, load_model
from shotscope.data.synthetic import SynthSettings, generate, make_film, split_manifest
from shotscope.devices import precision_name, resolve_precision
from shotscope.model.inference import compile_model


def model_dir(root: Path, tiny: bool) -> Path:
    torch.manual_seed(0)
    cfg = (ShotScopeConfig(image_size=32, patch_size=16, num_frames=4, tubelet_size=2, hidden_size=32,
                           num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
           if tiny else ShotScopeConfig())
    model = ShotScopeModel(cfg).eval()
    model.preprocess_config = PreprocessConfig(image_size=cfg.image_size)
    model.save_pretrained(root / "model")
    return root / "model"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def throughput(path: Path, device: torch.device, precision: str, compiled: bool, batch: int, steps: int) -> float:
    model = load_model(path, device=device, precision=precision)
    if compiled:
        compile_model(model)
    cfg = model.config
    x = torch.randn(batch, cfg.num_frames, 3, model.image_size, model.image_size, device=device)
    from shotscope.model.inference import autocast

    with torch.no_grad(), autocast(model):
        for _ in range(3 if compiled else 1):  # warm-up (compilation)
            model(x)
        sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            model(x)
        sync(device)
    return batch * steps / (time.perf_counter() - t0)


def decode_pass(film: Path) -> float:
    from shotscope.video.decode import open_video

    t0 = time.perf_counter()
    with open_video(film, thread_type="FRAME") as video:
        for frame in video.frames():
            video.to_rgb(frame, display=False)
    return time.perf_counter() - t0


def analyze_vs_decode(path: Path, root: Path, device: torch.device, tiny: bool) -> tuple[float, float, int]:
    from shotscope import analyze

    film = root / "film.mp4"
    shots = [("LS", "Static", 72), ("MS", "Motion", 96), ("CS", "Push", 120), ("FS", "Pull", 84)] * (2 if tiny else 10)
    make_film(film, shots, width=320 if tiny else 1920, height=180 if tiny else 1080, fps=24)
    model = load_model(path, device=device, precision="auto")
    analyze(film, model, progress=False)  # warm-up: kernels, file cache
    t_decode = decode_pass(film)
    t0 = time.perf_counter()
    result = analyze(film, model, progress=False)
    return time.perf_counter() - t0, t_decode, len(result.shots)


def training_steps(root: Path, device: torch.device, tiny: bool, steps: int) -> float:
    """Steps/s of the MovieShots recipe on synthetic clips from the frame cache (after warm-up)."""
    from shotscope.data.cache import prepare
    from shotscope.data.manifest import read_manifest
    from shotscope.training.trainer import train

    side = 64 if tiny else 256
    manifest = generate(root / "synth", 64, settings=SynthSettings(width=side * 16 // 9 // 2 * 2, height=side, frames=32),
                        progress=False)
    train_csv, val_csv = split_manifest(manifest, 0.25)
    records, _ = read_manifest(manifest)
    prepare(records, root / "cache", short_side=side, max_frames=32, progress=False)
    overrides = [f"output_dir={root / 'run'}", "data.kind=manifest", f"data.train={train_csv}", f"data.val={val_csv}",
                 f"data.cache_dir={root / 'cache'}", f"train.max_steps={steps}", "train.eval_every=no",
                 "train.progress=false", f"train.num_workers={2 if tiny else min(8, os.cpu_count() or 2)}", "model.backbone=null"]
    if tiny:
        overrides += ["model.image_size=32", "model.num_frames=4", "model.config.hidden_size=32",
                      "model.config.num_hidden_layers=2", "model.config.num_attention_heads=2",
                      "model.config.intermediate_size=64", "train.batch_size=4"]
    t0 = time.perf_counter()
    train("movieshots", overrides)
    log = (root / "run" / "log.csv").read_text()
    runtime = [float(line.split(",")[-1]) for line in log.splitlines() if ",train_runtime," in line]
    return steps / (runtime[-1] if runtime else time.perf_counter() - t0)


def precision_agreement(path: Path, root: Path, device: torch.device, real: Path) -> tuple[int, float, float]:
    """Clips of real footage predicted in fp32 and at precision auto: scale labels the same, largest difference."""
    import numpy as np

    from predict import cut_clips
    from shotscope.data.records import ClipRecord
    from shotscope.training.evaluation import predict_records

    (root / "real").mkdir()
    records = [ClipRecord(str(p)) for p in cut_clips(root / "real", real)]
    probs = []
    for precision in ("fp32", "auto"):
        model = load_model(path, device=device, precision=precision)
        probs.append(predict_records(model, records, progress=False, movement="model", batch_size=8).scale_probs)
    return len(records), float(np.mean(probs[0].argmax(-1) == probs[1].argmax(-1))), float(np.abs(probs[0] - probs[1]).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model and small inputs (to check the script on a CPU)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--real", type=Path, help="the real-video fixtures folder: fp32 vs auto precision on clips of it")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md as it is")
    args = parser.parse_args()
    device = torch.device(args.device)
    batch, steps = (4, 2) if args.tiny else (32, 10)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = model_dir(root, args.tiny)
        low = "bf16" if device.type != "cuda" or torch.cuda.is_bf16_supported() else "fp16"
        rows = {}
        for label, precision, compiled in (("fp32", "fp32", False), (low, low, False),
                                           (f"{low} + torch.compile", low, True)):
            rows[label] = throughput(path, device, precision, compiled, batch, steps)
            print(f"clips/s {label}: {rows[label]:.1f}", flush=True)  # partial results survive a time-out
        t_analyze, t_decode, shots = analyze_vs_decode(path, root, device, args.tiny)
        print(f"analyze {t_analyze:.1f} s, decode pass {t_decode:.1f} s, {shots} shots", flush=True)
        steps_per_s = training_steps(root, device, args.tiny, 4 if args.tiny else 30)
        print(f"training {steps_per_s:.2f} steps/s", flush=True)
        agreement = precision_agreement(path, root, device, args.real) if args.real else None
        print(f"fp32 vs auto on real clips: {agreement}", flush=True)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    results = {"device": name, "clips_per_s": rows, "analyze_s": t_analyze, "decode_s": t_decode, "shots": shots,
               "train_steps_per_s": steps_per_s, "real_clips_agreement": agreement}
    print(json.dumps(results, indent=2))
    if args.no_write:
        return
    table = "\n".join(f"| {k} | {v:.1f} |" for k, v in rows.items())
    write_section(f"GPU: {name}" + (" (tiny check)" if args.tiny else ""), f"""
Command: `.venv/bin/python benchmarks/gpu.py{' --tiny' if args.tiny else ''}{' --real ../shared/fixtures/real-video' if args.real else ''}` ({machine()}, {name})

Clips/s, VideoMAE-base (16x224x224), batch {batch}:

| precision | clips/s |
|---|---|
{table}

analyze of a generated 1080p film ({shots} shots), precision auto ({precision_name(resolve_precision('auto', device))}):
{t_analyze:.1f} s against {t_decode:.1f} s for the decode pass alone: **{t_analyze / t_decode:.2f}x** (goal <= 1.1x).

Training, the MovieShots recipe on synthetic clips from the frame cache: **{steps_per_s:.2f} steps/s**
(batch 8 of 16x224x224 clips, precision auto).
""" + (f"""
fp32 against precision auto ({precision_name(resolve_precision('auto', device))}) on {agreement[0]} clips of 3 s cut from
the real footage (`benchmarks/predict.py`'s clips): scale labels the same on **{100 * agreement[1]:.0f} %**,
largest probability difference {agreement[2]:.3f}.
""" if agreement else ""))


if __name__ == "__main__":
    main()
