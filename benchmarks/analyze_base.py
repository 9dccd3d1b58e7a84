"""`shotscope analyze` with a model of the published size (VideoMAE-base, 16x224x224, random weights:
the same compute) on a generated 1080p film of 40 shots of 3-5 s, against its floor: PySceneDetect's
pass over the same file plus the bare model compute at the fastest variant the precision probe
measured (torch fp32/bf16, ONNX Runtime fp32/int8 and OpenVINO fp32/bf16 where installed), batch 8, for the clips analyze
ran. Also: fp32 vs the automatic precision, labels compared.

Run: .venv/bin/python benchmarks/analyze_base.py [--skip-fp32]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _common import machine, per_kind, write_section
from shotscope import PreprocessConfig, ShotScopeConfig, ShotScopeModel, load_model
from shotscope.data.synthetic import make_film
from shotscope.model.backends import is_backend
from shotscope.model.backends import network as backend_network
from shotscope.runs.batch import output_dir_for

LENGTHS = [72, 96, 120, 84, 108]  # 3-5 s at 24 fps
SHOTS = [(("LS", "MS", "CS", "FS", "ECS")[i % 5], ("Static", "Motion", "Push", "Pull")[i % 4], LENGTHS[i % 5])
         for i in range(40)]
GOAL = 1.25


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def bare_compute(model: ShotScopeModel, clips: int, choice: str, batch: int = 8) -> float:
    """The model alone on ``clips`` inputs of 16x224x224 as ``choice`` (the probe's), batch 8."""
    x = torch.randn(batch, 16, 3, 224, 224)
    if is_backend(choice):
        network = backend_network(model, choice)
        run = lambda n: network(x[:n].numpy())  # noqa: E731
        context = torch.no_grad()
    else:
        dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[choice]
        run = lambda n: model(x[:n])  # noqa: E731
        context = torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32)
    with torch.no_grad(), context:
        run(2)  # warm-up
        t0 = time.perf_counter()
        done = 0
        while done < clips:
            n = min(batch, clips - done)
            run(n)
            done += n
    return time.perf_counter() - t0


def main() -> None:
    bindir = Path(sys.executable).parent
    skip_fp32 = "--skip-fp32" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        film = tmp / "film_1080p.mp4"
        make_film(film, SHOTS, width=1920, height=1080, fps=24)
        torch.manual_seed(0)
        model = ShotScopeModel(ShotScopeConfig()).eval()  # VideoMAE-base: hidden 768, 12 layers, 16 frames, 224 px
        model.preprocess_config = PreprocessConfig(image_size=224)
        model.save_pretrained(tmp / "base")
        # a user's second run: the probe's choice and the converted network already in the cache
        # (the first run on a machine measures once and converts once: tens of seconds, not timed here)
        # (the model as analyze loads it: the probe's cache key is the loaded model's)
        warm = load_model(tmp / "base")
        choice = warm.precision_record["choice"]
        del warm
        scenedetect = [str(bindir / "scenedetect"), "-i", str(film), "-o", str(tmp / "sd"), "detect-adaptive"]
        t_sd = timed(scenedetect)
        ours = [str(bindir / "shotscope"), "analyze", str(film), "-m", str(tmp / "base"), "-q"]
        t_auto = timed([*ours, "-o", str(tmp / "auto")])
        # what analyze does beside the network: decoding, cuts, movement from geometry (fused with the
        # network's by default), the probability timeline, every output file
        t_rest = timed([str(bindir / "shotscope"), "analyze", str(film), "--scale", "none", "--movement", "geometry",
                        "-q", "-o", str(tmp / "rest")])
        t_fp32 = None if skip_fp32 else timed([*ours, "-o", str(tmp / "fp32"), "--precision", "fp32"])
        auto = json.loads((output_dir_for(film, tmp / "auto") / "shots.json").read_text())
        clips = sum(s["views"] for s in auto["shots"])
        t_model = bare_compute(model, clips, choice)
        agreement = ""
        if t_fp32 is not None:
            fp32 = json.loads((output_dir_for(film, tmp / "fp32") / "shots.json").read_text())
            pairs = list(zip(auto["shots"], fp32["shots"], strict=True))
            same = np.mean([(a["scale"], a["movement"]) == (b["scale"], b["movement"]) for a, b in pairs])
            diff = max(abs(a["scale_probs"][k] - b["scale_probs"][k]) for a, b in pairs for k in a["scale_probs"])
            agreement = (f"Labels at {choice} vs fp32 on the {len(pairs)} shots: "
                         f"{100 * same:.1f} % the same (both tasks), largest probability difference {diff:.4f}.")
    floor = t_sd + t_model
    dtype = choice
    fp32_row = "" if t_fp32 is None else f"| `shotscope analyze FILM -m BASE --precision fp32` | {t_fp32:.1f} |\n"
    body = f"""Command: `.venv/bin/python benchmarks/analyze_base.py` ({machine()})

A generated 1920x1080, 24 fps H.264 film of {len(SHOTS)} shots of 3-5 s ({sum(n for *_, n in SHOTS)} frames);
a model of the published size (VideoMAE-base, 16x224x224, random weights). Commands run as processes
(start-up, model loading and all outputs included), once each, after the precision probe has run
once for this model on this machine (its choice and converted network cached, as on a second run).

| what | seconds |
|---|---|
| `scenedetect -i FILM detect-adaptive` | {t_sd:.1f} |
| bare model compute, {dtype} (the probe's choice), batch 8, {clips} clips | {t_model:.1f} |
| **floor** (the two above, one after the other) | {floor:.1f} |
| `shotscope analyze FILM -m BASE` (precision auto = {dtype}) | {t_auto:.1f} |
| `shotscope analyze FILM --scale none --movement geometry` (no network: what analyze does beside it) | {t_rest:.1f} |
{fp32_row}
Ratio to the floor: **{t_auto / floor:.2f}x** (goal <= {GOAL}x). Decoding and cut detection run in the
main thread while the model labels finished shots in a worker thread (a bounded queue of two
batches), so the two overlap; analyze can come in under the floor, which adds them up. Against
the work it really does (the run without a network plus the bare compute,
{t_rest + t_model:.1f} s) it takes {t_auto / (t_rest + t_model):.2f}x: on two cores the decoding thread and
the network's threads take turns.
{"fp32 took " + f"{t_fp32 / t_auto:.1f}x as long. " if t_fp32 else ""}{agreement}
"""
    write_section(per_kind("Analysis with a base-size model: analyze vs its floor"), body)
    print(body)


if __name__ == "__main__":
    main()
