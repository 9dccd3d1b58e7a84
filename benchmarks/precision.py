"""The precision `--precision auto` chooses by measuring (shotscope.model.probe), against every
variant timed the long way, with a model of the published size (VideoMAE-base, 16x224x224,
random weights: the same compute) as analyze runs it (batches of 8 clips).

Run: .venv/bin/python benchmarks/precision.py
"""

from __future__ import annotations

import os
import tempfile
import time

import torch

from _common import machine, per_kind, write_section
from shotscope import ShotScopeConfig, ShotScopeModel
from shotscope.model.backends import is_backend, network
from shotscope.model.probe import choose_precision, variants


def per_clip(model: ShotScopeModel, name: str, batch: int = 8, rounds: int = 3) -> float:
    x = torch.randn(batch, 16, 3, 224, 224)
    if is_backend(name):  # ONNX Runtime / OpenVINO: converted once (cached), then timed the same way
        net = network(model, name)
        net(x[:2].numpy())
        best = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            net(x.numpy())
            best = min(best, time.perf_counter() - t0)
        return best / batch
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]
    with torch.no_grad(), torch.autocast("cpu", dtype=dtype, enabled=name != "fp32"):
        model(x[:2])
        best = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            model(x)
            best = min(best, time.perf_counter() - t0)
    return best / batch


def compiled_torch(model: ShotScopeModel, name: str) -> tuple[float, float]:
    """torch.compile at ``name`` (not in the probe: its warm-up is the cost): seconds a clip, and the warm-up."""
    import copy

    compiled = copy.deepcopy(model)
    compiled.vmae = torch.compile(compiled.vmae, dynamic=True)
    x = torch.randn(8, 16, 3, 224, 224)
    t0 = time.perf_counter()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=name == "bf16"):
        compiled(x[:2])
        compiled(x)
    warm_up = time.perf_counter() - t0
    return per_clip(compiled, name), warm_up


def main() -> None:
    torch.manual_seed(0)
    model = ShotScopeModel(ShotScopeConfig()).eval()  # VideoMAE-base
    device = torch.device("cpu")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SHOTSCOPE_CACHE"] = cache
        t0 = time.perf_counter()
        record = choose_precision(model, device)
        probe_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = choose_precision(model, device)
        cached_seconds = time.perf_counter() - t0
        long = {name: per_clip(model, name) for name in variants(device)}
    eager = "bf16" if "bf16" in long else "fp32"  # torch's fastest where the CPU has bf16 at all
    compiled, warm_up = compiled_torch(model, eager)
    fastest = min(long, key=long.get)
    slower = long[record["choice"]] / long[fastest] - 1
    rows = "\n".join(f"| {name} | {long[name]:.3f} | {record['seconds'].get(name, float('nan')):.3f} | "
                     f"{'yes' if record['agrees'].get(name) else 'no'} |" for name in long)
    body = f"""Command: `.venv/bin/python benchmarks/precision.py` ({machine()})

| variant | s per clip, batch 8 (best of 3) | the probe's time (1 clip) | answers agree with fp32 |
|---|---|---|---|
{rows}

The probe chose **{record['choice']}** in {probe_seconds:.1f} s (once per machine and model shape;
read from the cache afterwards in {cached_seconds * 1000:.1f} ms: {again['choice']}). The fastest measured
the long way: {fastest}; auto is {max(slower, 0) * 100:.0f} % slower than it (goal: at most 5 %).
torch.compile (`--compile`, not among the probe's variants: its warm-up is the cost) runs {eager} at
{compiled:.3f} s a clip after {warm_up:.0f} s of warm-up, against {long[eager]:.3f} eager: {
    f"it pays off after {warm_up / (long[eager] - compiled):.0f} clips against eager {eager}"
    if compiled < long[eager] else f"never faster than eager {eager}"}{
    "" if compiled < long[fastest] else f", and never against {fastest} ({long[fastest]:.3f})"}.
{"" if "bf16" in long else "torch's bf16 is not measured: this CPU has no bfloat16 instructions (converted, 5x slower). "}CPU flags would have said {"bf16" if torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported() else "fp32"}.
"""
    write_section(per_kind("Precision chosen by measuring"), body)
    print(body)


if __name__ == "__main__":
    main()
