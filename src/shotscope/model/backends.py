"""The inference backends beside torch, in one place: which variants each offers on this machine,
their libraries' versions (a machine that gains one measures again), and the network a variant
runs. Each backend is a module of its own (:mod:`.onnx_backend`, :mod:`.openvino_backend`),
installed as an extra; torch's own precisions are not here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

from ..precisions import BACKENDS as NAMES
from ..precisions import ONNX, OPENVINO


class Network(Protocol):
    """A converted network: both heads' logits for a float32 batch (n, T, 3, H, W)."""

    variant: str

    def __call__(self, pixel_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def is_backend(name: str) -> bool:
    """Whether ``name`` is a variant of a backend beside torch (they all run on the CPU)."""
    return name in NAMES


def available_variants() -> tuple[str, ...]:
    """The backends' variants this machine can run (their extras installed; bfloat16 where the CPU has it)."""
    from . import onnx_backend, openvino_backend

    return (*(ONNX if onnx_backend.available() else ()), *openvino_backend.variants())


def versions() -> list[str]:
    """The installed backends' library versions, for the precision probe's cache key."""
    from importlib.metadata import version

    from . import onnx_backend, openvino_backend

    return [*([f"onnxruntime {version('onnxruntime')}"] if onnx_backend.available() else []),
            *([openvino_backend.version()] if openvino_backend.available() else [])]


def network(model: Any, variant: str) -> Network:
    """The model as ``variant``: converted once (cached in the user's cache), then loaded."""
    if variant in ONNX:
        from .onnx_backend import onnx_network

        return onnx_network(model, variant)
    if variant in OPENVINO:
        from .openvino_backend import openvino_network

        return openvino_network(model, variant)
    raise ValueError(f"not a backend variant: {variant!r}")
