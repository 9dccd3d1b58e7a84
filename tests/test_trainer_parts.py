"""The training run's parts, one at a time and fast: splits, class weights, the model a config
builds, metrics, logs (CSV and the lines people read), epochs told to the data, the checkpoint a
run resumes from, and the Trainer's arguments."""

from __future__ import annotations

import csv
import json
import logging
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight

from shotscope import DataError
from shotscope.training.config import load_training_config
from shotscope.training.metrics import flat_metrics, multitask_metrics
from shotscope.training.trainer import (
    TINY_CONFIG,
    CSVLogger,
    EpochSeeds,
    ReadableLog,
    _precision,
    _training_args,
    build_model,
    compute_metrics_fn,
    format_log,
    inverse_frequency,
    last_complete_checkpoint,
    read_split,
)

from .conftest import Terminal
from .faults import read_only_dir


def _state(**kw):
    base = dict(epoch=1.5, global_step=30, max_steps=60, is_world_process_zero=True)
    return SimpleNamespace(**{**base, **kw})


# --- data ----------------------------------------------------------------------------------------

def test_splits_name_what_is_missing(tmp_path):
    with pytest.raises(DataError, match=r"^data.kind: expected manifest or movieshots, got 'folder'$"):
        read_split({"kind": "folder"}, "train")
    with pytest.raises(DataError, match=r"^data.root: the MovieShots folder is required for kind: movieshots$"):
        read_split({"kind": "movieshots", "root": None}, "train")
    with pytest.raises(DataError, match=r"^data.val: a manifest path is required$"):
        read_split({"kind": "manifest", "val": None}, "val")
    empty = tmp_path / "empty.csv"
    empty.write_text("path,start,end,scale,movement\n")
    with pytest.raises(DataError, match=r"^train data: no usable clips \("):
        read_split({"kind": "manifest", "train": str(empty)}, "train")


def test_splits_read_manifests_with_the_multi_movement_alias(tmp_path):
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"")
    manifest = tmp_path / "train.csv"
    manifest.write_text(f"path,start,end,scale,movement\n{clip},0,1,CS,Multi_movement\n{clip},1,2,LS,Push\n")
    records = read_split({"kind": "manifest", "train": str(manifest)}, "train")
    assert [(r.scale_label, r.movement_label) for r in records] == [("CS", "Motion"), ("LS", "Push")]
    records = read_split({"kind": "manifest", "train": str(manifest), "multi_movement_as": "Static"}, "train")
    assert records[0].movement_label == "Static"


def test_splits_read_movieshots_by_split_name_and_alias(movieshots_tree, caplog):
    data = {"kind": "movieshots", "root": str(movieshots_tree), "train_split": "train", "val_split": "val"}
    with caplog.at_level(logging.INFO, logger="shotscope.training.trainer"):
        records = read_split(data, "train")
    assert sorted(r.key for r in records) == ["tt0000001/0001", "tt0000001/0002", "tt0000002/0010"]
    assert {r.key: r.movement_label for r in records}["tt0000001/0002"] == "Motion"  # Multi_movement
    said = [r.getMessage() for r in caplog.records if r.name == "shotscope.training.trainer"]
    assert said == ["train data: 3 clips kept, 1 skipped: tt0000001/0003: clip missing "
                    "(trailer/tt0000001/shot_0003.mp4)"]
    data["multi_movement_as"] = "Static"
    assert {r.key: r.movement_label for r in read_split(data, "train")}["tt0000001/0002"] == "Static"
    with pytest.raises(DataError, match=r"^val data: no usable clips \(0 clips kept, 0 skipped\)$"):
        read_split(data, "val")  # the val split is read by its own name
    with pytest.raises(DataError, match="no split 'dev'"):
        read_split({**data, "val_split": "dev"}, "val")


def test_splits_skip_bad_manifest_lines_only_when_asked(tmp_path):
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"")
    manifest = tmp_path / "train.csv"
    manifest.write_text(f"path,start,end,scale,movement\n{clip},0,1,CS,Push\n{clip},0,1,XL,Push\n")
    with pytest.raises(DataError, match=r"train.csv:3: .*XL"):
        read_split({"kind": "manifest", "train": str(manifest)}, "train")
    records = read_split({"kind": "manifest", "train": str(manifest), "skip_bad": True}, "train")
    assert [(r.scale_label, r.movement_label) for r in records] == [("CS", "Push")]


