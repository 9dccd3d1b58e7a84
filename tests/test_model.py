"""The two-head model, its config, checkpoints (ours and the published layout) and loading."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file
from torch import nn
from transformers import AutoConfig, AutoModel, VideoMAEConfig, VideoMAEModel

import shotscope
from shotscope import ModelLoadError, PreprocessConfig, ShotScopeConfig, ShotScopeModel, load_model

from .conftest import TINY


def _clip(batch=2, cfg=TINY, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, cfg["num_frames"], 3, cfg["image_size"], cfg["image_size"], generator=g)


def test_forward_backward_shapes(tiny_model):
    tiny_model.train()
    x = _clip(3)
    out = tiny_model(x, scale_labels=torch.tensor([0, 4, 2]), movement_labels=torch.tensor([3, 0, 1]))
    assert out.scale_logits.shape == (3, 5)
    assert out.movement_logits.shape == (3, 4)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    out.loss.backward()
    assert tiny_model.scale_cf.weight.grad.abs().sum() > 0
    assert tiny_model.vmae.embeddings.patch_embeddings.projection.weight.grad.abs().sum() > 0


def test_loss_with_one_task_missing_trains_the_other(tiny_model):
    tiny_model.train()
    x = _clip(2)
    missing = torch.tensor([-100, -100])
    out = tiny_model(x, scale_labels=missing, movement_labels=torch.tensor([1, 2]))
    assert torch.allclose(out.loss, out.movement_loss)
    assert out.scale_loss.item() == 0.0
    out.loss.backward()
    assert tiny_model.scale_cf.weight.grad.abs().sum() == 0
    assert tiny_model.movement_cf.weight.grad.abs().sum() > 0
    # partly missing: only the labelled row counts
    tiny_model.zero_grad()
    out = tiny_model(x, scale_labels=torch.tensor([-100, 3]))
    ref = nn.functional.cross_entropy(out.scale_logits[1:], torch.tensor([3]))
    assert torch.allclose(out.loss, ref)


def test_loss_weights_and_class_weights(tiny_config):
    torch.manual_seed(0)
    cfg = ShotScopeConfig(**TINY, scale_loss_weight=0.5, movement_loss_weight=2.0,
                          movement_class_weights=[1.0, 1.0, 3.0, 3.0])
    model = ShotScopeModel(cfg)
    x = _clip(2)
    s, m = torch.tensor([0, 1]), torch.tensor([2, 0])
    out = model(x, scale_labels=s, movement_labels=m)
    w = torch.tensor([1.0, 1.0, 3.0, 3.0])
    expect = 0.5 * nn.functional.cross_entropy(out.scale_logits, s) + 2.0 * nn.functional.cross_entropy(
        out.movement_logits, m, weight=w)
    assert torch.allclose(out.loss, expect, atol=1e-6)


def test_first_token_pooling_without_mean_pooling():
    cfg = ShotScopeConfig(**TINY, use_mean_pooling=False)
    model = ShotScopeModel(cfg).eval()
    assert model.fc_norm is None
    x = _clip(1)
    with torch.no_grad():
        tokens = model.vmae(x).last_hidden_state
        out = model(x)
    assert torch.allclose(out.scale_logits, model.scale_cf(tokens[:, 0]))


def test_save_load_identical_logits_and_preprocessing(tiny_model, tmp_path):
    tiny_model.preprocess_config = PreprocessConfig(image_size=32, resize_mode="letterbox", mean=(0.1, 0.2, 0.3))
    tiny_model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    assert not (tmp_path / "pytorch_model.bin").exists()
    assert "ECS, CS, MS, FS, LS" in (tmp_path / "README.md").read_text()  # a model card
    loaded = load_model(tmp_path)
    x = _clip(2)
    with torch.no_grad():
        a, b = tiny_model(x), loaded(x)
    assert torch.equal(a.scale_logits, b.scale_logits)
    assert torch.equal(a.movement_logits, b.movement_logits)
    assert loaded.preprocess_config == tiny_model.preprocess_config
    assert loaded.config.scale_labels == list(shotscope.SCALE_LABELS)
    assert loaded.config.movement_id2label == {0: "Static", 1: "Motion", 2: "Pull", 3: "Push"}


def test_auto_classes_without_remote_code(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    cfg = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(cfg, ShotScopeConfig)
    model = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(model, ShotScopeModel)
    x = _clip(1)
    with torch.no_grad():
        assert torch.allclose(model(x).scale_logits, tiny_model(x).scale_logits, atol=1e-6)


def _write_published_layout(directory, seed=1):
    """A checkpoint laid out as the published multitask model, with a tiny config."""
    torch.manual_seed(seed)
    vcfg = VideoMAEConfig(**TINY)
    vmae = VideoMAEModel(vcfg).eval()
    fc_norm, scale_cf, movement_cf = nn.LayerNorm(32), nn.Linear(32, 5), nn.Linear(32, 4)
    for layer in (fc_norm, scale_cf, movement_cf):
        for p in layer.parameters():
            nn.init.normal_(p, std=0.5)
    state = {f"vmae.{k}": v for k, v in vmae.state_dict().items()}
    state.update({f"fc_norm.{k}": v for k, v in fc_norm.state_dict().items()})
    state.update({f"scale_cf.{k}": v for k, v in scale_cf.state_dict().items()})
    state.update({f"movement_cf.{k}": v for k, v in movement_cf.state_dict().items()})
    save_file({k: v.contiguous() for k, v in state.items()}, str(directory / "model.safetensors"))
    cfg = vcfg.to_dict()
    cfg.update(
        architectures=["CustomModel"],
        model_type="videomae",
        scale_label2id={"ECS": 0, "CS": 1, "MS": 2, "FS": 3, "LS": 4},
        scale_id2label={"0": "ECS", "1": "CS", "2": "MS", "3": "FS", "4": "LS"},
        movement_label2id={"Static": 0, "Motion": 1, "Pull": 2, "Push": 3},
        movement_id2label={"0": "Static", "1": "Motion", "2": "Pull", "3": "Push"},
    )
    (directory / "config.json").write_text(json.dumps(cfg))
    (directory / "preprocessor_config.json").write_text(json.dumps({
        "do_center_crop": False, "do_normalize": True, "do_rescale": True, "do_resize": True,
        "image_mean": [0.485, 0.456, 0.406], "image_processor_type": "VideoMAEImageProcessor",
        "image_std": [0.229, 0.224, 0.225], "resample": 2, "rescale_factor": 1 / 255,
        "size": {"shortest_edge": 32},
    }))

    def reference(x):
        with torch.no_grad():
            pooled = fc_norm(vmae(x).last_hidden_state.mean(1))
            return scale_cf(pooled), movement_cf(pooled)

    return reference


def test_published_layout_loads_with_same_logits(tmp_path):
    reference = _write_published_layout(tmp_path)
    model = load_model(tmp_path)
    x = _clip(2)
    with torch.no_grad():
        out = model(x)
    ref_scale, ref_movement = reference(x)
    assert torch.allclose(out.scale_logits, ref_scale, atol=1e-5)
    assert torch.allclose(out.movement_logits, ref_movement, atol=1e-5)
    assert model.config.movement_labels == ["Static", "Motion", "Pull", "Push"]
    pre = model.preprocess_config
    assert pre.resize_mode == "squash" and pre.image_size == 32
    assert pre.mean == (0.485, 0.456, 0.406)


def test_published_layout_resaved_is_a_shotscope_checkpoint(tmp_path):
    (tmp_path / "pub").mkdir()
    _write_published_layout(tmp_path / "pub")
    model = load_model(tmp_path / "pub")
    model.save_pretrained(tmp_path / "ours")
    saved = json.loads((tmp_path / "ours" / "config.json").read_text())
    assert saved["model_type"] == "shotscope"
    again = load_model(tmp_path / "ours")
    x = _clip(1)
    with torch.no_grad():
        assert torch.equal(again(x).scale_logits, model(x).scale_logits)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_checkpoint_is_never_fully_unpickled(tmp_path):
    _write_published_layout(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    marker = tmp_path / "pwned"
    with open(tmp_path / "pytorch_model.bin", "wb") as fh:
        pickle.dump({"vmae.x": _Exploit(str(marker))}, fh, protocol=2)
    with pytest.raises(ModelLoadError, match="pytorch_model.bin"):
        load_model(tmp_path)
    assert not marker.exists()


def test_plain_tensor_pickle_checkpoint_loads(tmp_path):
    reference = _write_published_layout(tmp_path)
    from safetensors.torch import load_file

    state = load_file(str(tmp_path / "model.safetensors"))
    (tmp_path / "model.safetensors").unlink()
    torch.save(state, tmp_path / "pytorch_model.bin")
    model = load_model(tmp_path)
    x = _clip(1)
    with torch.no_grad():
        assert torch.allclose(model(x).scale_logits, reference(x)[0], atol=1e-5)


def test_hub_id_offline_gives_one_clear_error():
    with pytest.raises(ModelLoadError) as err:
        load_model("someone/not-cached-model")
    msg = str(err.value)
    assert "someone/not-cached-model" in msg and "--model DIR" in msg


def test_missing_local_path_and_bad_dirs(tmp_path):
    with pytest.raises(ModelLoadError, match="no such model directory"):
        load_model(str(tmp_path / "nope" / "model"))
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="cannot read config"):
        load_model(tmp_path)


def test_from_backbone_copies_pretrained_weights(tmp_path):
    from transformers import VideoMAEForVideoClassification

    torch.manual_seed(3)
    kinetics = VideoMAEForVideoClassification(VideoMAEConfig(**TINY, num_labels=7))
    kinetics.save_pretrained(tmp_path)
    model = shotscope.from_backbone(tmp_path)
    for name, tensor in kinetics.videomae.state_dict().items():
        assert torch.equal(model.vmae.state_dict()[name], tensor), name
    assert model.config.scale_labels == list(shotscope.SCALE_LABELS)
    assert model.preprocess_config.resize_mode == "squash"


def test_cli_info(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    out = subprocess.run([sys.executable, "-m", "shotscope", "info", str(tmp_path), "--json"],
                         capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    assert info["scale_labels"] == ["ECS", "CS", "MS", "FS", "LS"]
    assert info["num_frames"] == 4 and info["image_size"] == 32
    assert info["parameters"] == sum(p.numel() for p in tiny_model.parameters())
    bad = subprocess.run([sys.executable, "-m", "shotscope", "info", "nobody/nothing"], capture_output=True, text=True)
    assert bad.returncode == 2 and "nobody/nothing" in bad.stderr


def _hub_cache(root, tiny_model, repo="someone/tiny"):
    """A Hugging Face cache holding ``repo`` at two revisions (main: letterbox and a movement
    combiner; v1: center crop, no combiner), as a download would have left it."""
    import numpy as np

    from shotscope.sources.fusion import MovementFusion

    folder = root / f"models--{repo.replace('/', '--')}"
    for ref, commit, pre, fusion in (("main", "a" * 40, PreprocessConfig(image_size=32, resize_mode="letterbox"), True),
                                     ("v1", "b" * 40, PreprocessConfig(image_size=32, resize_mode="center_crop",
                                                                        shortest_edge=40), False)):
        snapshot = folder / "snapshots" / commit
        tiny_model.preprocess_config = pre
        rng = np.random.default_rng(len(ref))
        tiny_model.movement_fusion = MovementFusion(rng.normal(size=(4, 15)), rng.normal(size=4),
                                                    rng.normal(size=15), np.ones(15)) if fusion else None
        tiny_model.save_pretrained(snapshot)
        (folder / "refs").mkdir(parents=True, exist_ok=True)
        (folder / "refs" / ref).write_text(commit)
    return root


def test_a_hub_model_from_the_cache_brings_its_extras_from_the_same_revision(tiny_model, tmp_path):
    cache = _hub_cache(tmp_path / "cache", tiny_model)
    main = ShotScopeModel.from_pretrained("someone/tiny", cache_dir=cache)
    assert main.preprocess_config.resize_mode == "letterbox" and main.movement_fusion is not None
    assert main.source == "someone/tiny"
    v1 = AutoModel.from_pretrained("someone/tiny", cache_dir=cache, revision="v1")
    assert (v1.preprocess_config.resize_mode, v1.preprocess_config.shortest_edge) == ("center_crop", 40)
    assert v1.movement_fusion is None
    # not in this cache: the model's own defaults, no error from the extras
    with pytest.raises(OSError):
        ShotScopeModel.from_pretrained("someone/other", cache_dir=cache)


def test_load_model_finds_a_hub_id_in_the_cache_offline(tiny_model, tmp_path, monkeypatch):
    import huggingface_hub

    cache = _hub_cache(tmp_path / "cache", tiny_model)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    model = load_model("someone/tiny")
    assert model.preprocess_config.resize_mode == "letterbox" and model.movement_fusion is not None
    assert model.source.startswith("someone/tiny (") and "snapshots" in model.source
    assert load_model("someone/tiny", revision="v1").preprocess_config.resize_mode == "center_crop"


def test_class_weighted_loss_in_bfloat16_weights(tiny_config):
    """Class weights take the logits' dtype: a model kept in bfloat16 trains with them."""
    torch.manual_seed(0)
    cfg = ShotScopeConfig(**TINY, scale_class_weights=[1.0, 2.0, 1.0, 1.0, 3.0], movement_class_weights=[1, 1, 2, 2])
    model = ShotScopeModel(cfg).to(torch.bfloat16)
    out = model(_clip(2).to(torch.bfloat16), scale_labels=torch.tensor([4, 1]), movement_labels=torch.tensor([2, 0]))
    assert out.loss.dtype == torch.bfloat16 and torch.isfinite(out.loss)
    expected = nn.functional.cross_entropy(out.scale_logits.float(), torch.tensor([4, 1]),
                                           weight=torch.tensor([1.0, 2.0, 1.0, 1.0, 3.0]))
    assert out.scale_loss.float().item() == pytest.approx(expected.item(), rel=0.02)


