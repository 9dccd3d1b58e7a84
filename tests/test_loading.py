"""Finding and loading models, each check with the message a user reads: model folders and hub
ids, configs, label maps, sharded and damaged weights, shapes that do not fit, what a loaded
model carries (precision, dtype, source, preprocessing)."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import VideoMAEConfig

import shotscope
from shotscope import ModelLoadError, PreprocessConfig, ShotScopeConfig, load_model
from shotscope.model.loading import (
    check_config,
    config_from_dict,
    describe,
    is_published_layout,
    read_config_dict,
    resolve_model_dir,
    weight_files,
    weights_digest,
)

from .conftest import TINY
from .test_model import _clip, _write_published_layout


@pytest.fixture
def saved(tiny_model, tmp_path):
    folder = tmp_path / "model"
    tiny_model.save_pretrained(folder)
    return folder


# --- folders and hub ids -----------------------------------------------------------------------

def test_model_folders_and_what_is_not_one(tmp_path, saved):
    assert resolve_model_dir(saved) == saved
    assert resolve_model_dir(str(saved)) == saved
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match=r"empty: not a model directory \(no config.json\)$"):
        resolve_model_dir(tmp_path / "empty")
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match=r"file.bin: is a file, expected a model directory or a hub id$"):
        resolve_model_dir(tmp_path / "file.bin")
    for name in ("./nothing", "/no/such/dir", "~/no-such-model", "a/b/c", "a\\b"):
        with pytest.raises(ModelLoadError, match=r": no such model directory$"):
            resolve_model_dir(name)


def test_a_hub_id_not_cached_offline_says_how_to_pass_a_folder():
    with pytest.raises(ModelLoadError) as err:
        resolve_model_dir("someone/not-cached", revision="main")
    message = str(err.value)
    assert message.startswith("could not load model 'someone/not-cached': it is not a local directory")
    assert "`hf download someone/not-cached --local-dir DIR`" in message and message.endswith("--model DIR")


# --- configs ---------------------------------------------------------------------------------------

def test_config_files_are_read_or_refused_with_the_reason(tmp_path):
    (tmp_path / "config.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"a": 1}).encode())  # a BOM is fine
    assert read_config_dict(tmp_path) == {"a": 1}
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(ModelLoadError, match=r"config.json: expected a JSON object, got list$"):
        read_config_dict(tmp_path)
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(ModelLoadError, match=r"config.json: cannot read config \("):
        read_config_dict(tmp_path)
    with pytest.raises(ModelLoadError, match=r"nowhere.config.json: cannot read config"):
        read_config_dict(tmp_path / "nowhere")


def test_the_published_layout_is_told_by_its_labels_or_architecture():
    assert is_published_layout({"model_type": "videomae", "scale_label2id": {}})
    assert is_published_layout({"model_type": "videomae", "scale_id2label": {}})
    assert is_published_layout({"model_type": "videomae", "architectures": ["CustomModel"]})
    assert not is_published_layout({"model_type": "videomae", "architectures": ["VideoMAEForVideoClassification"]})
    assert not is_published_layout({"model_type": "videomae", "architectures": None})
    assert not is_published_layout({"model_type": "shotscope", "scale_label2id": {}})


def test_config_from_dict_drops_what_is_not_ours_and_keeps_overrides():
    cfg = config_from_dict({**TINY, "architectures": ["CustomModel"], "model_type": "videomae",
                            "transformers_version": "4.0", "auto_map": {}, "model_name": "x",
                            "id2label": {"0": "abseiling"}, "label2id": {"abseiling": 0}, "num_labels": 400},
                           hidden_size=64, intermediate_size=128)
    assert isinstance(cfg, ShotScopeConfig)
    assert (cfg.hidden_size, cfg.intermediate_size, cfg.num_frames) == (64, 128, TINY["num_frames"])
    assert cfg.num_labels == 2 and "abseiling" not in cfg.id2label.values()
    assert cfg.scale_labels == list(shotscope.SCALE_LABELS)


def test_check_config_names_every_problem():
    good = ShotScopeConfig(**TINY)
    assert check_config(good) == []
    bad = ShotScopeConfig(**TINY)
    bad.scale_id2label = {0: "A", 2: "B"}
    bad.movement_id2label = {0: "X", 1: "X"}
    bad.hidden_size = 0
    object.__setattr__(bad, "num_frames", True)  # past the config's own type checks (as from an old file)
    object.__setattr__(bad, "patch_size", 2.0)
    problems = check_config(bad)
    assert problems == ["scale_id2label: ids must be 0..n-1, got [0, 2]",
                        "movement_id2label: label names repeat (['X', 'X'])",
                        "hidden_size: expected a whole number >= 1, got 0",
                        "num_frames: expected a whole number >= 1, got True",
                        "patch_size: expected a whole number >= 1, got 2.0"]
    empty = ShotScopeConfig(**TINY)
    empty.movement_id2label = {}
    assert check_config(empty) == ["movement_id2label: ids must be 0..n-1, got []"]
    sizes = ShotScopeConfig(**TINY)
    sizes.image_size = 0
    assert check_config(sizes) == ["image_size: expected a whole number >= 1, got 0"]
    sizes.image_size = [40, 40]
    sizes.num_attention_heads, sizes.num_frames = 3, 5
    assert check_config(sizes) == ["hidden_size 32 is not a multiple of num_attention_heads 3",
                                   "num_frames 5 is not a multiple of tubelet_size 2",
                                   "image_size 40 is not a multiple of patch_size 16"]
    object.__setattr__(sizes, "image_size", "32")
    assert check_config(sizes) == ["image_size: expected a whole number >= 1, got '32'"]


# --- weights ---------------------------------------------------------------------------------------

def _shard(folder):
    """Split a folder's model.safetensors into two shards and an index, as transformers does."""
    state = load_file(str(folder / "model.safetensors"))
    keys = sorted(state)
    half = len(keys) // 2
    parts = {"model-00001-of-00002.safetensors": keys[:half], "model-00002-of-00002.safetensors": keys[half:]}
    for name, names in parts.items():
        save_file({k: state[k] for k in names}, str(folder / name))
    (folder / "model.safetensors").unlink()
    index = {"metadata": {}, "weight_map": {k: name for name, names in parts.items() for k in names}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    return list(parts)


def test_sharded_weights_load_whole_and_are_hashed_together(saved, tiny_model):
    single = weights_digest(saved)
    assert single == hashlib.sha256((saved / "model.safetensors").read_bytes()).hexdigest()
    shards = _shard(saved)
    assert weight_files(saved) == [saved / s for s in shards]
    digests = "".join(hashlib.sha256((saved / s).read_bytes()).hexdigest() for s in shards)
    assert weights_digest(saved) == hashlib.sha256(digests.encode()).hexdigest()
    model = load_model(saved, precision="fp32")
    for name, tensor in tiny_model.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name
    (saved / shards[1]).unlink()
    with pytest.raises(ModelLoadError, match=rf"index.json: names weight files that are missing: {shards[1]}$"):
        load_model(saved)
    (saved / "model.safetensors.index.json").write_text('{"weight_map": 3}')
    with pytest.raises(ModelLoadError, match=r"index.json: not a valid safetensors index \("):
        weight_files(saved)


def test_weights_cut_short_or_absent(saved):
    data = (saved / "model.safetensors").read_bytes()
    (saved / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match=r"model.safetensors: cannot read the weights \(cut short or not a "
                                             r"safetensors file: "):
        load_model(saved)
    (saved / "model.safetensors").unlink()
    assert weight_files(saved) == []
    with pytest.raises(ModelLoadError, match=r"model: no weights \(model.safetensors\) found$"):
        load_model(saved)


def test_weights_that_do_not_fit_the_config_are_named(saved):
    state = load_file(str(saved / "model.safetensors"))
    cfg = json.loads((saved / "config.json").read_text())
    cfg["scale_id2label"] = {"0": "A", "1": "B", "2": "C"}
    cfg.pop("scale_label2id", None)
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError) as err:
        load_model(saved)
    assert ": the weights do not fit config.json: scale_cf.bias: weights (5,), config builds (3,) (the weights " \
           "have 5 scale classes, the config's scale_id2label has 3)" in str(err.value)
    assert "scale_cf.weight: weights (5, 32), config builds (3, 32) (the weights" in str(err.value)
    cfg["scale_id2label"] = {str(i): n for i, n in enumerate(shotscope.SCALE_LABELS)}
    (saved / "config.json").write_text(json.dumps(cfg))
    extra = dict(state, **{"head.extra": torch.zeros(2)})
    save_file(extra, str(saved / "model.safetensors"))
    with pytest.raises(ModelLoadError, match=r"weights do not match the model \(missing \[\], unexpected "
                                             r"\['head.extra'\]\)"):
        load_model(saved)
    del state["movement_cf.bias"]
    save_file(state, str(saved / "model.safetensors"))
    with pytest.raises(ModelLoadError, match=r"missing \['movement_cf.bias'\], unexpected \[\]\)"):
        load_model(saved)


