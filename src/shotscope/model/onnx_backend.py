"""The network on ONNX Runtime, a CPU inference backend beside torch (``pip install "shotscope[onnx]"``).

The model is exported once (``torch.onnx.export``, batch size dynamic) and, for ``onnx-int8``, its
weights quantised to 8 bits (ONNX Runtime's dynamic quantisation: weights int8, activations
quantised on the fly). The files are cached in the user's cache under a key made of the weights
themselves, the input shape and the library versions, so a fine-tuned model never reuses another's.
:mod:`.probe` times these variants beside torch's and keeps them only where their answers agree
with float32's; ``--precision onnx-fp32|onnx-int8`` forces one. Measured in docs/benchmarks.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..files import cache_dir

log = logging.getLogger(__name__)

VARIANTS = ("onnx-fp32", "onnx-int8")


def available() -> bool:
    """Whether the extra is installed (ONNX Runtime, and onnx + onnxscript for the export)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx", "onnxscript"))


def _versions() -> str:
    from importlib.metadata import version

    return f"torch {torch.__version__} onnx {version('onnx')} onnxruntime {version('onnxruntime')}"


def _weights_digest(model: Any) -> str:
    """A digest of every weight's bytes and the config, made once per model and state of its weights
    (kept on the model; a tensor changed in place bumps its version, so a model trained further is
    hashed anew)."""
    state = model.state_dict()
    stamp = tuple((name, t.data_ptr(), t._version) for name, t in state.items())
    kept = getattr(model, "_shotscope_weights_digest", None)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    digest = hashlib.blake2b(digest_size=16)
    for name, tensor in state.items():
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    digest.update(model.config.to_json_string().encode())
    object.__setattr__(model, "_shotscope_weights_digest", (stamp, digest.hexdigest()))
    return digest.hexdigest()


def weights_key(model: Any, variant: str, versions: str | None = None) -> str:
    """A key for a converted file: every weight's bytes, the config, the input shape, the variant
    and the versions of the libraries that made it (ONNX's by default)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(_weights_digest(model).encode())
    digest.update(f"{variant} {model.num_frames} {model.image_size} {versions or _versions()}".encode())
    return digest.hexdigest()


@contextmanager
def quiet_conversion() -> Iterator[None]:
    """Hold back the exporters' and tracers' warnings and log notes (missing ops, Python values
    taken as constants, pre-processing advice) while a network is converted: not the user's business."""
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


class _Logits(torch.nn.Module):
    """The network's two heads' logits as plain outputs (what the export traces)."""

    def __init__(self, model: Any):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(pixel_values)
        return out.scale_logits, out.movement_logits


def export(model: Any, path: Path, variant: str) -> Path:
    """Write the model as ONNX at ``path`` (``onnx-int8``: its weights quantised), via a temporary
    file renamed into place (an export killed half-way leaves nothing under the name)."""
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    plain = path.with_name(f".{path.name}.{os.getpid()}.fp32.tmp")
    x = torch.zeros(2, model.num_frames, 3, model.image_size, model.image_size)
    was_training = model.training
    model.eval()
    try:
        with quiet_conversion():  # the exporter's and the quantiser's notes held back
            program = torch.onnx.export(_Logits(model).eval(), (x,), dynamo=True, input_names=["pixel_values"],
                                        output_names=["scale_logits", "movement_logits"],
                                        dynamic_shapes={"pixel_values": {0: torch.export.Dim("batch", min=1, max=4096)}},
                                        verbose=False)
            program.save(str(plain))
            graph = onnx.load(str(plain))
            del graph.graph.value_info[:]  # the exporter's shape notes trip the quantiser's shape inference
            onnx.save(graph, str(plain))
            if variant == "onnx-int8":
                from onnxruntime.quantization import QuantType, quantize_dynamic

                quantize_dynamic(str(plain), str(tmp), weight_type=QuantType.QInt8)
            else:
                os.replace(plain, tmp)
        os.replace(tmp, path)
    finally:
        model.train(was_training)
        for leftover in (tmp, plain):
            leftover.unlink(missing_ok=True)
    return path


class OnnxNetwork:
    """An ONNX Runtime session of the network: logits of both heads for a float32 batch."""

    def __init__(self, path: Path, variant: str, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.log_severity_level = 3
        # beside analyze's decoding thread, spinning workers would take its core while they wait
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.path, self.variant = path, variant
        self.input = self.session.get_inputs()[0].name

    def __call__(self, pixel_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scale, movement = self.session.run(None, {self.input: np.ascontiguousarray(pixel_values, np.float32)})
        return scale, movement


def onnx_network(model: Any, variant: str) -> OnnxNetwork:
    """The model as ``variant`` on ONNX Runtime: exported (and quantised) the first time, then read
    from the user's cache."""
    from ..errors import ModelLoadError

    if variant not in VARIANTS:
        raise ValueError(f"not an ONNX variant: {variant!r}")
    if not available():
        raise ModelLoadError(f'precision {variant}: ONNX Runtime is not installed: pip install "shotscope[onnx]"')
    path = cache_dir() / "onnx" / f"{weights_key(model, variant)}.onnx"
    if not path.is_file():
        log.debug("%s: exporting the network to ONNX once (cached in %s; tens of seconds)", variant, path.parent)
        export(model, path, variant)
    return OnnxNetwork(path, variant)
