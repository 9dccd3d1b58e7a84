"""The network on OpenVINO, a CPU inference backend beside torch (``pip install "shotscope[openvino]"``).

The model is converted once from torch (``openvino.convert_model``, batch size dynamic) into
OpenVINO's own format and kept in the user's cache under a key of the weights themselves, the
input shape and the library versions (:func:`shotscope.model.onnx_backend.weights_key`); the
compiled form is cached by OpenVINO beside it, so a later run starts in a fraction of a second.
``openvino-bf16`` runs it with bfloat16 inference precision, offered only where OpenVINO reports
the CPU can (AVX512-BF16 or AMX); ``openvino-fp32`` at float32. :mod:`.probe` times both beside
torch's and ONNX Runtime's variants and keeps them only where their answers agree with float32's;
``--precision openvino-fp32|openvino-bf16`` forces one. Measured in docs/benchmarks.md.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..files import cache_dir

log = logging.getLogger(__name__)

VARIANTS = ("openvino-fp32", "openvino-bf16")
_HINTS = {"openvino-fp32": "f32", "openvino-bf16": "bf16"}


def available() -> bool:
    """Whether the extra is installed."""
    return importlib.util.find_spec("openvino") is not None


@lru_cache(maxsize=1)
def _core() -> Any:
    import openvino as ov

    return ov.Core()


def variants() -> tuple[str, ...]:
    """The variants this CPU runs: float32 always, bfloat16 where OpenVINO says the CPU has it."""
    if not available():
        return ()
    try:
        capabilities = set(_core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    except RuntimeError:  # no CPU plugin: nothing to offer
        return ()
    return VARIANTS if "BF16" in capabilities else VARIANTS[:1]


def version() -> str:
    from importlib.metadata import version as of

    return f"openvino {of('openvino')}"


def convert(model: Any, path: Path) -> Path:
    """Write the model in OpenVINO's format at ``path`` (.xml, its weights in the .bin beside it),
    each file written under a temporary name and renamed, the weights first (a conversion killed
    half-way leaves no .xml, so it is done again)."""
    import openvino as ov

    from .onnx_backend import _Logits, quiet_conversion

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xml")
    x = torch.zeros(2, model.num_frames, 3, model.image_size, model.image_size)
    shape = ov.PartialShape([-1, model.num_frames, 3, model.image_size, model.image_size])
    was_training = model.training
    model.eval()
    try:
        with quiet_conversion():
            converted = ov.convert_model(_Logits(model).eval(), example_input=(x,), input=[shape])
        ov.save_model(converted, str(tmp), compress_to_fp16=False)
        os.replace(tmp.with_suffix(".bin"), path.with_suffix(".bin"))
        os.replace(tmp, path)
    finally:
        model.train(was_training)
        for leftover in (tmp, tmp.with_suffix(".bin")):
            leftover.unlink(missing_ok=True)
    return path


class OpenVinoNetwork:
    """A compiled OpenVINO model of the network: logits of both heads for a float32 batch."""

    def __init__(self, path: Path, variant: str, threads: int | None = None):
        config = {"INFERENCE_PRECISION_HINT": _HINTS[variant], "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_NUM_THREADS": threads or torch.get_num_threads(),
                  "CACHE_DIR": str(path.parent / "compiled")}
        self.compiled = _core().compile_model(str(path), "CPU", config)
        self.path, self.variant = path, variant

    def __call__(self, pixel_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        result = self.compiled(np.ascontiguousarray(pixel_values, np.float32))
        return result[0], result[1]


def openvino_network(model: Any, variant: str) -> OpenVinoNetwork:
    """The model as ``variant`` on OpenVINO: converted the first time, then read from the user's cache."""
    from ..errors import ModelLoadError
    from .onnx_backend import weights_key

    if variant not in VARIANTS:
        raise ValueError(f"not an OpenVINO variant: {variant!r}")
    if not available():
        raise ModelLoadError(f'precision {variant}: OpenVINO is not installed: pip install "shotscope[openvino]"')
    if variant not in variants():
        raise ModelLoadError(f"precision {variant}: OpenVINO finds no bfloat16 on this CPU; use openvino-fp32")
    path = cache_dir() / "openvino" / f"{weights_key(model, 'openvino', version())}.xml"
    if not path.is_file():
        log.debug("%s: converting the network for OpenVINO once (cached in %s; tens of seconds)", variant, path.parent)
        convert(model, path)
    return OpenVinoNetwork(path, variant)
