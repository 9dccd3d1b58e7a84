"""`shotscope analyze` with a tiny model vs PySceneDetect alone on the same generated 1080p film.

Run: .venv/bin/python benchmarks/analyze.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from _common import best_of, machine, write_section
from shotscope import PreprocessConfig, ShotScopeConfig, ShotScopeModel
from shotscope.data.synthetic import make_film
from shotscope.runs.batch import output_dir_for

# three minutes of film: start-up (imports) is paid once per run, so a short clip would measure it
SHOTS = [
    ("LS", "Static", 72), ("MS", "Push", 60), ("CS", "Static", 48), ("ECS", "Pull", 60), ("FS", "Motion", 72),
    ("LS", "Motion", 60), ("CS", "Push", 48), ("MS", "Static", 72), ("FS", "Pull", 60), ("ECS", "Static", 48),
] * 7


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        film = tmp / "film_1080p.mp4"
        starts = make_film(film, SHOTS, width=1920, height=1080, fps=24)
        torch.manual_seed(0)
        model = ShotScopeModel(ShotScopeConfig(image_size=64, num_frames=8, hidden_size=64, num_hidden_layers=2,
                                               num_attention_heads=2, intermediate_size=128))
        model.preprocess_config = PreprocessConfig(image_size=64)
        model.save_pretrained(tmp / "tiny")
        scenedetect = [str(bindir / "scenedetect"), "-i", str(film), "-o", str(tmp / "sd"), "detect-adaptive"]
        ours = [str(bindir / "shotscope"), "analyze", str(film), "--model", str(tmp / "tiny"),
                "--out", str(tmp / "out"), "--force"]
        t_sd = min(timed(scenedetect) for _ in range(2))
        t_ours = min(timed(ours) for _ in range(2))
        start_sd = timed([str(bindir / "scenedetect"), "version"])
        start_ours = timed([str(bindir / "shotscope"), "--version"])
        # the same work in one process, start-up (imports) left out
        from scenedetect import AdaptiveDetector, detect

        from shotscope import analyze, load_model, write_outputs

        tiny = load_model(tmp / "tiny")
        lib_sd, _ = best_of(lambda: detect(str(film), AdaptiveDetector()), 1)
        lib_ours, _ = best_of(lambda: write_outputs(analyze(film, tiny, progress=False), tmp / "lib"), 1)
        shots = json.loads((output_dir_for(film, tmp / "out") / "shots.json").read_text())["shots"]
    found = [s["start_frame"] for s in shots]
    body = f"""Command: `.venv/bin/python benchmarks/analyze.py` ({machine()})

A generated 1920x1080, 24 fps H.264 film of {len(SHOTS)} shots ({sum(n for *_, n in SHOTS)} frames). Both
commands run as processes (start-up included), best of 2; the library rows run once.

| command | seconds |
|---|---|
| `scenedetect -i FILM detect-adaptive` | {t_sd:.2f} |
| `shotscope analyze FILM --model TINY` (cuts + labels + all outputs) | {t_ours:.2f} |
| library: `scenedetect.detect(FILM, AdaptiveDetector())` | {lib_sd:.2f} |
| library: `shotscope.analyze(FILM, tiny)` + `write_outputs` | {lib_ours:.2f} |
| start-up: `scenedetect version` | {start_sd:.2f} |
| start-up: `shotscope --version` (torch and transformers load only in commands that need them) | {start_ours:.2f} |

Ratio, commands: **{t_ours / t_sd:.2f}x**; in one process: **{lib_ours / lib_sd:.2f}x** (target <= 1.3x).
The command's extra time over the library is importing torch and transformers and loading the
model at the start of `analyze` (a few seconds, paid once per run: an archive of many films pays
it once), not per film.
Cuts found: {found} (true: {starts}).
"""
    write_section("Analysis: analyze vs PySceneDetect", body)
    print(body)


if __name__ == "__main__":
    main()
