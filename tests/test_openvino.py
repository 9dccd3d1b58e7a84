"""OpenVINO as the network's CPU backend: converted once and cached under a key of the weights,
the same answers as torch's float32 (bf16: the same labels), chosen by the probe like any other
variant, forced with --precision, recorded in what analyze writes, and a conversion that fails
half-way leaves nothing behind."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shotscope.errors import DataError, ModelLoadError
from shotscope.model import openvino_backend, probe
from shotscope.model.inference import predict_probs, set_precision

from .conftest import random_clips

pytestmark = pytest.mark.skipif(not openvino_backend.available(),
                                reason='needs shotscope[openvino] (make install has it)')


def test_openvino_fp32_answers_as_torch_does_and_is_converted_once(tiny_model, user_cache, monkeypatch):
    reference = predict_probs(tiny_model, random_clips(tiny_model, seed=1), batch_size=4)
    set_precision(tiny_model, "openvino-fp32")
    assert tiny_model.backend_network.variant == "openvino-fp32"
    folder = user_cache / "openvino"
    xml = list(folder.glob("*.xml"))
    assert len(xml) == 1 and xml[0].with_suffix(".bin").is_file()
    assert not list(folder.glob(".*"))  # no temporary file left
    ours = predict_probs(tiny_model, random_clips(tiny_model, seed=1), batch_size=4)
    for a, b in zip(ours, reference, strict=True):
        assert np.allclose(a, b, atol=1e-5)
    monkeypatch.setattr(openvino_backend, "convert", lambda *a, **k: pytest.fail("converted again"))
    set_precision(tiny_model, "openvino-fp32")
    assert predict_probs(tiny_model, random_clips(tiny_model, 2, seed=1), batch_size=2)[0].shape == (2, 5)
    set_precision(tiny_model, "fp32")
    assert tiny_model.backend_network is None


@pytest.mark.skipif("openvino-bf16" not in openvino_backend.variants(), reason="OpenVINO finds no bfloat16 on this CPU")
def test_openvino_bf16_keeps_the_labels(tiny_model, user_cache):
    reference = predict_probs(tiny_model, random_clips(tiny_model, 12, seed=1), batch_size=4)
    set_precision(tiny_model, "openvino-bf16")
    ours = predict_probs(tiny_model, random_clips(tiny_model, 12, seed=1), batch_size=4)
    for a, b in zip(ours, reference, strict=True):
        assert np.abs(a - b).max() < 0.05 and (a.argmax(1) == b.argmax(1)).mean() >= 0.9
    assert len(list((user_cache / "openvino").glob("*.xml"))) == 1  # bf16 and fp32 share the converted model


@pytest.mark.skipif("openvino-int8" not in openvino_backend.variants(),
                    reason="needs NNCF (shotscope[openvino]) and a CPU with 8-bit products")
def test_openvino_int8_is_quantized_once_and_keeps_the_labels(tiny_model, user_cache, monkeypatch):
    reference = predict_probs(tiny_model, random_clips(tiny_model, 12, seed=1), batch_size=4)
    set_precision(tiny_model, "openvino-int8")
    assert tiny_model.backend_network.variant == "openvino-int8"
    # what is not 8-bit runs at float32 (faster than bfloat16 on CPUs without AMX; -bf16 is the other)
    assert "float32" in str(tiny_model.backend_network.compiled.get_property("INFERENCE_PRECISION_HINT"))
    folder = user_cache / "openvino"
    converted = next(p for p in folder.glob("*.xml") if "-int8" not in p.stem)
    # beside the converted model it came from, named by how it was quantized (other settings: anew)
    quantized = converted.with_name(f"{converted.stem}-int8-{openvino_backend.QUANTIZATION}.xml")
    assert {p.name for p in folder.glob("*.xml")} == {converted.name, quantized.name}
    assert not list(folder.glob(".*"))
    ops = {op.get_type_name() for op in openvino_backend._core().read_model(str(quantized)).get_ops()}
    assert "FakeQuantize" in ops  # 8-bit activations and weights in the matrix products
    ours = predict_probs(tiny_model, random_clips(tiny_model, 12, seed=1), batch_size=4)
    for a, b in zip(ours, reference, strict=True):
        assert np.abs(a - b).max() < 0.1 and (a.argmax(1) == b.argmax(1)).mean() >= 0.75
    monkeypatch.setattr(openvino_backend, "quantize", lambda *a, **k: pytest.fail("quantized again"))
    set_precision(tiny_model, "openvino-int8")
    assert predict_probs(tiny_model, random_clips(tiny_model, 2, seed=1), batch_size=2)[0].shape == (2, 5)
    if "openvino-int8-bf16" in openvino_backend.variants():  # the same 8-bit model, the rest at bfloat16
        set_precision(tiny_model, "openvino-int8-bf16")
        config = tiny_model.backend_network.compiled
        assert "bfloat16" in str(config.get_property("INFERENCE_PRECISION_HINT"))
        other = predict_probs(tiny_model, random_clips(tiny_model, 12, seed=1), batch_size=4)
        assert all(np.abs(a - b).max() < 0.1 for a, b in zip(other, ours, strict=True))


def test_calibration_clips_are_moving_photographs_at_the_models_shape(tiny_model):
    from shotscope.model.calibration import photograph_clips

    clips = photograph_clips(tiny_model, 3)
    shape = (1, tiny_model.num_frames, 3, tiny_model.image_size, tiny_model.image_size)
    assert [c.shape for c in clips] == [shape] * 3 and all(c.dtype == np.float32 for c in clips)
    for clip in clips:
        assert 0.3 < clip.std() < 3 and abs(clip.mean()) < 2  # normalised as the model's preprocessing does
        assert np.abs(clip[0, -1] - clip[0, 0]).mean() > 0.01  # the camera moves
    assert not np.allclose(clips[0], clips[1])
    assert not np.allclose(photograph_clips(tiny_model, 1, seed=5)[0], clips[0])  # another seed, other clips


def test_other_weights_are_converted_anew(tiny_model, user_cache):
    set_precision(tiny_model, "openvino-fp32")
    with torch.no_grad():
        tiny_model.movement_cf.bias += 1e-3  # a fine-tuned head: another model
    set_precision(tiny_model, "openvino-fp32")
    assert len(list((user_cache / "openvino").glob("*.xml"))) == 2


def test_the_probe_times_openvino_beside_torch_and_takes_the_fastest_that_agrees(tiny_model, user_cache, monkeypatch):
    offered = probe.variants(torch.device("cpu"))
    assert "openvino-fp32" in offered
    seconds = {"fp32": 1.0, "bf16": 0.9, "openvino-fp32": 0.4}
    monkeypatch.setattr(probe, "variants", lambda device: list(seconds))
    calls = []

    def timed(fn, repeats):
        fn()  # really run it: the compiled model must exist and answer
        calls.append(1)
        return list(seconds.values())[len(calls) - 1]

    monkeypatch.setattr(probe, "_timed", timed)
    set_precision(tiny_model, "auto")
    assert tiny_model.precision_record["choice"] == "openvino-fp32"
    assert tiny_model.backend_network.variant == "openvino-fp32"


@pytest.mark.parametrize("variant", ["openvino-fp32", "onnx-int8"])
def test_analyze_records_the_backend(variant, tiny_model, user_cache, tmp_path):
    """Each CPU backend beside torch runs analyze's network, and the film's record says which."""
    import shotscope
    from shotscope.data.synthetic import make_film

    set_precision(tiny_model, variant)
    film = tmp_path / "film.mp4"
    make_film(film, [("LS", "Static", 20), ("CS", "Push", 20)], width=64, height=48)
    result = shotscope.analyze(film, tiny_model, progress=False)
    assert result.metadata["model"]["precision"]["compute"] == variant
    assert len(result.shots) == 2 and all(s.scale in ("ECS", "CS", "MS", "FS", "LS") for s in result.shots)


def test_a_conversion_that_fails_leaves_nothing(tiny_model, user_cache, monkeypatch):
    import openvino

    real = openvino.save_model

    def full_disk(model, path, **kwargs):
        real(model, path, **kwargs)  # written, then the disk fills before the rename
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openvino, "save_model", full_disk)
    with pytest.raises(OSError, match="No space left"):
        set_precision(tiny_model, "openvino-fp32")
    assert not [p for p in (user_cache / "openvino").iterdir() if p.is_file()]
    monkeypatch.setattr(openvino, "save_model", real)
    set_precision(tiny_model, "openvino-fp32")  # converted afresh, and it runs
    assert predict_probs(tiny_model, random_clips(tiny_model, 2, seed=1), batch_size=2)[1].shape == (2, 4)


@pytest.mark.skipif("openvino-int8" not in openvino_backend.variants(),
                    reason="needs NNCF (shotscope[openvino]) and a CPU with 8-bit products")
def test_a_quantization_that_fails_leaves_the_converted_model_and_no_half_file(tiny_model, user_cache, monkeypatch):
    import openvino

    set_precision(tiny_model, "openvino-fp32")  # converted
    real = openvino.save_model

    def full_disk(model, path, **kwargs):
        real(model, path, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openvino, "save_model", full_disk)
    with pytest.raises(OSError, match="No space left"):
        set_precision(tiny_model, "openvino-int8")
    files = sorted(p.name for p in (user_cache / "openvino").iterdir() if p.is_file())
    assert len(files) == 2 and not any("int8" in f or f.startswith(".") for f in files)  # the fp32 .xml/.bin only
    monkeypatch.setattr(openvino, "save_model", real)
    set_precision(tiny_model, "openvino-int8")  # quantized afresh, and it runs
    assert predict_probs(tiny_model, random_clips(tiny_model, 2, seed=1), batch_size=2)[0].shape == (2, 5)


def test_openvino_where_it_cannot_run_says_why(tiny_model, user_cache, monkeypatch):
    from shotscope.devices import resolve_precision

    with pytest.raises(DataError, match="OpenVINO runs the network on the CPU"):
        resolve_precision("openvino-bf16", "cuda")
    monkeypatch.setattr(openvino_backend, "variants", lambda: ("openvino-fp32",))
    with pytest.raises(ModelLoadError, match="no bfloat16 on this CPU"):
        set_precision(tiny_model, "openvino-bf16")
    with pytest.raises(ModelLoadError, match="no 8-bit products on this CPU"):
        set_precision(tiny_model, "openvino-int8")
    with pytest.raises(ModelLoadError, match="no 8-bit products on this CPU"):
        set_precision(tiny_model, "openvino-int8-bf16")
    monkeypatch.setattr(openvino_backend, "_quantizer_available", lambda: False)
    with pytest.raises(ModelLoadError, match=r'NNCF is not installed: pip install "shotscope\[openvino\]"'):
        set_precision(tiny_model, "openvino-int8")
    monkeypatch.setattr(openvino_backend, "available", lambda: False)
    with pytest.raises(ModelLoadError, match=r'pip install "shotscope\[openvino\]"'):
        set_precision(tiny_model, "openvino-fp32")


def test_openvino_and_nncf_send_no_usage_statistics():
    """Converting and quantizing send nothing to Google Analytics (the package NNCF brings would,
    and offline its forked senders keep the process from exiting): their stubs stand in."""
    import openvino.tools.ovc.convert_impl as convert_impl
    import openvino.tools.ovc.telemetry_utils as telemetry_utils

    assert telemetry_utils.tm.__name__ == convert_impl.tm.__name__ == "openvino.tools.ovc.telemetry_stub"
    if openvino_backend._quantizer_available():
        from nncf.telemetry import wrapper

        assert isinstance(wrapper.telemetry, wrapper.NNCFTelemetryStub)