def test_label_maps_from_either_side():
    only_names = ShotScopeConfig(**TINY, scale_label2id={"wide": 0, "close": 1}, movement_label2id={"still": 0, "moving": 1})
    assert only_names.scale_labels == ["wide", "close"] and only_names.movement_labels == ["still", "moving"]
    assert only_names.scale_id2label == {0: "wide", 1: "close"}
    only_ids = ShotScopeConfig(**TINY, scale_id2label={"0": "A", "1": "B", "2": "C"})  # as JSON leaves them
    assert only_ids.scale_id2label == {0: "A", 1: "B", 2: "C"} and only_ids.scale_label2id == {"A": 0, "B": 1, "C": 2}
    assert only_ids.movement_label2id == {"Static": 0, "Motion": 1, "Pull": 2, "Push": 3}
    model = ShotScopeModel(only_names)
    assert (model.scale_cf.out_features, model.movement_cf.out_features) == (2, 2)


def test_outputs_without_labels_have_no_loss_and_carry_the_pooled_features(tiny_model):
    x = _clip(2)
    with torch.no_grad():
        out = tiny_model(x)
        pooled = tiny_model.pool(x)
    assert out.loss is None and out.scale_loss is None and out.movement_loss is None
    assert out.pooled.shape == (2, 32) and torch.equal(out.pooled, pooled)
    assert torch.allclose(out.scale_logits, tiny_model.scale_cf(pooled))


