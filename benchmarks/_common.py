"""Helpers shared by the benchmark scripts: timing and the docs/benchmarks.md table."""

from __future__ import annotations

import platform
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def best_of(fn: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    """The fastest of ``repeats`` runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def cpu_model() -> str:
    """The CPU's model name (as the precision probe keys its choices)."""
    from shotscope.model.probe import device_name

    return device_name(torch.device("cpu"))


def cpu_kind() -> str:
    """The kind of CPU a speed depends on: torch's bf16 is ~3x fp32 with AMX and slower without."""
    import os

    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    if torch.cpu._is_amx_tile_supported() and cap and cap != "ALL" and "AMX" not in cap:
        return f"CPU with AMX capped at {cap} (ONEDNN_MAX_CPU_ISA: no AMX, emulated)"
    if torch.cpu._is_amx_tile_supported():
        return "CPU with AMX"
    if torch.cpu._is_avx512_bf16_supported():
        return "CPU with AVX512-BF16, no AMX"
    return f"CPU without bf16 ({torch.backends.cpu.get_cpu_capability()}, no AVX512)"


def machine() -> str:
    return (f"{platform.machine()}, {torch.get_num_threads()} torch threads, Python {platform.python_version()}; "
            f"{cpu_model()}")


def per_kind(name: str) -> str:
    """A section's name for a speed measured on this kind of CPU: each kind keeps its own."""
    return f"{name}: {cpu_kind()}"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the ``## name`` section of docs/benchmarks.md."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\nEach section says the command that made it.\n"
    section = f"## {name}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    tmp = DOC.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(DOC)


def reliability(conf: np.ndarray, right: np.ndarray, path: Path, title: str, bins: int = 5) -> float:
    """Expected calibration error over ``bins`` equal-width confidence bins; the diagram as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ece = calibration_error(conf, right, bins)
    masks = _bins(conf, bins)
    xs, ys, ns = [conf[m].mean() for m in masks], [right[m].mean() for m in masks], [int(m.sum()) for m in masks]
    fig, ax = plt.subplots(figsize=(4.2, 4.2), dpi=100)
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1)
    ax.plot(xs, ys, "o-", color="#3b6ea5")
    for x, y, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.set(xlabel="probability of the label given", ylabel="share right", xlim=(0, 1), ylim=(0, 1))
    ax.set_title(f"{title}: ECE {ece:.2f}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return float(ece)


def _bins(conf: np.ndarray, bins: int) -> list[np.ndarray]:
    edges = np.linspace(0, 1, bins + 1)
    masks = [(conf > lo) & (conf <= hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return [m for m in masks if m.any()]


def calibration_error(conf: np.ndarray, right: np.ndarray, bins: int = 5) -> float:
    """Expected calibration error over ``bins`` equal-width confidence bins (no diagram)."""
    return float(sum(m.mean() * abs(right[m].mean() - conf[m].mean()) for m in _bins(conf, bins)))
