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


@torch.no_grad()
def predict_probs(model: ShotScopeModel, clips: list[np.ndarray], batch_size: int = 8,
                  cfg: PreprocessConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``clips``: each (views, T, H, W, 3) uint8. Returns scale and movement probabilities
    (n, classes), averaged over each clip's views."""
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
        out = model(x)
        ps = out.scale_logits.float().softmax(-1).cpu().numpy()
        pm = out.movement_logits.float().softmax(-1).cpu().numpy()
        for j, (i, _) in enumerate(chunk):
            scale[i] += ps[j]
            movement[i] += pm[j]
            counts[i] += 1
    return scale / counts[:, None], movement / counts[:, None]