def test_a_fresh_model_saves_what_it_has_and_passes_options_on(tiny_config, tmp_path):
    model = ShotScopeModel(tiny_config)
    assert model.preprocess_config is None and model.movement_fusion is None and model.source is None
    model.save_pretrained(tmp_path / "bare")
    assert (tmp_path / "bare" / "model.safetensors").is_file()
    assert not (tmp_path / "bare" / "preprocessor_config.json").exists()
    assert not (tmp_path / "bare" / "movement_fusion.json").exists()
    model.save_pretrained(tmp_path / "shards", max_shard_size="20KB")  # transformers' options reach it
    assert (tmp_path / "shards" / "model.safetensors.index.json").is_file()
    model.save_pretrained(tmp_path / "other", False)  # is_main_process=False: another process writes the weights
    assert not (tmp_path / "other" / "model.safetensors").exists()


def test_a_hub_model_without_extras_or_sizes_gets_the_models_own(tiny_model, tmp_path):
    cache = _hub_cache(tmp_path / "cache", tiny_model)
    folder = cache / "models--someone--tiny"
    for ref, commit, pre in (("bare", "c" * 40, None), ("nosize", "d" * 40, {"do_center_crop": False})):
        snapshot = folder / "snapshots" / commit
        tiny_model.preprocess_config, tiny_model.movement_fusion = None, None
        tiny_model.save_pretrained(snapshot)
        if pre is not None:
            (snapshot / "preprocessor_config.json").write_text(json.dumps(pre))
        (folder / "refs" / ref).write_text(commit)
    bare = ShotScopeModel.from_pretrained("someone/tiny", cache_dir=cache, revision="bare")
    assert bare.preprocess_config == PreprocessConfig(image_size=32) and bare.movement_fusion is None
    nosize = ShotScopeModel.from_pretrained("someone/tiny", cache_dir=cache, revision="nosize")
    assert (nosize.preprocess_config.image_size, nosize.preprocess_config.resize_mode) == (32, "squash")


