"""Clips per second: reading the frame cache vs decoding the mp4s, same clips, same run.

Run: .venv/bin/python benchmarks/loader.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _common import machine, write_section
from shotscope.data import read_manifest
from shotscope.data.cache import prepare
from shotscope.data.dataset import ClipDataset
from shotscope.data.synthetic import SynthSettings, generate
from shotscope.model.preprocessing import PreprocessConfig


def rate(ds: ClipDataset) -> float:
    t0 = time.perf_counter()
    for i in range(len(ds)):
        ds[i]
    return len(ds) / (time.perf_counter() - t0)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # MovieShots clips are trailer shots: 720p and larger, a few seconds long
        settings = SynthSettings(width=1280, height=720, frames=72, fps=24)
        manifest = generate(Path(tmp) / "synth", 16, settings=settings, progress=False)
        records, _ = read_manifest(manifest)
        cache = Path(tmp) / "cache"
        t0 = time.perf_counter()
        prepare(records, cache, short_side=256, max_frames=48, progress=False)
        prep = time.perf_counter() - t0
        cfg = PreprocessConfig(image_size=224)
        decoded = rate(ClipDataset(records, 16, cfg))
        cached = rate(ClipDataset(records, 16, cfg, cache_dir=cache))
    body = f"""Command: `.venv/bin/python benchmarks/loader.py` ({machine()})

16 synthetic 1280x720 clips of 72 frames (3 s at 24 fps, H.264), like MovieShots' trailer shots;
16 frames per clip at 224x224, one process, no augmentation.
The cache holds up to 48 frames per clip at short side 256 (`shotscope prepare`, {prep:.1f} s to fill).

| source | clips/s |
|---|---|
| decoding the mp4s | {decoded:.1f} |
| frame cache | {cached:.1f} |

Speed-up: **{cached / decoded:.1f}x** (target >= 10x)
"""
    write_section("Datasets: loader", body)
    print(body)


if __name__ == "__main__":
    main()
