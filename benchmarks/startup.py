"""Start-up of the command line: `shotscope --help`, `--version`, a subcommand's help and a usage
error, side by side with `scenedetect --help`, as commands (process start included).

Run: .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

from _common import machine, write_section

GOAL = 0.8  # seconds, each shotscope row
RUNS = 7


def timed(cmd: list[str]) -> float:
    """Median wall time of ``RUNS`` runs (after one warm-up run, so the file cache is warm for both tools)."""
    subprocess.run(cmd, capture_output=True)
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    shotscope = [sys.executable, "-m", "shotscope"]
    scenedetect = shutil.which("scenedetect") or "scenedetect"
    rows = [
        ("`scenedetect --help`", [scenedetect, "--help"]),
        ("`shotscope --help`", [*shotscope, "--help"]),
        ("`shotscope --version`", [*shotscope, "--version"]),
        ("`shotscope analyze --help`", [*shotscope, "analyze", "--help"]),
        ("`shotscope train --help`", [*shotscope, "train", "--help"]),
        ("`shotscope analyze x --shard 5/2` (usage error)", [*shotscope, "analyze", "x", "--shard", "5/2"]),
        ("`shotscope train train.epocs=1` (config error)", [*shotscope, "train", "train.epocs=1"]),
    ]
    results = [(name, timed(cmd)) for name, cmd in rows]
    for name, t in results:
        print(f"{t:6.3f} s  {name}")
    worst = max(t for name, t in results if "shotscope" in name)
    table = "\n".join(f"| {name} | {t:.3f} |" for name, t in results)
    write_section("Command line: start-up", f"""
Command: `.venv/bin/python benchmarks/startup.py` ({machine()})

Median of {RUNS} runs each (after a warm-up run), as commands: process start and imports included.

| command | seconds |
|---|---|
{table}

Slowest shotscope row: **{worst:.3f} s** (goal <= {GOAL} s). Heavy libraries (torch, transformers,
OpenCV, PyAV) load only inside the command that needs them; the configuration error row imports
transformers' config classes to check `model.config` keys, and still stays under the goal.
""")


if __name__ == "__main__":
    main()