def test_a_pinned_revision_whose_extras_the_hub_said_are_missing_loads_offline(tiny_model, tmp_path):
    """A download records the files a commit lacks (.no_exist); offline, with that commit pinned, the
    extras are known to be absent: the model's own defaults, no error."""
    cache = _hub_cache(tmp_path / "cache", tiny_model)
    folder, commit = cache / "models--someone--tiny", "e" * 40
    tiny_model.preprocess_config, tiny_model.movement_fusion = None, None
    tiny_model.save_pretrained(folder / "snapshots" / commit)
    (folder / ".no_exist" / commit).mkdir(parents=True)
    for name in ("preprocessor_config.json", "movement_fusion.json"):
        (folder / ".no_exist" / commit / name).touch()
    model = ShotScopeModel.from_pretrained("someone/tiny", cache_dir=cache, revision=commit)
    assert model.preprocess_config == PreprocessConfig(image_size=32) and model.movement_fusion is None


def test_a_model_in_a_subfolder_brings_its_extras(tiny_model, tmp_path):
    tiny_model.preprocess_config = PreprocessConfig(image_size=32, resize_mode="letterbox")
    tiny_model.save_pretrained(tmp_path / "repo" / "sub")
    model = ShotScopeModel.from_pretrained(tmp_path / "repo", subfolder="sub")
    assert model.preprocess_config.resize_mode == "letterbox"


def test_scale_class_weights_weigh_the_scale_loss(tiny_config):
    torch.manual_seed(0)
    weights = [1.0, 5.0, 1.0, 1.0, 0.2]
    model = ShotScopeModel(ShotScopeConfig(**TINY, scale_class_weights=weights)).eval()
    labels = torch.tensor([1, 4, 0])
    with torch.no_grad():
        out = model(_clip(3), scale_labels=labels)
    weighted = nn.functional.cross_entropy(out.scale_logits, labels, weight=torch.tensor(weights))
    plain = nn.functional.cross_entropy(out.scale_logits, labels)
    assert torch.allclose(out.scale_loss, weighted) and not torch.allclose(weighted, plain)
    assert torch.allclose(out.loss, weighted)