def test_class_weights_are_scikit_learns_balanced_weights():
    counts = np.array([1, 3, 0, 4])
    labels = np.repeat([0, 1, 3], [1, 3, 4])
    expected = compute_class_weight("balanced", classes=np.array([0, 1, 3]), y=labels)
    weights = inverse_frequency(counts)
    assert weights[2] == 0.0  # an absent class
    np.testing.assert_allclose([weights[0], weights[1], weights[3]], expected)
    assert inverse_frequency(np.array([5, 5])) == [1.0, 1.0]
    assert inverse_frequency(np.array([0, 0])) == [0.0, 0.0]
    assert inverse_frequency(np.array([0, 4, 0])) == [0.0, 1.0, 0.0]  # one class present: weight 1


# --- the model -----------------------------------------------------------------------------------

def test_the_model_a_config_builds(tmp_path, tiny_model):
    cfg = load_training_config(TINY_CONFIG, ["train.scale_loss_weight=0.25", "train.movement_loss_weight=3",
                                             "model.resize_mode=letterbox"])
    model = build_model(cfg)
    assert (model.config.hidden_size, model.config.num_hidden_layers, model.num_frames, model.image_size) == \
        (64, 2, 8, 64)
    assert (model.config.scale_loss_weight, model.config.movement_loss_weight) == (0.25, 3.0)
    assert (model.preprocess_config.resize_mode, model.preprocess_config.image_size) == ("letterbox", 64)
    assert model.source == "random init"
    tiny_model.save_pretrained(tmp_path / "init")
    cfg["model"]["init"] = str(tmp_path / "init")
    again = build_model(cfg)
    assert torch.equal(again.scale_cf.weight, tiny_model.scale_cf.weight)
    assert again.config.scale_loss_weight == 0.25


def test_a_config_builds_the_model_on_a_pretrained_backbone(tmp_path):
    from transformers import VideoMAEConfig, VideoMAEModel

    torch.manual_seed(5)
    backbone = VideoMAEModel(VideoMAEConfig(image_size=32, patch_size=16, num_frames=4, tubelet_size=2,
                                            hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                            intermediate_size=64))
    backbone.save_pretrained(tmp_path / "backbone")
    cfg = load_training_config(TINY_CONFIG, [f"model.backbone={tmp_path / 'backbone'}", "model.config={}",
                                             "model.num_frames=8",
                                             "model.image_size=32", "model.resize_mode=center_crop",
                                             "train.movement_loss_weight=2"])
    model = build_model(cfg)
    assert model.source == f"backbone {tmp_path / 'backbone'}"
    # the config's clip length (the backbone was made for 4 frames) and picture handling
    assert (model.num_frames, model.image_size, model.preprocess_config.resize_mode) == (8, 32, "center_crop")
    for name, weight in backbone.state_dict().items():  # the backbone's weights, not a random init
        assert torch.equal(model.vmae.state_dict()[name], weight), name
    assert model.config.movement_loss_weight == 2.0


def test_metrics_are_the_argmax_of_both_heads():
    model = SimpleNamespace(config=SimpleNamespace(scale_labels=["A", "B", "C"], movement_labels=["X", "Y"]))
    rng = np.random.default_rng(0)
    scale_logits, movement_logits = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    scale_true, movement_true = rng.integers(0, 3, 12), rng.integers(0, 2, 12)
    pred = SimpleNamespace(predictions=(scale_logits, movement_logits), label_ids=(scale_true, movement_true))
    got = compute_metrics_fn(model)(pred)
    assert got == flat_metrics(multitask_metrics(scale_true, scale_logits.argmax(-1), movement_true,
                                                 movement_logits.argmax(-1), ["A", "B", "C"], ["X", "Y"]))
    assert got["scale_accuracy"] == pytest.approx(100 * float((scale_logits.argmax(-1) == scale_true).mean()))


# --- logs ----------------------------------------------------------------------------------------

def test_the_csv_log_has_a_row_per_value(tmp_path):
    logger = CSVLogger(tmp_path / "log.csv")
    logger.on_log(None, _state(epoch=0.5, global_step=10), None, logs={"loss": 1.25, "learning_rate": 0.001})
    logger.on_log(None, _state(epoch=1.0, global_step=20), None, logs={"eval_mean_macro_f1": 40.0})
    logger.on_log(None, _state(is_world_process_zero=False), None, logs={"loss": 9.0})  # other ranks write nothing
    logger.on_log(None, _state(), None, logs={})
    logger.on_log(None, _state(), None, logs=None)
    with open(tmp_path / "log.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["step", "epoch", "key", "value"], ["10", "0.5", "loss", "1.25"],
                    ["10", "0.5", "learning_rate", "0.001"], ["20", "1.0", "eval_mean_macro_f1", "40.0"]]