def test_models_of_other_kinds_are_refused_with_what_to_do(saved):
    cfg = json.loads((saved / "config.json").read_text())
    (saved / "config.json").write_text(json.dumps({**cfg, "model_type": "bert"}))
    with pytest.raises(ModelLoadError, match=r"config.json: model_type 'bert' is not a shotscope or VideoMAE "
                                             r"multitask model$"):
        load_model(saved)
    (saved / "config.json").write_text(json.dumps(VideoMAEConfig(**TINY).to_dict()))
    with pytest.raises(ModelLoadError, match=r"a plain VideoMAE checkpoint without shot labels; start a new "
                                             r"model from it with ShotScopeModel via shotscope.from_backbone\(\)$"):
        load_model(saved)
    (saved / "config.json").write_text(json.dumps({**cfg, "num_attention_heads": 3}))
    with pytest.raises(ModelLoadError, match=r"config.json: invalid config: hidden_size 32 is not a multiple of "
                                             r"num_attention_heads 3$"):
        load_model(saved)
    (saved / "config.json").write_text(json.dumps({**cfg, "hidden_act": 3}))
    with pytest.raises(ModelLoadError, match=r"config.json: invalid config \("):
        load_model(saved)


# --- what a loaded model carries ------------------------------------------------------------------

def test_a_loaded_model_is_ready_for_inference(saved, tiny_model, monkeypatch):
    from shotscope.devices import precision_name

    monkeypatch.setenv("SHOTSCOPE_CACHE", str(saved.parent / "cache"))
    model = load_model(saved)
    assert not model.training
    record = model.precision_record  # auto: measured, and what runs is what was chosen
    running = model.backend_network.variant if model.backend_network is not None else precision_name(model.compute_dtype)
    assert model.precision_choice == "auto" and record["choice"] == running and record["agrees"][running]
    assert next(model.parameters()).dtype == torch.float32
    assert model.source == str(saved) and model.name_or_path == str(saved) and model.weights_dir == saved
    assert model.preprocess_config == tiny_model.preprocess_config and model.movement_fusion is None
    assert not any(t.is_meta for t in model.state_dict().values())
    fp32 = load_model(saved, precision="fp32", device="cpu")
    assert fp32.compute_dtype == torch.float32
    x = _clip(1)
    for name, weight in tiny_model.state_dict().items():  # the saved weights, exactly
        assert torch.equal(fp32.state_dict()[name], weight), name
    with torch.no_grad():  # the same outputs (attention kernels may differ in the last bits)
        torch.testing.assert_close(fp32(x).scale_logits, tiny_model(x).scale_logits, rtol=1e-5, atol=1e-6)
    half = load_model(saved, dtype=torch.bfloat16, precision="fp32")
    assert next(half.parameters()).dtype == torch.bfloat16


