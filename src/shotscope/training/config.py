"""The training config: defaults, and the checks that run before anything heavy loads (so a
misspelt key or a bad value is reported in a fraction of a second, naming the key)."""

from __future__ import annotations

import os
from typing import Any

from ..config import load_config, validate_config
from ..errors import DataError

PUBLISHED_BACKBONE = "MCG-NJU/videomae-base-finetuned-kinetics"  # = shotscope.model.loading.PUBLISHED_BACKBONE

DEFAULTS: dict[str, Any] = {
    "output_dir": "runs/shotscope",
    "seed": 42,
    "model": {
        "backbone": PUBLISHED_BACKBONE,  # hub id or dir of a VideoMAE checkpoint; null = random init
        "init": None,  # a shotscope model dir to continue from
        "config": {},  # VideoMAE config overrides (used for random init, e.g. tiny models)
        "num_frames": 16,
        "image_size": 224,
        "resize_mode": "squash",
    },
    "data": {
        "kind": "manifest",  # manifest | movieshots
        "root": None,  # movieshots: the dataset folder
        "train": None,  # manifest: train manifest
        "val": None,  # manifest: validation manifest
        "train_split": "train",
        "val_split": "val",
        "multi_movement_as": "Motion",
        "cache_dir": None,
        "skip_bad": False,
    },
    "train": {
        "epochs": 5,
        "max_steps": -1,
        "batch_size": 8,
        "eval_batch_size": 16,
        "grad_accum": 1,
        "lr": 5e-5,
        "weight_decay": 0.05,
        "warmup_ratio": 0.1,
        "scheduler": "cosine",
        "layer_decay": 0.75,  # null: one learning rate for all layers
        "scale_loss_weight": 1.0,
        "movement_loss_weight": 1.0,
        "balance_scale": "none",  # none | loss | sampler
        "balance_movement": "loss",  # none | loss | sampler
        "augment": {"random_resized_crop": True, "hflip": 0.5, "time_reverse": 0.5},
        "num_workers": 4,
        "precision": "auto",  # auto | bf16 | fp16 | fp32
        "save_total_limit": 2,
        "logging_steps": 10,
        "eval_every": "epoch",
        "progress": True,
    },
}


# Keys `model.config` may set: VideoMAEConfig's own (a test compares this list with transformers').
VIDEOMAE_KEYS = frozenset({
    "attention_probs_dropout_prob", "decoder_hidden_size", "decoder_intermediate_size", "decoder_num_attention_heads",
    "decoder_num_hidden_layers", "hidden_act", "hidden_dropout_prob", "hidden_size", "initializer_range",
    "intermediate_size", "layer_norm_eps", "norm_pix_loss", "num_attention_heads", "num_channels",
    "num_hidden_layers", "patch_size", "qv_bias", "tubelet_size", "use_mean_pooling",
})
# Keys `train.augment` may set: AugmentConfig's fields (checked by a test too).
AUGMENT_KEYS = frozenset({"random_resized_crop", "crop_area", "crop_ratio", "hflip", "time_reverse"})


def check_training_config(cfg: dict) -> None:
    """Every key known, every value of the right type and in range; raises DataError naming each."""
    if cfg.get("train", {}).get("eval_every") is False:  # YAML reads a bare `no` as false
        cfg["train"]["eval_every"] = "no"
    validate_config(
        cfg, DEFAULTS,
        nullable={"model.backbone", "model.init", "data.root", "data.train", "data.val", "data.cache_dir",
                  "train.layer_decay", "train.augment"},
        free={"model.config": set(VIDEOMAE_KEYS), "train.augment": set(AUGMENT_KEYS)},
        choices={"data.kind": ("manifest", "movieshots"), "model.resize_mode": ("squash", "letterbox", "center_crop"),
                 "train.precision": ("auto", "bf16", "fp16", "fp32"),
                 "train.balance_scale": ("none", "loss", "sampler"), "train.balance_movement": ("none", "loss", "sampler"),
                 "train.eval_every": ("epoch", "steps", "no")},
        minimum={"train.epochs": 0, "train.batch_size": 1, "train.eval_batch_size": 1, "train.grad_accum": 1,
                 "train.lr": 0, "train.weight_decay": 0, "train.warmup_ratio": 0, "train.num_workers": 0,
                 "train.save_total_limit": 1, "train.logging_steps": 1, "model.num_frames": 1, "model.image_size": 1},
        where="training config")
    if cfg["train"]["max_steps"] in (None, 0) or (cfg["train"]["epochs"] == 0 and cfg["train"]["max_steps"] < 0):
        raise DataError("training config: train.epochs (or train.max_steps) must be > 0")


def load_training_config(path: str | os.PathLike | None, overrides: list[str] | None = None) -> dict[str, Any]:
    """DEFAULTS, then the YAML file (a path or a shipped name), then ``key=value`` overrides; checked."""
    cfg = load_config(path, DEFAULTS, overrides)
    check_training_config(cfg)
    return cfg
