"""Run a model on clips: batched, on the best device present, probabilities averaged over views."""

from __future__ import annotations

import numpy as np
import torch

from ..devices import (  # noqa: F401 - re-exported: where the model runs
    PRECISIONS,
    best_device,
    cpu_has_native_bf16,
    precision_name,
    resolve_device,
    resolve_precision,
)
from .modeling import ShotScopeModel
from .preprocessing import PreprocessConfig, preprocess


def set_precision(model: ShotScopeModel, choice: str = "auto") -> torch.dtype:
    """Run ``model`` under autocast at the chosen precision (weights stay float32). ``auto`` on a CPU
    or GPU is chosen by measuring (:func:`shotscope.model.probe.choose_precision`: the fastest
    variant whose answers agree with float32's, cached per machine); elsewhere float32."""
    device = next(model.parameters()).device
    model.precision_record = None
    model.backend_network = None
    chosen = choice
    if choice == "auto" and device.type in ("cpu", "cuda"):
        from .probe import choose_precision

        record = choose_precision(model, device)
        chosen = record["choice"]
        model.precision_record = {k: record[k] for k in ("choice", "seconds", "agrees", "device", "cached")}
    dtype = resolve_precision(chosen, device)
    from . import backends

    if backends.is_backend(chosen):  # ONNX Runtime or OpenVINO (shotscope.model.backends)
        model.backend_network = backends.network(model, chosen)
    model.compute_dtype, model.precision_choice = dtype, choice
    return dtype


def autocast(model: ShotScopeModel):
    """The autocast context for the model's compute dtype (none for float32)."""
    from contextlib import nullcontext

    dtype = getattr(model, "compute_dtype", None)
    device = next(model.parameters()).device
    if dtype is None or dtype == torch.float32 or dtype == next(model.parameters()).dtype:
        return nullcontext()
    return torch.autocast(device.type, dtype=dtype)


@torch.no_grad()
def predict_probs(model: ShotScopeModel, clips: list[np.ndarray], batch_size: int = 8,
                  cfg: PreprocessConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``clips``: each (views, T, H, W, 3) uint8. Returns scale and movement probabilities
    (n, classes), averaged over each clip's views, computed at the model's precision
    (:func:`set_precision`; float32 unless set)."""
    cfg = cfg or model.preprocess_config or PreprocessConfig(image_size=model.image_size)
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    flat = [(i, v) for i, c in enumerate(clips) for v in c]
    scale = np.zeros((len(clips), len(model.config.scale_labels)))
    movement = np.zeros((len(clips), len(model.config.movement_labels)))
    counts = np.zeros(len(clips))
    for b in range(0, len(flat), batch_size):
        chunk = flat[b : b + batch_size]
        x = torch.stack([preprocess(v, cfg) for _, v in chunk]).to(device=device, dtype=dtype)
        network = getattr(model, "backend_network", None)
        if network is not None:  # ONNX Runtime or OpenVINO (see shotscope.model.backends)
            logits = [torch.from_numpy(a) for a in network(x.float().numpy())]
        else:
            with autocast(model):
                out = model(x)
            logits = [out.scale_logits, out.movement_logits]
        ps, pm = (v.float().softmax(-1).cpu().numpy() for v in logits)
        for j, (i, _) in enumerate(chunk):
            scale[i] += ps[j]
            movement[i] += pm[j]
            counts[i] += 1
    return scale / counts[:, None], movement / counts[:, None]


def compile_model(model: ShotScopeModel) -> ShotScopeModel:
    """``torch.compile`` the backbone in place (dynamic batch sizes); the first batches pay the
    warm-up. Labels are the same; see docs/benchmarks.md for when it pays off."""
    model.vmae = torch.compile(model.vmae, dynamic=True)
    return model