def test_a_model_without_preprocessing_settings_gets_its_input_size(saved):
    (saved / "preprocessor_config.json").unlink()
    model = load_model(saved)
    assert model.preprocess_config == PreprocessConfig(image_size=32)


def test_describe_says_what_info_prints(saved, tiny_model):
    model = load_model(saved)
    info = describe(model)
    assert info == {"source": str(saved), "scale_labels": list(shotscope.SCALE_LABELS),
                    "movement_labels": list(shotscope.MOVEMENT_LABELS), "num_frames": 4, "image_size": 32,
                    "resize_mode": "squash", "hidden_size": 32, "layers": 2,
                    "parameters": sum(p.numel() for p in tiny_model.parameters()), "movement_fusion": False}
    model.preprocess_config = None
    assert describe(model)["resize_mode"] is None


def test_from_backbone_keeps_the_backbone_normalisation(tmp_path):
    from transformers import VideoMAEForVideoClassification

    VideoMAEForVideoClassification(VideoMAEConfig(**TINY, num_labels=3)).save_pretrained(tmp_path)
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "VideoMAEImageProcessor", "do_center_crop": True, "crop_size": {"height": 32,
        "width": 32}, "size": {"shortest_edge": 40}, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25],
        "rescale_factor": 1 / 255, "do_rescale": True, "do_normalize": True, "do_resize": True}))
    model = shotscope.from_backbone(tmp_path, resize_mode="center_crop", num_frames=4)
    pre = model.preprocess_config
    assert (pre.resize_mode, pre.shortest_edge, pre.mean, pre.std) == ("center_crop", 40, (0.5,) * 3, (0.25,) * 3)
    assert model.source == f"backbone {tmp_path}"
    assert shotscope.from_backbone(tmp_path).preprocess_config.resize_mode == "squash"
    (tmp_path / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelLoadError, match=r": cannot load the VideoMAE backbone \("):
        shotscope.from_backbone(tmp_path)


