"""The network on OpenVINO, a CPU inference backend beside torch (``pip install "shotscope[openvino]"``).

The model is converted once from torch (``openvino.convert_model``, batch size dynamic) into
OpenVINO's own format and kept in the user's cache under a key of the weights themselves, the
input shape and the library versions (:func:`shotscope.model.onnx_backend.weights_key`); the
compiled form is cached by OpenVINO beside it, so a later run starts in a fraction of a second.
``openvino-bf16`` runs it with bfloat16 inference precision, offered only where OpenVINO reports
the CPU can (AVX512-BF16 or AMX); ``openvino-fp32`` at float32. ``openvino-int8``: the converted
model quantized once by NNCF (8-bit weights and activations of the matrix products, the two heads
in float, the rest at float32), calibrated on clips of photographs under slow camera moves, with
no data of the user's; offered where NNCF is installed and the CPU has 8-bit products (AVX-VNNI,
AVX512-VNNI or AMX); ``openvino-int8-bf16``: the same with the rest at bfloat16, where the CPU has
it (faster with AMX, slower without: measured, 0.20 against 0.29 s a clip with AMX, 0.52 against
0.44 with it switched off). :mod:`.probe` times them all beside torch's and ONNX Runtime's variants
and keeps them only where their answers agree with float32's; ``--precision`` forces one.
Measured in docs/benchmarks.md.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..files import cache_dir
from .calibration import photograph_clips

log = logging.getLogger(__name__)

VARIANTS = ("openvino-fp32", "openvino-bf16", "openvino-int8", "openvino-int8-bf16")
# the precision of what is not 8-bit (int8) or of everything
_HINTS = {"openvino-fp32": "f32", "openvino-bf16": "bf16", "openvino-int8": "f32", "openvino-int8-bf16": "bf16"}
CALIBRATION_CLIPS = 16  # clips NNCF reads the activations' ranges from
# in the quantized file's name: a change of how it is quantized (these settings) quantizes anew
QUANTIZATION = "q1"


def available() -> bool:
    """Whether the extra is installed."""
    return importlib.util.find_spec("openvino") is not None


def _quantizer_available() -> bool:
    return importlib.util.find_spec("nncf") is not None


@lru_cache(maxsize=1)
def _core() -> Any:
    import openvino as ov

    return ov.Core()


def variants() -> tuple[str, ...]:
    """The variants this CPU runs: float32 always, bfloat16 where OpenVINO says the CPU has it, 8-bit
    where it has 8-bit products and NNCF is installed."""
    if not available():
        return ()
    try:
        capabilities = _capabilities()
    except RuntimeError:  # no CPU plugin: nothing to offer
        return ()
    bf16, int8 = "BF16" in capabilities, "INT8" in capabilities and _quantizer_available()
    return ("openvino-fp32", *(["openvino-bf16"] if bf16 else []), *(["openvino-int8"] if int8 else []),
            *(["openvino-int8-bf16"] if int8 and bf16 else []))


@lru_cache(maxsize=1)
def _capabilities() -> frozenset[str]:
    return frozenset(_core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


def version() -> str:
    from importlib.metadata import version as of

    return f"openvino {of('openvino')}"


def convert(model: Any, path: Path) -> Path:
    """Write the model in OpenVINO's format at ``path`` (.xml, its weights in the .bin beside it),
    each file written under a temporary name and renamed, the weights first (a conversion killed
    half-way leaves no .xml, so it is done again)."""
    import openvino as ov

    from .onnx_backend import _Logits, quiet_conversion

    x = torch.zeros(2, model.num_frames, 3, model.image_size, model.image_size)
    shape = ov.PartialShape([-1, model.num_frames, 3, model.image_size, model.image_size])
    was_training = model.training
    model.eval()
    try:
        with quiet_conversion():
            converted = ov.convert_model(_Logits(model).eval(), example_input=(x,), input=[shape])
    finally:
        model.train(was_training)
    return _save(converted, path)


def _save(network: Any, path: Path) -> Path:
    """``network`` in OpenVINO's format at ``path``: each file written under a temporary name and
    renamed, the weights first (killed half-way, no .xml is left, so the work is done again)."""
    import openvino as ov

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xml")
    try:
        ov.save_model(network, str(tmp), compress_to_fp16=False)
        os.replace(tmp.with_suffix(".bin"), path.with_suffix(".bin"))
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_suffix(".bin")):
            leftover.unlink(missing_ok=True)
    return path


def quantize(model: Any, source: Path, path: Path) -> Path:
    """The OpenVINO model at ``source`` quantized to 8 bits by NNCF (calibrated on
    :func:`shotscope.model.calibration.photograph_clips`), written at ``path`` as :func:`convert` writes."""
    import nncf
    from nncf.quantization.advanced_parameters import (
        AdvancedQuantizationParameters,
        AdvancedSmoothQuantParameters,
    )

    with _quiet_nncf():
        # the two heads stay in float (tiny, and where a label is decided); SmoothQuant off: it is
        # for the outlying activations of language models and doubled the error here
        quantized = nncf.quantize(
            _core().read_model(str(source)), nncf.Dataset(photograph_clips(model, CALIBRATION_CLIPS)),
            model_type=nncf.ModelType.TRANSFORMER, subset_size=CALIBRATION_CLIPS,
            ignored_scope=nncf.IgnoredScope(patterns=[".*(scale|movement)_cf.*"], validate=False),
            advanced_parameters=AdvancedQuantizationParameters(
                smooth_quant_alphas=AdvancedSmoothQuantParameters(matmul=-1)))
    return _save(quantized, path)


@contextmanager
def _quiet_nncf() -> Iterator[None]:
    """NNCF's progress bars and statistics tables off the console while it quantizes (shotscope's
    own progress stays where it is)."""
    import io

    import nncf

    nncf.set_log_level(logging.ERROR)
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        yield


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
    eight_bit = variant.startswith("openvino-int8")
    if eight_bit and not _quantizer_available():
        raise ModelLoadError(f'precision {variant}: NNCF is not installed: pip install "shotscope[openvino]"')
    if variant not in variants():
        what = "8-bit products" if eight_bit and "openvino-int8" not in variants() else "bfloat16"
        raise ModelLoadError(f"precision {variant}: OpenVINO finds no {what} on this CPU; use openvino-fp32")
    path = cache_dir() / "openvino" / f"{weights_key(model, 'openvino', version())}.xml"
    if not path.is_file():
        log.debug("%s: converting the network for OpenVINO once (cached in %s; tens of seconds)", variant, path.parent)
        convert(model, path)
    if eight_bit:  # both int8 variants share the quantized model
        source, path = path, path.with_name(f"{path.stem}-int8-{QUANTIZATION}.xml")
        if not path.is_file():
            log.debug("%s: quantizing the network once (cached in %s; tens of seconds)", variant, path.parent)
            quantize(model, source, path)
    return OpenVinoNetwork(path, variant)