def test_log_lines_people_read():
    state = _state()
    assert format_log(state, {"loss": 1.23456, "learning_rate": 0.0005, "grad_norm": 2, "epoch": 1.5}) == \
        "epoch 1.50, step 30/60: loss 1.235, lr 0.0005, grad norm 2"
    assert format_log(_state(epoch=None), {"loss": 0.5}) == "epoch 0.00, step 30/60: loss 0.5"
    evaluation = {"eval_scale_accuracy": 61.234, "eval_scale_macro_f1": 40.5, "eval_movement_accuracy": 80.0,
                  "eval_movement_macro_f1": 70.25, "eval_mean_macro_f1": 55.375, "eval_loss": 0.98765}
    assert format_log(state, evaluation) == (
        "evaluation (epoch 1.50, step 30/60): scale accuracy 61.23 macro-F1 40.50 · "
        "movement accuracy 80.00 macro-F1 70.25 · mean macro-F1 55.38 · loss 0.9877")
    assert format_log(state, {"eval_runtime": 1.0}) == "evaluation (epoch 1.50, step 30/60): "
    assert format_log(state, {"train_runtime": 12.345, "train_loss": 0.123456}) == \
        "training finished (epoch 1.50, step 30/60) in 12.3 s; average loss 0.1235"
    assert format_log(state, {"train_runtime": 2.0}) == \
        "training finished (epoch 1.50, step 30/60) in 2.0 s; average loss nan"


def test_readable_log_writes_lines_and_keeps_a_bar(caplog, capsys, monkeypatch):
    shown = ReadableLog(progress=True)
    shown.on_train_begin(None, _state(global_step=5), None)  # a resumed run starts its bar where it is
    assert shown.bar.total == 60 and shown.bar.n == 5 and not shown.bar.disable
    assert (shown.bar.desc, shown.bar.unit, shown.bar.leave) == ("train", "step", False)  # gone when done
    shown.on_step_end(None, _state(global_step=9), None)
    assert shown.bar.n == 9
    shown.on_log(None, _state(), None, logs={"loss": 0.5})  # above the bar
    assert "epoch 1.50, step 30/60: loss 0.5\n" in capsys.readouterr().err
    shown.on_train_end(None, _state(), None)
    assert shown.bar is None
    quiet = ReadableLog(progress=False)
    quiet.on_train_begin(None, _state(global_step=5), None)
    assert quiet.bar.disable
    with caplog.at_level(logging.INFO, logger="shotscope.training.trainer"):
        quiet.on_log(None, _state(), None, logs={"loss": 0.5})  # no bar: the log
        quiet.on_log(None, _state(is_world_process_zero=False), None, logs={"loss": 0.7})
        quiet.on_log(None, _state(), None, logs={})
    assert [r.getMessage() for r in caplog.records] == ["epoch 1.50, step 30/60: loss 0.5"]
    undecided = ReadableLog(progress=None)  # a bar on a terminal only
    undecided.on_train_begin(None, _state(), None)
    assert undecided.bar.disable
    monkeypatch.setattr(sys, "stderr", Terminal())
    undecided.on_train_begin(None, _state(), None)
    assert not undecided.bar.disable
    monkeypatch.undo()
    other = ReadableLog(progress=True)
    other.on_train_begin(None, _state(is_world_process_zero=False), None)  # only the first process shows one
    assert other.bar is None
    other.on_step_end(None, _state(), None)
    other.on_train_end(None, _state(), None)


def test_each_epoch_is_told_to_the_data_and_the_sampler():
    seen: dict[str, list[int]] = {"data": [], "sampler": []}
    trainer = SimpleNamespace(train_dataset=SimpleNamespace(set_epoch=seen["data"].append),
                              balanced_sampler=SimpleNamespace(set_epoch=seen["sampler"].append))
    callback = EpochSeeds(trainer)
    for epoch in (None, 0.0, 0.9999999, 1.0, 2.0000001):
        callback.on_epoch_begin(None, SimpleNamespace(epoch=epoch), None)
    assert seen["data"] == seen["sampler"] == [0, 0, 1, 1, 2]
    EpochSeeds(SimpleNamespace(train_dataset=object(), balanced_sampler=None)).on_epoch_begin(
        None, SimpleNamespace(epoch=1.0), None)  # nothing to tell: no error


# --- resuming ------------------------------------------------------------------------------------

