"""ONNX Runtime as the network's CPU backend: exported once and cached under a key of the weights,
the same answers as torch's float32 (int8: the same labels), chosen by the probe like any other
variant, forced with --precision, recorded in what analyze writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from shotscope.errors import DataError, ModelLoadError
from shotscope.model import onnx_backend, probe
from shotscope.model.inference import predict_probs, set_precision

from .conftest import random_clips

pytestmark = pytest.mark.skipif(not onnx_backend.available(), reason='needs shotscope[onnx] (make install has it)')


def test_onnx_fp32_answers_as_torch_does_and_is_exported_once(tiny_model, user_cache, monkeypatch):
    reference = predict_probs(tiny_model, random_clips(tiny_model), batch_size=4)
    set_precision(tiny_model, "onnx-fp32")
    assert tiny_model.backend_network.variant == "onnx-fp32"
    files = list((user_cache / "onnx").glob("*.onnx"))
    assert len(files) == 1 and not list((user_cache / "onnx").glob(".*"))  # no temporary file left
    ours = predict_probs(tiny_model, random_clips(tiny_model), batch_size=4)
    for a, b in zip(ours, reference, strict=True):
        assert np.allclose(a, b, atol=1e-5)
    # the second time it is read from the user_cache: no export
    monkeypatch.setattr(onnx_backend, "export", lambda *a, **k: pytest.fail("exported again"))
    set_precision(tiny_model, "onnx-fp32")
    # back to torch: no session left behind
    set_precision(tiny_model, "fp32")
    assert tiny_model.backend_network is None


def test_onnx_int8_keeps_the_labels(tiny_model, user_cache):
    reference = predict_probs(tiny_model, random_clips(tiny_model, 12), batch_size=4)
    set_precision(tiny_model, "onnx-int8")
    ours = predict_probs(tiny_model, random_clips(tiny_model, 12), batch_size=4)
    for a, b in zip(ours, reference, strict=True):
        assert np.abs(a - b).max() < 0.05 and (a.argmax(1) == b.argmax(1)).mean() >= 0.9
    size = {p.stat().st_size for p in (user_cache / "onnx").glob("*.onnx")}
    assert len(size) == 1


def test_other_weights_are_exported_anew(tiny_model, user_cache):
    key = onnx_backend.weights_key(tiny_model, "onnx-fp32")
    assert onnx_backend.weights_key(tiny_model, "onnx-int8") != key
    with torch.no_grad():
        tiny_model.scale_cf.bias += 1e-3  # a fine-tuned head: another model
    assert onnx_backend.weights_key(tiny_model, "onnx-fp32") != key


def test_the_probe_times_onnx_beside_torch_and_takes_the_fastest_that_agrees(tiny_model, user_cache, monkeypatch):
    assert {"onnx-fp32", "onnx-int8"} <= set(probe.variants(torch.device("cpu")))
    seconds = {"fp32": 1.0, "bf16": 0.9, "onnx-fp32": 0.8, "onnx-int8": 0.3}
    monkeypatch.setattr(probe, "variants", lambda device: list(seconds))  # these alone, whatever else is installed
    calls = []

    def timed(fn, repeats):
        fn()  # really run it: the session must exist and answer
        calls.append(1)
        return list(seconds.values())[len(calls) - 1]

    monkeypatch.setattr(probe, "_timed", timed)
    set_precision(tiny_model, "auto")
    record = tiny_model.precision_record
    assert set(record["seconds"]) == set(seconds) and record["agrees"]["onnx-int8"] is True
    assert record["choice"] == "onnx-int8" and tiny_model.backend_network.variant == "onnx-int8"
    known = json.loads((user_cache / probe.CACHE_FILE).read_text())
    assert next(iter(known.values()))["choice"] == "onnx-int8"
    set_precision(tiny_model, "auto")  # from the user_cache: the session made again, nothing measured
    assert len(calls) == 4 and tiny_model.backend_network.variant == "onnx-int8"


def test_onnx_where_it_cannot_run_says_why(tiny_model, user_cache, monkeypatch):
    from shotscope.devices import resolve_precision

    with pytest.raises(DataError, match="ONNX Runtime runs the network on the CPU"):
        resolve_precision("onnx-int8", "cuda")
    monkeypatch.setattr(onnx_backend, "available", lambda: False)
    with pytest.raises(ModelLoadError, match=r'pip install "shotscope\[onnx\]"'):
        set_precision(tiny_model, "onnx-fp32")
