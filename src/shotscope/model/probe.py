"""The compute precision chosen by measuring, not by CPU flags.

On CPUs with AMX, bfloat16 runs VideoMAE about 3x faster than float32; on CPUs with AVX512-BF16
but no AMX it runs slower (measured 0.55-0.66x). Flags cannot tell them apart; a measurement
can. The first time a model of a given shape runs on a machine, :func:`choose_precision` times
each variant the device offers (float32; bfloat16 autocast; float16 autocast on GPUs) on the
model's real input shape (photographs under slow camera moves, :mod:`.calibration`), keeps those
whose answers agree with float32's, and chooses the
fastest. The choice is cached per device model, library versions, model shape and heads (whether
a variant agrees is the model's own) in the user's cache (``precision.json``), so later runs pay
nothing. ``--precision`` still forces one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..devices import cpu_has_native_bf16
from ..files import atomic_write_text, cache_dir
from .backends import available_variants, is_backend
from .backends import network as backend_network

log = logging.getLogger(__name__)

CACHE_FILE = "precision.json"
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
PROBE_INPUTS = "photographs-v1"  # what the answers are compared on: a choice made on other inputs is measured anew
AGREE = 0.02  # a variant agrees when every clip's labels match float32's, or its probabilities differ by less


def device_name(device: torch.device) -> str:
    """The processor a variant's speed depends on: the GPU's name, or the CPU's model name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cache_key(model: Any, device: torch.device) -> str:
    cfg = model.config
    shape = (cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size, model.num_frames, model.image_size,
             cfg.patch_size, cfg.tubelet_size, getattr(cfg, "_attn_implementation", None))
    onnx = _backend_versions() if device.type == "cpu" else None
    # whether a variant's answers agree is the model's own: its heads tell one fine-tune from another
    heads = hashlib.blake2b(digest_size=8)
    for name, tensor in model.state_dict().items():
        if name.startswith(("scale_cf", "movement_cf")):
            heads.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    text = json.dumps([device.type, device_name(device), torch.__version__, torch.get_num_threads(), shape,
                       heads.hexdigest(), PROBE_INPUTS] + ([onnx] if onnx else []))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _backend_versions() -> str | None:
    """The backends' versions where their extras are installed: a machine that gains one measures again."""
    from .backends import versions

    return " ".join(versions()) or None


def _bf16_worth_timing() -> bool:
    """Whether torch's bf16 is timed on this CPU: an x86 CPU without AVX512-BF16 or AMX only
    converts (measured on an AVX2 EPYC: 16.5 s a clip against float32's 3.1), so the probe does not
    spend half a minute proving it; where bf16 exists (and on other CPUs: Arm) it is measured."""
    return platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686") or cpu_has_native_bf16()


def variants(device: torch.device) -> list[str]:
    """What the device can run: float32 always, bfloat16 where the device has it, float16 on GPUs,
    and the CPU backends' variants (ONNX Runtime, OpenVINO) where their extras are installed."""
    if device.type == "cuda":
        return ["fp32", *(["bf16"] if torch.cuda.is_bf16_supported() else []), "fp16"]
    if device.type == "cpu":
        return ["fp32", *(["bf16"] if _bf16_worth_timing() else []), *available_variants()]
    return ["fp32"]


def _timed(fn, repeats: int) -> float:
    """The fastest of ``repeats`` calls of ``fn`` (already called once: kernels chosen, caches warm)."""
    best = float("inf")
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


@torch.no_grad()
def measure(model: Any, device: torch.device, repeats: int = 1, clips: int = 1) -> dict[str, Any]:
    """Time each variant on ``clips`` clips of the model's real input shape and compare its answers
    with float32's: {"seconds": {variant: s}, "agrees": {variant: bool}, "choice": fastest agreeing}."""
    from .calibration import photograph_clips

    # photographs under camera moves (not the ones NNCF calibrated on): a trained network's answers
    # on them say more than on random pixels
    x = torch.from_numpy(np.concatenate(photograph_clips(model, clips, seed=1000))).to(device)
    dtype = next(model.parameters()).dtype

    networks: dict[str, Any] = {}

    def run(name: str):
        if is_backend(name):
            if name not in networks:  # converted once (cached), outside the timing
                networks[name] = backend_network(model, name)
            scale, movement = (torch.from_numpy(a) for a in networks[name](x.float().cpu().numpy()))
            return scale.softmax(-1), movement.softmax(-1)
        with torch.autocast(device.type, dtype=_DTYPES[name]) if name != "fp32" else nullcontext():
            out = model(x.to(dtype))
        return out.scale_logits.float().softmax(-1), out.movement_logits.float().softmax(-1)

    reference = run("fp32")
    seconds, agrees = {}, {}
    for name in variants(device):
        try:
            answer = reference if name == "fp32" else run(name)  # also the warm-up of the timing
            seconds[name] = _timed(lambda name=name: run(name), repeats)
        except (RuntimeError, TypeError, OSError, ImportError) as exc:  # a variant this build cannot run
            log.debug("precision %s cannot run here: %s", name, exc)
            continue
        agrees[name] = all(bool(((a.argmax(-1) == r.argmax(-1)) | ((a - r).abs().amax(-1) < AGREE)).all())
                           for a, r in zip(answer, reference, strict=True))
    fine = [n for n in seconds if agrees[n]] or ["fp32"]
    choice = min(fine, key=lambda n: seconds.get(n, float("inf")))
    return {"seconds": {k: round(v, 4) for k, v in seconds.items()}, "agrees": agrees, "choice": choice}


def choose_precision(model: Any, device: torch.device | None = None, refresh: bool = False) -> dict[str, Any]:
    """The measured choice for ``model`` on ``device`` (its own by default), from the cache when this
    machine measured a model of this shape before; measured (a few seconds) and cached otherwise.
    Returns the record: choice, seconds and agreement per variant, device, and whether it was cached."""
    device = device or next(model.parameters()).device
    key = cache_key(model, device)
    path = cache_dir() / CACHE_FILE
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    if not refresh and isinstance(known.get(key), dict) and known[key].get("choice") in (*_DTYPES, *available_variants()):
        return {**known[key], "cached": True}
    was_training = model.training
    model.eval()
    record = {**measure(model, device), "device": device_name(device), "torch": torch.__version__}
    model.train(was_training)
    known[key] = record
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(known, indent=1))
    except OSError as exc:  # a read-only home: measured again next time, nothing else lost
        log.debug("could not keep the precision measured in %s: %s", path, exc)
    log.debug("precision: %s chosen by measuring on %s (%s)", record["choice"], record["device"],
             ", ".join(f"{k} {v:.3f} s{'' if record['agrees'][k] else ' (answers differ)'}"
                       for k, v in record["seconds"].items()))
    return {**record, "cached": False}