def test_published_layout_loads_from_a_sharded_checkpoint(tmp_path):
    reference = _write_published_layout(tmp_path)
    _shard(tmp_path)
    model = load_model(tmp_path)
    x = _clip(1)
    with torch.no_grad():
        assert torch.allclose(model(x).scale_logits, reference(x)[0], atol=1e-5)


def test_every_missing_shard_is_named(saved):
    shards = _shard(saved)
    for shard in shards:
        (saved / shard).unlink()
    with pytest.raises(ModelLoadError, match=rf"names weight files that are missing: {shards[0]}, {shards[1]}$"):
        weight_files(saved)


def test_a_pickle_only_model_is_hashed_by_its_file(saved):
    state = load_file(str(saved / "model.safetensors"))
    (saved / "model.safetensors").unlink()
    torch.save(state, saved / "pytorch_model.bin")
    assert weights_digest(saved) == hashlib.sha256((saved / "pytorch_model.bin").read_bytes()).hexdigest()


def test_only_the_heads_get_the_class_count_hint(saved):
    cfg = json.loads((saved / "config.json").read_text())
    (saved / "config.json").write_text(json.dumps({**cfg, "hidden_size": 64, "intermediate_size": 64}))
    with pytest.raises(ModelLoadError) as err:
        load_model(saved)
    assert "fc_norm.bias: weights (32,), config builds (64,); " in str(err.value)
    assert "classes" not in str(err.value)
    cfg["movement_id2label"] = {"0": "Static", "1": "Moving"}
    cfg.pop("movement_label2id", None)
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match=r"movement_cf.bias: weights \(4,\), config builds \(2,\) \(the weights "
                                             r"have 4 movement classes, the config's movement_id2label has 2\)"):
        load_model(saved)


