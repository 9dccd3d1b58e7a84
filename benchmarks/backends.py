"""The network's CPU backends side by side: torch fp32 and bf16, ONNX Runtime fp32 and int8, OpenVINO
fp32 and bf16 (where the CPU has it), each where installed, on a
VideoMAE-base-size model (random weights: the same compute), clips sampled from the real fixtures;
seconds a clip (batch 8, best of 2) and how often each variant's labels agree with torch fp32's.

Run: .venv/bin/python benchmarks/backends.py
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _common import machine, per_kind, write_section
from shotscope import ShotScopeConfig, ShotScopeModel
from shotscope.model.inference import predict_probs, set_precision
from shotscope.model.probe import variants
from shotscope.video.sampling import sample_frames

REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real-video"
FILMS = ["testvideo.mp4", "goldeneye-vfr-drop3.mp4", "issue-195-aspect-ratio.mp4", "fades.mp4"]


def real_clips(model: ShotScopeModel, per_film: int = 6) -> list[np.ndarray]:
    clips = []
    for name in FILMS:
        if not (REAL / name).exists():
            continue
        from shotscope.video.decode import open_video

        with open_video(REAL / name) as video:
            length = video.info.duration
        for k in range(per_film):
            start = length * k / per_film
            clips.append(sample_frames(REAL / name, model.num_frames, start, start + length / per_film,
                                       short_side=model.image_size).frames)
    return clips


def dev_clips(model: ShotScopeModel, tmp: Path) -> list[np.ndarray]:
    """A clip of each shot of the shared development set (a music video at 160x90): footage the
    8-bit variants' settings were never looked at on."""
    from real_footage import dev_set

    return [sample_frames(r["path"], model.num_frames, short_side=model.image_size).frames for r in dev_set(tmp)]


def agreement(model: ShotScopeModel, variant: str, clips: list[np.ndarray], reference) -> str:
    set_precision(model, variant)
    answer = predict_probs(model, clips, batch_size=8)
    agree = [(a.argmax(1) == r.argmax(1)).mean() for a, r in zip(answer, reference, strict=True)]
    diff = max(float(np.abs(a - r).max()) for a, r in zip(answer, reference, strict=True))
    return f"| {variant} | {100 * agree[0]:.1f} % / {100 * agree[1]:.1f} % | {diff:.4f} |"


def main() -> None:
    os.environ.setdefault("SHOTSCOPE_CACHE", tempfile.mkdtemp())
    torch.manual_seed(0)
    model = ShotScopeModel(ShotScopeConfig()).eval()
    clips = real_clips(model)
    with tempfile.TemporaryDirectory() as tmp:
        held = dev_clips(model, Path(tmp))
    rows, reference = [], None
    offered = variants(torch.device("cpu"))  # torch's bf16 only where the CPU has bfloat16 instructions
    for variant in offered:
        t0 = time.perf_counter()
        set_precision(model, variant)
        ready = time.perf_counter() - t0
        predict_probs(model, clips[:8], batch_size=8)  # warm-up
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            scale, movement = predict_probs(model, clips, batch_size=8)
            best = min(best, time.perf_counter() - t0)
        if reference is None:
            reference = (scale, movement)
        agree = [(a.argmax(1) == r.argmax(1)).mean() for a, r in zip((scale, movement), reference, strict=True)]
        diff = max(float(np.abs(a - r).max()) for a, r in zip((scale, movement), reference, strict=True))
        rows.append(f"| {variant} | {best / len(clips):.3f} | {reference_speed(rows, best, len(clips))} | "
                    f"{100 * agree[0]:.1f} % / {100 * agree[1]:.1f} % | {diff:.4f} | {ready:.1f} |")
    set_precision(model, "fp32")
    held_reference = predict_probs(model, held, batch_size=8)
    held_rows = [agreement(model, v, held, held_reference) for v in offered if not v.endswith("fp32")]
    no_bf16 = "" if "bf16" in offered else ("\ntorch's bf16 is left out: this CPU has no bfloat16 instructions "
                                            "(torch converts, about 5x slower than fp32).")
    body = f"""Command: `.venv/bin/python benchmarks/backends.py` ({machine()})

VideoMAE-base size ({model.num_frames} frames of {model.image_size} px), random weights, {len(clips)} clips
sampled from the real fixtures ({", ".join(FILMS)}), batch 8, best of 2 (preprocessing included).
Agreement: the share of clips whose scale / movement label is torch fp32's; max |diff|: the largest
probability difference. "made in": the first use (ONNX: export and, for int8, quantisation; OpenVINO:
conversion from torch, once for both of its variants, and compilation; cached afterwards, so later
runs only load the files).

| variant | s a clip | vs fp32 | labels agree (scale / movement) | max abs diff | made in (s) |
|---|---|---|---|---|---|
{chr(10).join(rows)}

The same agreement on footage none of the variants' settings were chosen on (the 8-bit variants'
calibration, the heads kept in float and SmoothQuant off were picked on the 24 clips above): a
clip of each of the {len(held)} shots of the shared development set (a music video at 160x90).

| variant | labels agree (scale / movement) | max abs diff |
|---|---|---|
{chr(10).join(held_rows)}

Random weights give flat probabilities, where a small difference can swap two labels; a trained
model's are more decided. The probe (`--precision auto`) times these on the model actually loaded
and keeps only the variants whose answers agree with fp32's.{no_bf16}
"""
    write_section(per_kind("CPU backends: torch, ONNX Runtime and OpenVINO"), body)
    print(body)


_FP32: list[float] = []


def reference_speed(rows: list[str], seconds: float, n: int) -> str:
    if not _FP32:
        _FP32.append(seconds)
    return f"{_FP32[0] / seconds:.2f}x"


if __name__ == "__main__":
    main()
