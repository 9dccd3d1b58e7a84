"""Precision chosen by measuring: the fastest variant whose answers agree with float32's, measured
once per machine and model shape and then read from the cache; a forced precision is kept; the
choice travels into what analyze records."""

from __future__ import annotations

import json

import pytest
import torch

from shotscope.model import probe
from shotscope.model.inference import set_precision


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOTSCOPE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / probe.CACHE_FILE


def fake_timing(monkeypatch, seconds: dict[str, float]):
    """Each variant takes the given seconds; calls are counted."""
    calls = []

    def timed(fn, repeats):
        calls.append(1)
        return seconds[list(seconds)[len(calls) - 1]]

    monkeypatch.setattr(probe, "_timed", timed)
    monkeypatch.setattr(probe, "variants", lambda device: list(seconds))  # these alone, whatever is installed
    return calls


@pytest.mark.parametrize(("seconds", "chosen"), [({"fp32": 1.0, "bf16": 0.4}, "bf16"),  # an AMX CPU
                                                  ({"fp32": 1.0, "bf16": 1.6}, "fp32")])  # AVX512-BF16 without AMX
def test_auto_takes_the_fastest_variant_measured(tiny_model, cache, monkeypatch, seconds, chosen):
    fake_timing(monkeypatch, seconds)
    dtype = set_precision(tiny_model, "auto")
    assert dtype == {"fp32": torch.float32, "bf16": torch.bfloat16}[chosen]
    assert tiny_model.precision_record["choice"] == chosen and tiny_model.precision_record["cached"] is False
    assert tiny_model.precision_choice == "auto"


def test_the_choice_is_measured_once_then_read_from_the_cache(tiny_model, cache, monkeypatch):
    calls = fake_timing(monkeypatch, {"fp32": 1.0, "bf16": 0.5})
    set_precision(tiny_model, "auto")
    measured = len(calls)
    assert measured == 2 and cache.is_file()
    assert set_precision(tiny_model, "auto") == torch.bfloat16
    assert len(calls) == measured and tiny_model.precision_record["cached"] is True  # nothing measured again
    record = next(iter(json.loads(cache.read_text()).values()))
    assert record["choice"] == "bf16" and set(record["seconds"]) == {"fp32", "bf16"}


def test_a_variant_whose_answers_differ_is_not_chosen(tiny_model, cache, monkeypatch):
    fake_timing(monkeypatch, {"fp32": 1.0, "bf16": 0.1})
    real = tiny_model.forward

    def forward(x, *a, **k):  # under bf16 autocast the answers change: a build that computes wrong
        out = real(x, *a, **k)
        if torch.is_autocast_cpu_enabled():
            out.scale_logits = out.scale_logits.flip(-1) * 50
        return out

    monkeypatch.setattr(tiny_model, "forward", forward)
    assert set_precision(tiny_model, "auto") == torch.float32
    assert tiny_model.precision_record["agrees"] == {"fp32": True, "bf16": False}


def test_a_forced_precision_measures_nothing(tiny_model, cache, monkeypatch):
    calls = fake_timing(monkeypatch, {"fp32": 1.0, "bf16": 0.5})
    assert set_precision(tiny_model, "fp32") == torch.float32 and set_precision(tiny_model, "bf16") == torch.bfloat16
    assert calls == [] and not cache.exists() and tiny_model.precision_record is None


def test_another_shape_or_library_version_is_measured_anew(tiny_model, tiny_config, monkeypatch):
    device = torch.device("cpu")
    key = probe.cache_key(tiny_model, device)
    with torch.no_grad():
        tiny_model.movement_cf.bias += 1e-3  # another fine-tune of the same shape
    assert probe.cache_key(tiny_model, device) != key
    key = probe.cache_key(tiny_model, device)
    monkeypatch.setattr(torch, "__version__", "0.0.0")
    assert probe.cache_key(tiny_model, device) != key


def test_measuring_for_real_agrees_and_chooses_a_variant_it_timed(tiny_model, cache):
    record = probe.choose_precision(tiny_model)
    assert record["choice"] in record["seconds"] and record["agrees"]["fp32"] is True
    assert all(v > 0 for v in record["seconds"].values())


def test_analyze_records_the_precision_and_why(tiny_model, cache, tmp_path, monkeypatch):
    import shotscope
    from shotscope.data.synthetic import make_film

    fake_timing(monkeypatch, {"fp32": 1.0, "bf16": 2.0})
    set_precision(tiny_model, "auto")
    film = tmp_path / "film.mp4"
    make_film(film, [("LS", "Static", 20)], width=64, height=48)
    meta = shotscope.analyze(film, tiny_model, progress=False).metadata["model"]["precision"]
    assert meta["compute"] == "fp32" and meta["asked"] == "auto" and meta["measured"]["seconds"]["bf16"] == 2.0


@pytest.mark.parametrize(("machine", "avx512_bf16", "amx", "offered"),
                         [("x86_64", False, False, False),  # AVX2 only: bf16 is converted, 5x slower
                          ("x86_64", True, False, True), ("x86_64", False, True, True),
                          ("aarch64", False, False, True)])  # other CPUs: measured
def test_bf16_is_measured_only_where_the_cpu_has_it(monkeypatch, machine, avx512_bf16, amx, offered):
    monkeypatch.setattr(probe.platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    names = probe.variants(torch.device("cpu"))
    assert names[0] == "fp32" and ("bf16" in names) is offered