def test_a_revision_goes_to_the_hub(monkeypatch):
    import shotscope.model.loading as loading

    asked = []

    def fake(name, revision=None):
        asked.append((name, revision))
        raise ModelLoadError("offline")

    monkeypatch.setattr(loading, "resolve_model_dir", fake)
    with pytest.raises(ModelLoadError):
        load_model("someone/model", revision="v1.2")
    assert asked == [("someone/model", "v1.2")]


def test_the_first_line_of_an_error():
    from shotscope.model.loading import _first_line

    assert _first_line(ValueError("  first\nsecond\n")) == "first"
    assert _first_line(ValueError("")) == "ValueError"
    assert _first_line(KeyError()) == "KeyError"


def test_from_backbone_takes_the_overrides_and_the_backbone_rescale(tmp_path):
    from transformers import VideoMAEForVideoClassification

    VideoMAEForVideoClassification(VideoMAEConfig(**TINY, num_labels=3)).save_pretrained(tmp_path)
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({
        "do_center_crop": True, "crop_size": {"height": 48, "width": 48}, "size": {"shortest_edge": 56},
        "rescale_factor": 1 / 127.5, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}))
    model = shotscope.from_backbone(tmp_path, num_frames=8, movement_loss_weight=2.0)
    assert (model.config.num_frames, model.config.movement_loss_weight) == (8, 2.0)
    pre = model.preprocess_config
    assert (pre.image_size, pre.resize_mode, pre.rescale_factor, pre.shortest_edge) == (32, "squash", 1 / 127.5, 56)
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({"do_center_crop": False}))
    assert shotscope.from_backbone(tmp_path).preprocess_config == PreprocessConfig(image_size=32, mean=(0.5,) * 3,
                                                                                    std=(0.5,) * 3)
    # sizes the backbone's weights fix cannot be overridden: said before anything loads, naming each
    same = shotscope.from_backbone(tmp_path, hidden_size=TINY["hidden_size"], image_size=64)
    assert (same.config.hidden_size, same.image_size) == (TINY["hidden_size"], 64)
    with pytest.raises(ModelLoadError, match=rf"^{re.escape(str(tmp_path))}: the backbone's weights fix its shape; "
                       rf"drop the overrides hidden_size=64 \(the backbone has 32\), patch_size=8 \(the backbone "
                       rf"has 16\)$"):
        shotscope.from_backbone(tmp_path, hidden_size=64, patch_size=8, num_frames=8)


def test_kinetics_label_maps_are_dropped_and_small_sizes_are_fine():
    cfg = config_from_dict({**TINY, "label2id": {"abseiling": 0}, "id2label": {"0": "abseiling"}})
    assert "abseiling" not in cfg.label2id and "abseiling" not in cfg.id2label.values()
    one = ShotScopeConfig(**{**TINY, "num_hidden_layers": 1, "tubelet_size": 1, "num_frames": 1})
    assert check_config(one) == []
    pixel = ShotScopeConfig(**{**TINY, "image_size": 1, "patch_size": 1})
    assert check_config(pixel) == []
    sized = ShotScopeConfig(**TINY)
    sized.image_size = [32, 40]  # (height, width): the first is the side checked
    assert check_config(sized) == []


def test_config_problems_are_listed_together_and_cut_to_a_line(saved):
    cfg = json.loads((saved / "config.json").read_text())
    (saved / "config.json").write_text(json.dumps({**cfg, "num_attention_heads": 3, "num_frames": 5}))
    with pytest.raises(ModelLoadError, match=r"invalid config: hidden_size 32 is not a multiple of num_attention_heads "
                                             r"3; num_frames 5 is not a multiple of tubelet_size 2$"):
        load_model(saved)
    (saved / "config.json").write_text(json.dumps({**cfg, "hidden_act": 3}))
    with pytest.raises(ModelLoadError) as err:
        load_model(saved)
    assert str(err.value).endswith("config.json: invalid config (Validation error for field 'hidden_act':)")