def test_a_run_resumes_from_its_newest_complete_checkpoint(tmp_path, caplog):
    assert last_complete_checkpoint(tmp_path) is None
    for step, complete in ((5, True), (10, True), (20, False), (100, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if complete:
            (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
        elif step == 20:
            (folder / "trainer_state.json").write_text('{"global_')  # cut short by a kill
    (tmp_path / "checkpoint-latest").mkdir()
    (tmp_path / "checkpoint-99").write_text("a file")
    with caplog.at_level(logging.WARNING, logger="shotscope.training.trainer"):
        assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-10")
    assert not (tmp_path / "checkpoint-20").exists() and not (tmp_path / "checkpoint-100").exists()
    assert (tmp_path / "checkpoint-5").is_dir() and (tmp_path / "checkpoint-latest").is_dir()
    assert [r.getMessage() for r in caplog.records] == [
        f"removing {tmp_path / name}: written only in part (the run was stopped while saving)"
        for name in ("checkpoint-100", "checkpoint-20")]


# --- the Trainer's arguments ----------------------------------------------------------------------

def test_precision_flags_for_the_trainer(monkeypatch):
    assert _precision("fp32") == {"bf16": False, "fp16": False}
    assert _precision("bf16") == {"bf16": True, "fp16": False}
    assert _precision("fp16") == {"bf16": False, "fp16": True}
    assert _precision("auto") == {}  # no GPU here
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert _precision("auto") == {"bf16": True}
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert _precision("auto") == {"fp16": True}


def test_trainer_arguments_come_from_the_config(tmp_path):
    cfg = load_training_config(TINY_CONFIG, ["train.epochs=4", "train.batch_size=4", "train.eval_batch_size=6",
                                             "train.grad_accum=2", "train.lr=0.002", "train.weight_decay=0.1",
                                             "train.warmup_ratio=0.2", "train.logging_steps=7", "seed=5",
                                             "train.save_total_limit=3", "train.num_workers=1", "train.max_steps=50",
                                             "train.precision=bf16"])
    args = _training_args(tmp_path, cfg)
    assert args.output_dir == str(tmp_path)
    assert (args.num_train_epochs, args.per_device_train_batch_size, args.per_device_eval_batch_size) == (4, 4, 6)
    assert (args.gradient_accumulation_steps, args.learning_rate, args.weight_decay) == (2, 0.002, 0.1)
    assert (args.warmup_steps, args.logging_steps, args.seed, args.save_total_limit) == (0.2, 7, 5, 3)
    assert args.lr_scheduler_type.value == cfg["train"]["scheduler"]
    assert args.eval_strategy.value == args.save_strategy.value == cfg["train"]["eval_every"]
    assert args.load_best_model_at_end and args.metric_for_best_model == "mean_macro_f1" and args.greater_is_better
    assert args.label_names == ["scale_labels", "movement_labels"] and not args.remove_unused_columns
    assert args.dataloader_num_workers == 1
    assert args.dataloader_pin_memory is False  # transformers' own choice: pinned on GPUs, not on CPUs
    assert args.ddp_find_unused_parameters is False  # both heads always used: DDP need not search (None would)
    assert args.use_cpu and args.disable_tqdm and args.report_to == []
    assert args.max_steps == 50
    assert (args.bf16, args.fp16) == (True, False)
    cfg["train"]["precision"] = "auto"
    assert not _training_args(tmp_path, cfg).bf16  # auto on a CPU: float32


# --- the run's folder and sampler -----------------------------------------------------------------

def test_a_run_names_a_bad_output_folder_and_saves_its_config_first(tmp_path):
    import yaml

    from shotscope.training.trainer import train

    taken = tmp_path / "taken"
    taken.write_text("a file")
    with pytest.raises(DataError, match=rf"^output_dir {taken}: exists and is not a directory$"):
        train(TINY_CONFIG, [f"output_dir={taken}"])
    ro = tmp_path / "ro"  # a folder that is there but takes no file: said before any work
    with read_only_dir(ro), pytest.raises(DataError, match=rf"^output_dir {ro}: cannot write here \(Read-only "
                                                          r"file system\)$"):
        train(TINY_CONFIG, [f"output_dir={ro}", f"data.train={tmp_path / 'missing.csv'}"])
    out = tmp_path / "run"
    overrides = [f"output_dir={out}", f"data.train={tmp_path / 'missing.csv'}", "seed=11"]
    with pytest.raises(DataError):  # no training data: the run stops, its resolved config already beside it
        train(TINY_CONFIG, overrides)
    assert yaml.safe_load((out / "config.yaml").read_text()) == load_training_config(TINY_CONFIG, overrides)


def test_the_trainer_draws_by_class_weight_only_when_asked(tmp_path, tiny_model):
    from transformers import TrainingArguments

    from shotscope.training.trainer import BalancedSampler, ShotScopeTrainer

    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[], seed=3)
    data = [{"x": k} for k in range(6)]
    weights = np.array([1.0, 1.0, 1.0, 1.0, 5.0, 5.0])
    balanced = ShotScopeTrainer(model=tiny_model, args=args, train_dataset=data, sample_weights=weights)
    sampler = balanced._get_train_sampler(data)
    assert isinstance(sampler, BalancedSampler) and balanced.balanced_sampler is sampler
    np.testing.assert_allclose(sampler.weights.numpy(), weights)
    assert (sampler.num_samples, sampler.seed) == (6, 3)  # the run's seed: draws repeat on resume
    plain = ShotScopeTrainer(model=tiny_model, args=args, train_dataset=data)
    assert not isinstance(plain._get_train_sampler(data), BalancedSampler) and plain.balanced_sampler is None


def test_the_datasets_a_config_makes(tmp_path):
    from shotscope.data.records import ClipRecord
    from shotscope.model.preprocessing import AugmentConfig
    from shotscope.training.trainer import make_datasets

    cfg = load_training_config(TINY_CONFIG, ["train.augment.crop_area=[0.5, 0.9]", "train.augment.hflip=0.0",
                                             f"data.cache_dir={tmp_path / 'cache'}", "seed=9"])
    model = build_model(cfg)
    model.config.movement_id2label = {0: "Push", 1: "Pull", 2: "Static", 3: "Motion"}
    train_ds, val_ds = make_datasets(cfg, model, [ClipRecord("a.mp4", 1, 2)], [ClipRecord("b.mp4", 0, 0)])
    assert train_ds.augment == AugmentConfig(random_resized_crop=False, crop_area=(0.5, 0.9), hflip=0.0,
                                             time_reverse=0.5)
    assert (train_ds.seed, train_ds.movement_id2label) == (9, model.config.movement_id2label)
    assert val_ds.augment is None and train_ds.cache_dir == val_ds.cache_dir == str(tmp_path / "cache")
    assert train_ds.num_frames == val_ds.num_frames == model.num_frames
    assert train_ds.preprocess is val_ds.preprocess is model.preprocess_config
    assert [r.path for r in train_ds.records] == ["a.mp4"] and [r.path for r in val_ds.records] == ["b.mp4"]
    del cfg["train"]["augment"]  # none given: the defaults
    assert make_datasets(cfg, model, [ClipRecord("a.mp4", 1, 2)], [ClipRecord("b.mp4")])[0].augment == \
        AugmentConfig()


def test_classes_are_balanced_in_the_loss_or_by_drawing_as_asked():
    from shotscope.data.records import ClipRecord
    from shotscope.training.trainer import balance_classes

    cfg = load_training_config(TINY_CONFIG)
    records = [ClipRecord("a", 0, 2), ClipRecord("b", 0, 2), ClipRecord("c", 1, -100), ClipRecord("d", 0, 3)]
    ds = SimpleNamespace(records=records, label_counts=lambda task, n: np.bincount(
        [x for x in (getattr(r, task) for r in records) if x >= 0], minlength=n))
    scale_w, move_w = inverse_frequency(np.array([3, 1, 0, 0, 0])), inverse_frequency(np.array([0, 0, 2, 1]))

    cfg["train"].update(balance_scale="loss", balance_movement="none")
    model = build_model(cfg)
    assert balance_classes(cfg, model, ds) is None
    assert model.config.scale_class_weights == scale_w and model.config.movement_class_weights is None

    cfg["train"].update(balance_scale="sampler", balance_movement="sampler")
    model = build_model(cfg)
    weights = balance_classes(cfg, model, ds)
    expected = [scale_w[0] * move_w[2], scale_w[0] * move_w[2], scale_w[1] * 1.0, scale_w[0] * move_w[3]]
    np.testing.assert_allclose(weights, expected)  # the product over the tasks; an unlabelled task weighs 1
    assert model.config.scale_class_weights is None and model.config.movement_class_weights is None

    cfg["train"]["balance_movement"] = "both"
    with pytest.raises(DataError, match=r"^train.balance_movement: expected none, loss or sampler, got 'both'$"):
        balance_classes(cfg, build_model(cfg), ds)
