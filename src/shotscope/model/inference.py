"""Run a model on clips: batched, on the best device present, probabilities averaged over views."""

from __future__ import annotations

import numpy as np
import torch

from .modeling import ShotScopeModel
from .preprocessing import PreprocessConfig, preprocess


def best_device() -> torch.device:
    """This process's GPU (``LOCAL_RANK`` under torchrun / accelerate launch), else the CPU."""
    import os

    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """``auto`` (this process's GPU, else the CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``;
    a device that is not there is a DataError naming it."""
    from ..errors import DataError

    if name is None or str(name) == "auto":
        return best_device()
    try:
        device = torch.device(str(name))
    except RuntimeError:
        raise DataError(f"--device {name!r}: expected auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DataError(f"--device {name}: no CUDA GPU is available here (torch {torch.__version__})")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DataError(f"--device {name}: this machine has {torch.cuda.device_count()} GPU(s)")
    elif device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise DataError(f"--device {name}: Apple's MPS is not available here")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise DataError(f"--device {name!r}: expected auto, cpu, cuda, cuda:N or mps")
    return device


PRECISIONS = ("auto", "fp32", "bf16", "fp16")
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: bfloat16 matrix work in hardware (3-4x float32 on VideoMAE here)."""
    cpu = torch.cpu
    checks = [getattr(cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    try:
        return any(bool(check()) for check in checks if check is not None)
    except Exception:  # an odd build (tested)
        return False


def resolve_precision(choice: str = "auto", device: torch.device | str = "cpu") -> torch.dtype:
    """The compute dtype for ``choice`` on ``device``: auto = bf16 on CUDA GPUs that have it (else
    fp16), bf16 on CPUs with native bf16 (AMX / AVX512-BF16), fp32 elsewhere."""
    from ..errors import DataError

    if choice not in PRECISIONS:
        raise DataError(f"precision must be one of {', '.join(PRECISIONS)}, got {choice!r}")
    device = torch.device(device)
    if choice != "auto":
        if choice == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise DataError("precision bf16: this GPU has no bfloat16; use fp16 or auto")
        return _DTYPES[choice]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return torch.float32


def set_precision(model: ShotScopeModel, choice: str = "auto") -> torch.dtype:
    """Run ``model`` under autocast at the resolved precision (weights stay float32)."""
    dtype = resolve_precision(choice, next(model.parameters()).device)
    model.compute_dtype, model.precision_choice = dtype, choice
    return dtype


def precision_name(dtype: torch.dtype) -> str:
    return {v: k for k, v in _DTYPES.items()}.get(dtype, str(dtype))


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
        with autocast(model):
            out = model(x)
        ps = out.scale_logits.float().softmax(-1).cpu().numpy()
        pm = out.movement_logits.float().softmax(-1).cpu().numpy()
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
