"""Running a model on clips: which device and precision a choice gives, the autocast it runs
under, and probabilities that do not depend on how clips and views are batched."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from shotscope import DataError, devices
from shotscope.model import inference
from shotscope.model.inference import (
    autocast,
    best_device,
    compile_model,
    precision_name,
    predict_probs,
    resolve_device,
    resolve_precision,
    set_precision,
)
from shotscope.model.preprocessing import PreprocessConfig, preprocess


@pytest.fixture
def gpus(monkeypatch):
    """Pretend this machine has ``n`` CUDA GPUs (with or without bfloat16)."""

    def have(n: int = 2, bf16: bool = True):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)

    return have


def test_devices_by_name():
    assert resolve_device("auto") == resolve_device(None) == best_device() == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(DataError, match=r"^--device cuda: no CUDA GPU is available here \(torch "):
        resolve_device("cuda")
    with pytest.raises(DataError, match=r"^--device cuda:1: no CUDA GPU"):
        resolve_device("cuda:1")
    with pytest.raises(DataError, match=r"^--device mps: Apple's MPS is not available here$"):
        resolve_device("mps")
    for bad in ("gpu", "meta", "cpu:x"):
        with pytest.raises(DataError, match=rf"^--device '{bad}': expected auto, cpu, cuda, cuda:N or mps$"):
            resolve_device(bad)


def test_gpu_devices_follow_local_rank_and_the_count(gpus, monkeypatch):
    gpus(2)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert best_device() == resolve_device("auto") == torch.device("cuda", 0)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert best_device() == torch.device("cuda", 1)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    assert resolve_device("cuda") == torch.device("cuda")
    with pytest.raises(DataError, match=r"^--device cuda:2: this machine has 2 GPU\(s\)$"):
        resolve_device("cuda:2")


def test_precision_choices_on_each_device(gpus, monkeypatch):
    for choice, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)):
        assert resolve_precision(choice, "cpu") == dtype
        assert resolve_precision(choice, torch.device("cpu")) == dtype
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", "cpu") == resolve_precision(device="cpu") == torch.bfloat16
    assert resolve_precision("auto", "mps") == torch.float32
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", "cpu") == torch.float32
    gpus(1, bf16=True)
    assert resolve_precision("auto", "cuda") == torch.bfloat16
    assert resolve_precision("bf16", "cuda") == torch.bfloat16
    gpus(1, bf16=False)
    assert resolve_precision("auto", "cuda:0") == torch.float16
    assert resolve_precision("fp16", "cuda") == torch.float16
    with pytest.raises(DataError, match=r"^precision bf16: this GPU has no bfloat16; use fp16 or auto$"):
        resolve_precision("bf16", "cuda")
    with pytest.raises(DataError, match=r"^precision must be one of auto, fp32, bf16, fp16, onnx-fp32, onnx-int8, openvino-fp32, openvino-bf16, openvino-int8, openvino-int8-bf16, got 'int8'$"):
        resolve_precision("int8", "cpu")


def test_native_bf16_is_what_the_cpu_says(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    assert inference.cpu_has_native_bf16() is False
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert inference.cpu_has_native_bf16() is True
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    assert inference.cpu_has_native_bf16() is True


def test_set_precision_and_the_autocast_it_gives(tiny_model):
    assert set_precision(tiny_model, "fp32") == torch.float32
    assert (tiny_model.compute_dtype, tiny_model.precision_choice) == (torch.float32, "fp32")
    assert isinstance(autocast(tiny_model), contextlib.nullcontext)
    assert set_precision(tiny_model, "bf16") == torch.bfloat16
    assert (tiny_model.compute_dtype, tiny_model.precision_choice) == (torch.bfloat16, "bf16")
    ctx = autocast(tiny_model)
    assert isinstance(ctx, torch.autocast) and ctx.fast_dtype == torch.bfloat16 and ctx.device == "cpu"
    with ctx:
        out = tiny_model(torch.zeros(1, tiny_model.num_frames, 3, 32, 32))
    assert out.scale_logits.dtype == torch.bfloat16
    tiny_model.to(torch.bfloat16)  # weights already in the compute dtype: no autocast on top
    assert isinstance(autocast(tiny_model), contextlib.nullcontext)
    del tiny_model.compute_dtype
    assert isinstance(autocast(tiny_model), contextlib.nullcontext)
    assert [precision_name(d) for d in (torch.float32, torch.bfloat16, torch.float16)] == ["fp32", "bf16", "fp16"]
    assert precision_name(torch.float64) == "torch.float64"


def _clips(model, views=(1, 3, 2), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (v, model.num_frames, 40, 56, 3), dtype=np.uint8) for v in views]


def test_probabilities_are_the_softmax_of_the_logits_per_clip(tiny_model):
    clips = _clips(tiny_model)
    ps, pm = predict_probs(tiny_model, clips, batch_size=4)
    assert ps.shape == (3, 5) and pm.shape == (3, 4)
    np.testing.assert_allclose(ps.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(pm.sum(1), 1.0, atol=1e-5)
    cfg = tiny_model.preprocess_config
    with torch.no_grad():
        for i, clip in enumerate(clips):
            out = tiny_model(torch.stack([preprocess(v, cfg) for v in clip]))
            np.testing.assert_allclose(ps[i], out.scale_logits.softmax(-1).mean(0).numpy(), atol=1e-5)
            np.testing.assert_allclose(pm[i], out.movement_logits.softmax(-1).mean(0).numpy(), atol=1e-5)


def test_batching_does_not_change_the_probabilities(tiny_model):
    clips = _clips(tiny_model, views=(2, 1, 3, 1))
    first = predict_probs(tiny_model, clips, batch_size=1)
    for batch in (2, 3, 8):
        for a, b in zip(first, predict_probs(tiny_model, clips, batch_size=batch), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)
    # clips one at a time give the same rows
    alone = [predict_probs(tiny_model, [c]) for c in clips]
    np.testing.assert_allclose(first[0], np.concatenate([a[0] for a in alone]), atol=1e-5)


def test_the_preprocessing_given_is_the_one_used(tiny_model):
    clips = _clips(tiny_model)
    crop = PreprocessConfig(image_size=32, resize_mode="center_crop")
    mine = predict_probs(tiny_model, clips, cfg=crop)
    default = predict_probs(tiny_model, clips)
    assert not np.allclose(mine[0], default[0])
    tiny_model.preprocess_config = crop
    np.testing.assert_allclose(predict_probs(tiny_model, clips)[0], mine[0], atol=1e-6)
    tiny_model.preprocess_config = None  # none saved with the model: the model's input size
    np.testing.assert_allclose(predict_probs(tiny_model, clips)[0], default[0], atol=1e-6)


def test_a_model_in_bfloat16_weights_runs_in_bfloat16(tiny_model):
    clips = _clips(tiny_model)
    fp32 = predict_probs(tiny_model, clips)
    tiny_model.to(torch.bfloat16)
    bf16 = predict_probs(tiny_model, clips)
    assert bf16[0].dtype == np.float64 and not np.array_equal(fp32[0], bf16[0])
    np.testing.assert_allclose(fp32[0], bf16[0], atol=0.05)


def test_compile_model_wraps_the_backbone_for_dynamic_batches(tiny_model):
    backbone = tiny_model.vmae
    compiled = compile_model(tiny_model)
    assert compiled is tiny_model and tiny_model.vmae is not backbone
    assert tiny_model.vmae._orig_mod is backbone


def test_defaults_and_the_device_the_model_is_on(monkeypatch, tiny_config):
    from shotscope import ShotScopeModel

    assert resolve_device() == torch.device("cpu")
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision() == torch.bfloat16  # auto, on the CPU
    with torch.device("meta"):
        elsewhere = ShotScopeModel(tiny_config)
    assert set_precision(elsewhere) == torch.float32  # auto on a device that is not a CPU with bf16
    assert elsewhere.precision_choice == "auto"


def test_fp16_runs_under_an_fp16_autocast(tiny_model):
    set_precision(tiny_model, "fp16")
    ctx = autocast(tiny_model)
    assert isinstance(ctx, torch.autocast) and ctx.fast_dtype == torch.float16


def test_apple_gpus_when_there(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("mps") == torch.device("mps")


def test_native_bf16_check_never_fails(monkeypatch):
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported", raising=False)
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported", raising=False)
    assert inference.cpu_has_native_bf16() is False  # an older torch without the checks

    def broken():
        raise RuntimeError("cpuinfo failed")

    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", broken, raising=False)
    assert inference.cpu_has_native_bf16() is False