def test_a_model_folder_brings_its_preprocessing_at_the_models_size_and_its_combiner(saved, tiny_model):
    from shotscope.sources.fusion import MovementFusion

    (saved / "preprocessor_config.json").write_text(json.dumps({"do_center_crop": False}))
    assert load_model(saved).preprocess_config.image_size == 32  # no size in the file: the model's
    cfg = json.loads((saved / "config.json").read_text())
    (saved / "config.json").write_text(json.dumps({**cfg, "image_size": [32, 32]}))
    assert load_model(saved).preprocess_config.image_size == 32
    (saved / "config.json").write_text(json.dumps(cfg))
    rng = np.random.default_rng(0)
    fusion = MovementFusion(rng.normal(size=(4, 15)), rng.normal(size=4), rng.normal(size=15), np.ones(15))
    fusion.save(saved)
    loaded = load_model(saved).movement_fusion
    assert loaded is not None
    np.testing.assert_allclose(loaded.coef, fusion.coef)


def test_long_lists_of_problems_are_cut_short(saved):
    state = load_file(str(saved / "model.safetensors"))
    extra = dict(state, **{f"extra.{i}": torch.zeros(1) for i in range(8)})
    save_file(extra, str(saved / "model.safetensors"))
    with pytest.raises(ModelLoadError) as err:
        load_model(saved)
    assert str(err.value).count("'extra.") == 5
    cfg = json.loads((saved / "config.json").read_text())
    (saved / "config.json").write_text(json.dumps({**cfg, "hidden_size": 64, "intermediate_size": 48}))
    save_file(state, str(saved / "model.safetensors"))
    with pytest.raises(ModelLoadError) as err:
        load_model(saved)
    assert str(err.value).count("config builds") == 3  # the first three of many


def test_where_a_model_came_from_is_said_as_asked(saved):
    assert load_model(saved).source == str(saved)
    asked = str(saved) + "/"
    assert load_model(asked).source == f"{asked} ({saved})"


def test_the_hub_is_asked_for_the_model_files_and_its_cache_used_when_unreachable(tiny_model, tmp_path, monkeypatch):
    import huggingface_hub

    from shotscope.model.loading import _HUB_FILES

    from .test_model import _hub_cache

    cache = _hub_cache(tmp_path / "cache", tiny_model)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    real, calls = huggingface_hub.snapshot_download, []

    def hub(repo_id, **kw):  # a network that fails: only the cache answers
        calls.append((repo_id, kw))
        if not kw.get("local_files_only"):
            raise ConnectionError("hub unreachable")
        return real(repo_id, **kw)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", hub)
    folder = resolve_model_dir("someone/tiny", revision="v1")
    assert folder.parent.name == "snapshots" and folder.name == "b" * 40  # v1's snapshot
    assert calls == [("someone/tiny", {"revision": "v1", "allow_patterns": _HUB_FILES}),
                     ("someone/tiny", {"revision": "v1", "allow_patterns": _HUB_FILES, "local_files_only": True})]
    with pytest.raises(ModelLoadError) as err:
        resolve_model_dir("someone/elsewhere")
    assert "(ConnectionError: hub unreachable)" in str(err.value)
    calls.clear()
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo_id, **kw: calls.append(kw) or str(folder))
    assert resolve_model_dir("someone/tiny") == folder and calls == [{"revision": None, "allow_patterns": _HUB_FILES}]
    with pytest.raises(ModelLoadError, match=r"^/nope: no such model directory$"):
        resolve_model_dir("/nope")


def test_many_missing_weights_are_cut_to_five(saved):
    state = load_file(str(saved / "model.safetensors"))
    gone = sorted(k for k in state if k.startswith("vmae.encoder.layer.0."))
    assert len(gone) > 5
    save_file({k: v for k, v in state.items() if k not in gone}, str(saved / "model.safetensors"))
    with pytest.raises(ModelLoadError) as err:
        load_model(saved)
    listed = str(err.value).split("(missing [", 1)[1].split("]", 1)[0]
    assert listed.count("'vmae.encoder.layer.0.") == 5
