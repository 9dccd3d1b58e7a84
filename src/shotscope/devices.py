"""Where and at what precision a network runs: this process's GPU or the CPU, and the compute
dtype each device does well (the model and the cut detector ask the same questions)."""

from __future__ import annotations

import torch

from .precisions import BACKENDS, ONNX, PRECISIONS


def best_device() -> torch.device:
    """This process's GPU (``LOCAL_RANK`` under torchrun / accelerate launch), else the CPU."""
    import os

    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """``auto`` (this process's GPU, else the CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``;
    a device that is not there is a DataError naming it."""
    from .errors import DataError

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
    from .errors import DataError

    if choice not in PRECISIONS:
        raise DataError(f"precision must be one of {', '.join(PRECISIONS)}, got {choice!r}")
    device = torch.device(device)
    if choice != "auto":
        if choice in BACKENDS:
            if device.type != "cpu":
                backend = "ONNX Runtime" if choice in ONNX else "OpenVINO"
                raise DataError(f"precision {choice}: {backend} runs the network on the CPU; add --device cpu")
            return torch.float32  # the backend takes float32 input (its own precision is inside it)
        if choice == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise DataError("precision bf16: this GPU has no bfloat16; use fp16 or auto")
        return _DTYPES[choice]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return torch.float32


def precision_name(dtype: torch.dtype) -> str:
    return {v: k for k, v in _DTYPES.items()}.get(dtype, str(dtype))
