"""Archives on Ray: 8 small films on a local cluster against the single-process loop.

Run: .venv/bin/python benchmarks/ray.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != HERE]  # this file is not the ray package
import ray  # noqa: E402

sys.path.insert(0, HERE)
import torch  # noqa: E402

from _common import machine, write_section  # noqa: E402
from shotscope import PreprocessConfig, ShotScopeConfig, ShotScopeModel, load_model  # noqa: E402
from shotscope.data.synthetic import make_film  # noqa: E402
from shotscope.runs.batch import analyze_many  # noqa: E402

GOAL = 0.15
SHOTS = [("LS", "Static", 96), ("CS", "Motion", 120), ("MS", "Push", 96), ("FS", "Pull", 120), ("ECS", "Static", 96)]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        films = []
        for i in range(8):
            films.append(tmp / "films" / f"film{i}.mp4")
            films[-1].parent.mkdir(exist_ok=True)
            make_film(films[-1], SHOTS[i % 2:] + SHOTS[: i % 2], width=640, height=360, fps=24, seed=i)
        torch.manual_seed(0)
        tiny = ShotScopeModel(ShotScopeConfig(image_size=64, num_frames=8, hidden_size=64, num_hidden_layers=2,
                                              num_attention_heads=2, intermediate_size=128))
        tiny.preprocess_config = PreprocessConfig(image_size=64)
        tiny.save_pretrained(tmp / "model")
        model = load_model(tmp / "model")
        t0 = time.perf_counter()
        analyze_many([str(tmp / "films")], tmp / "one", model, progress=False)
        single = time.perf_counter() - t0
        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        start = time.perf_counter() - t0
        t0 = time.perf_counter()
        analyze_many([str(tmp / "films")], tmp / "cold", model, progress=False, ray="local")
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        analyze_many([str(tmp / "films")], tmp / "warm", model, progress=False, ray="local")
        warm = time.perf_counter() - t0
        ray.shutdown()
    body = f"""Command: `.venv/bin/python benchmarks/ray.py` ({machine()})

8 generated 640x360 films of 22 s (5 shots each), a tiny model, on a local Ray cluster of 2 CPUs
(`ray.init(num_cpus=2)`, one film per task) against the single-process loop on the same machine.

| run | seconds |
|---|---|
| single process (`analyze_many`) | {single:.1f} |
| starting the local cluster (`ray.init`) | {start:.1f} |
| Ray, first run (workers start, import shotscope, load the model) | {cold:.1f} |
| Ray, cluster warm | {warm:.1f} |

Overhead of the Ray path: **{100 * (warm - single) / single:+.0f} %** with the cluster up (goal <= {100 * GOAL:.0f} %),
{100 * (cold - single) / single:+.0f} % on its first run (worker start-up is paid once per worker,
not per film). Two films at a time keep both cores busier than one process's film-by-film loop does,
which is why the warm cluster comes in under it.
"""
    write_section("Archives on Ray: local cluster vs one process", body)
    print(body)


if __name__ == "__main__":
    main()
