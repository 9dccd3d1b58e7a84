"""Fine-tuning on the HF Trainer: two heads, balanced movement, time reversal, resume, best by mean macro-F1.

Runs unchanged on a CPU, one GPU, or many under ``accelerate launch`` / ``torchrun``.
"""

from __future__ import annotations

import csv
import logging
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import PrinterCallback, ProgressCallback

from ..config import save_config
from ..data.dataset import ClipDataset
from ..data.manifest import read_manifest
from ..data.movieshots import read_movieshots
from ..data.records import ClipRecord
from ..errors import DataError
from ..files import ensure_dir
from ..model.loading import from_backbone, load_model
from ..model.modeling import ShotScopeConfig, ShotScopeModel
from ..model.preprocessing import AugmentConfig, PreprocessConfig
from .config import load_training_config
from .metrics import flat_metrics, multitask_metrics

log = logging.getLogger(__name__)

TINY_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "tiny-synthetic.yaml"
MOVIESHOTS_CONFIG = TINY_CONFIG.with_name("movieshots.yaml")

def read_split(data: dict, which: str, name: str | None = None) -> list[ClipRecord]:
    """The clips of one split (``which``: train or val) of a data config; ``name`` is how messages
    call them (default: the split's name)."""
    name = name or which
    aliases = {"Multi_movement": data.get("multi_movement_as") or "Motion"}
    if data["kind"] == "movieshots":
        if not data.get("root"):
            raise DataError("data.root: the MovieShots folder is required for kind: movieshots")
        records, report = read_movieshots(data["root"], data[f"{which}_split"], movement_aliases=aliases)
    elif data["kind"] == "manifest":
        if not data.get(which):
            raise DataError(f"data.{which}: a manifest path is required")
        records, report = read_manifest(data[which], skip_bad=bool(data.get("skip_bad")), movement_aliases=aliases)
    else:
        raise DataError(f"data.kind: expected manifest or movieshots, got {data['kind']!r}")
    log.info("%s data: %s", name, report.summary())
    if not records:
        raise DataError(f"{name} data: no usable clips ({report.summary()})")
    return records


def inverse_frequency(counts: np.ndarray) -> list[float]:
    """scikit-learn's "balanced" class weights, samples / (classes present x count): 1 for every
    class when they are balanced; absent classes weigh 0."""
    counts = counts.astype(float)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max((counts > 0).sum(), 1), 0.0)
    return w.tolist()


def build_model(cfg: dict) -> ShotScopeModel:
    m = cfg["model"]
    overrides = dict(m.get("config") or {}, num_frames=m["num_frames"], image_size=m["image_size"])
    if m.get("init"):
        model = load_model(m["init"])
    elif m.get("backbone"):
        model = from_backbone(m["backbone"], resize_mode=m["resize_mode"], **overrides)
    else:
        model = ShotScopeModel(ShotScopeConfig(**overrides))
        model.preprocess_config = PreprocessConfig(image_size=m["image_size"], resize_mode=m["resize_mode"])
        model.source = "random init"
    t = cfg["train"]
    model.config.scale_loss_weight = float(t["scale_loss_weight"])
    model.config.movement_loss_weight = float(t["movement_loss_weight"])
    return model


def compute_metrics_fn(model: ShotScopeModel):
    labels_s, labels_m = model.config.scale_labels, model.config.movement_labels

    def compute(pred) -> dict[str, float]:
        scale_logits, movement_logits = pred.predictions[0], pred.predictions[1]
        scale_true, movement_true = pred.label_ids
        metrics = multitask_metrics(scale_true, scale_logits.argmax(-1), movement_true,
                                    movement_logits.argmax(-1), labels_s, labels_m)
        return flat_metrics(metrics)

    return compute


class CSVLogger(TrainerCallback):
    """Appends every log (losses, learning rate, metrics) to ``log.csv`` in the output folder."""

    def __init__(self, path: Path):
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        row = {"step": state.global_step, "epoch": state.epoch, **logs}
        new = not self.path.exists()
        with self.path.open("a", newline="") as fh:
            writer = csv.writer(fh)
            if new:
                writer.writerow(["step", "epoch", "key", "value"])
            for key, value in row.items():
                if key not in ("step", "epoch"):
                    writer.writerow([row["step"], row["epoch"], key, value])


def format_log(state, logs: dict[str, float]) -> str:
    """One readable line for a Trainer log: training, evaluation or the final summary."""
    def num(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    where = f"epoch {state.epoch or 0:.2f}, step {state.global_step}/{state.max_steps}"
    if any(k.startswith("eval_") for k in logs):
        parts = []
        for task in ("scale", "movement"):
            acc, f1 = logs.get(f"eval_{task}_accuracy"), logs.get(f"eval_{task}_macro_f1")
            if acc is not None:
                parts.append(f"{task} accuracy {acc:.2f} macro-F1 {f1:.2f}")
        if logs.get("eval_mean_macro_f1") is not None:
            parts.append(f"mean macro-F1 {logs['eval_mean_macro_f1']:.2f}")
        if logs.get("eval_loss") is not None:
            parts.append(f"loss {logs['eval_loss']:.4f}")
        return f"evaluation ({where}): " + " · ".join(parts)
    if "train_runtime" in logs:
        return (f"training finished ({where}) in {logs['train_runtime']:.1f} s; "
                f"average loss {num(logs.get('train_loss', float('nan')))}")
    names = {"loss": "loss", "learning_rate": "lr", "grad_norm": "grad norm"}
    parts = [f"{names.get(k, k)} {num(v)}" for k, v in logs.items() if k in names]
    return f"{where}: " + ", ".join(parts)


class ReadableLog(TrainerCallback):
    """Training progress people read: a step bar on a terminal, and each log as one line on
    stderr (instead of the Trainer's printed dicts)."""

    def __init__(self, progress: bool | None):
        self.progress = progress
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            from tqdm import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="train", unit="step",
                            disable=None if self.progress is None else not self.progress, leave=False)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        line = format_log(state, logs)
        if self.bar is not None and not self.bar.disable:
            self.bar.write(line, file=sys.stderr)
        else:
            log.info("%s", line)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class BalancedSampler(torch.utils.data.WeightedRandomSampler):
    """Draws clips with replacement by weight; the draws of an epoch depend on (seed, epoch) only,
    so a resumed run draws what an uninterrupted one would."""

    def __init__(self, weights: np.ndarray, seed: int):
        super().__init__(torch.as_tensor(weights, dtype=torch.double), len(weights))
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self):
        self.generator = torch.Generator().manual_seed(self.seed * 100003 + self.epoch)
        return super().__iter__()


class EpochSeeds(TrainerCallback):
    """Tells the dataset (augmentations) and the balanced sampler which epoch begins, fresh or resumed."""

    def __init__(self, trainer: ShotScopeTrainer):
        self.trainer = trainer

    def on_epoch_begin(self, args, state, control, **kwargs):
        epoch = int(state.epoch + 1e-6) if state.epoch else 0
        for target in (self.trainer.train_dataset, self.trainer.balanced_sampler):
            if hasattr(target, "set_epoch"):
                target.set_epoch(epoch)


class ShotScopeTrainer(Trainer):
    """The HF Trainer plus class-balanced sampling and layer-wise learning-rate decay."""

    def __init__(self, *args: Any, sample_weights: np.ndarray | None = None, layer_decay: float | None = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sample_weights = sample_weights
        self.layer_decay = layer_decay
        self.balanced_sampler: BalancedSampler | None = None
        self.add_callback(EpochSeeds(self))

    def _get_train_sampler(self, *args: Any, **kwargs: Any):
        if self.sample_weights is None:
            return super()._get_train_sampler(*args, **kwargs)
        self.balanced_sampler = BalancedSampler(self.sample_weights, self.args.seed)
        return self.balanced_sampler

    def create_optimizer(self, *args: Any, **kwargs: Any):
        if self.optimizer is not None or not self.layer_decay:
            return super().create_optimizer(*args, **kwargs)
        model = self.model
        depth = model.config.num_hidden_layers + 1
        groups: dict[tuple[float, bool], list[torch.nn.Parameter]] = {}
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            if name.startswith("vmae.embeddings"):
                layer = 0
            elif name.startswith("vmae.encoder.layer."):
                layer = int(name.split(".")[3]) + 1
            else:
                layer = depth
            no_decay = param.ndim == 1 or name.endswith(".bias")
            groups.setdefault((self.layer_decay ** (depth - layer), no_decay), []).append(param)
        param_groups = [
            {"params": params, "lr": self.args.learning_rate * scale,
             "weight_decay": 0.0 if no_decay else self.args.weight_decay}
            for (scale, no_decay), params in groups.items()
        ]
        self.optimizer = torch.optim.AdamW(param_groups, lr=self.args.learning_rate,
                                           betas=(self.args.adam_beta1, self.args.adam_beta2))
        return self.optimizer


def last_complete_checkpoint(out: Path) -> str | None:
    """The newest checkpoint that was written to the end (the Trainer writes trainer_state.json
    last). Checkpoints cut short by a kill are removed, so the run resumes from the one before."""
    import json
    import shutil

    steps = sorted((int(p.name.split("-")[1]), p) for p in out.glob("checkpoint-*")
                   if p.is_dir() and p.name.split("-")[1].isdigit())
    for _, path in reversed(steps):
        try:
            json.loads((path / "trainer_state.json").read_text())
            return str(path)
        except (OSError, ValueError):
            log.warning("removing %s: written only in part (the run was stopped while saving)", path)
            shutil.rmtree(path, ignore_errors=True)
    return None


def _precision(choice: str) -> dict[str, bool]:
    if choice == "auto":
        if torch.cuda.is_available():
            return {"bf16": True} if torch.cuda.is_bf16_supported() else {"fp16": True}
        return {}
    return {"bf16": choice == "bf16", "fp16": choice == "fp16"}


def _training_args(out: Path, cfg: dict) -> TrainingArguments:
    t = cfg["train"]
    return TrainingArguments(
        output_dir=str(out),
        num_train_epochs=t["epochs"],
        max_steps=t["max_steps"],
        per_device_train_batch_size=t["batch_size"],
        per_device_eval_batch_size=t["eval_batch_size"],
        gradient_accumulation_steps=t["grad_accum"],
        learning_rate=float(t["lr"]),
        weight_decay=float(t["weight_decay"]),
        warmup_steps=float(t["warmup_ratio"]),  # a float < 1 is a fraction of all steps
        lr_scheduler_type=t["scheduler"],
        eval_strategy=t["eval_every"],
        save_strategy=t["eval_every"],
        save_total_limit=t["save_total_limit"],
        load_best_model_at_end=True,
        metric_for_best_model="mean_macro_f1",
        greater_is_better=True,
        logging_steps=t["logging_steps"],
        label_names=["scale_labels", "movement_labels"],
        dataloader_num_workers=t["num_workers"],
        use_cpu=not torch.cuda.is_available(),  # also makes torchrun on CPUs a real multi-process run
        ddp_find_unused_parameters=False,
        remove_unused_columns=False,
        report_to=[],
        seed=cfg["seed"],
        disable_tqdm=True,  # ReadableLog shows progress
        **_precision(t["precision"]),
    )


def make_datasets(cfg: dict, model: ShotScopeModel, train_records: list[ClipRecord],
                  val_records: list[ClipRecord]) -> tuple[ClipDataset, ClipDataset]:
    """The training clips (augmented as ``train.augment`` says, by the run's seed) and the validation
    clips (as they are); both read the frame cache when ``data.cache_dir`` is set."""
    augment = {k: tuple(v) if isinstance(v, list) else v for k, v in (cfg["train"].get("augment") or {}).items()}
    cache = cfg["data"].get("cache_dir")
    train_ds = ClipDataset(train_records, model.num_frames, model.preprocess_config, augment=AugmentConfig(**augment),
                           movement_id2label=model.config.movement_id2label, cache_dir=cache, seed=cfg["seed"])
    val_ds = ClipDataset(val_records, model.num_frames, model.preprocess_config, cache_dir=cache)
    return train_ds, val_ds


def balance_classes(cfg: dict, model: ShotScopeModel, train_ds: ClipDataset) -> np.ndarray | None:
    """``train.balance_scale`` / ``balance_movement``: "loss" puts scikit-learn's balanced class
    weights in the model's loss; "sampler" returns per-clip drawing weights (their product over
    the tasks; unlabelled clips weigh 1); None when no task asks for the sampler."""
    weights = np.ones(len(train_ds.records))
    sampler = False
    for task, n_cls in (("scale", len(model.config.scale_labels)), ("movement", len(model.config.movement_labels))):
        mode = cfg["train"][f"balance_{task}"]
        class_w = inverse_frequency(train_ds.label_counts(task, n_cls))
        if mode == "loss":
            setattr(model.config, f"{task}_class_weights", class_w)
        elif mode == "sampler":
            ids = np.array([getattr(r, task) for r in train_ds.records])
            weights *= np.where(ids >= 0, np.array(class_w)[np.maximum(ids, 0)], 1.0)
            sampler = True
        elif mode != "none":
            raise DataError(f"train.balance_{task}: expected none, loss or sampler, got {mode!r}")
    return weights if sampler else None


def train(config_path: str | os.PathLike | None = None, overrides: list[str] | None = None,
          progress: bool | None = None) -> Path:
    """Train from a YAML config (+ overrides); returns the folder of the best model.
    ``progress``: None shows a step bar on a terminal when ``train.progress`` is on."""
    cfg = load_training_config(config_path, overrides)
    out = ensure_dir(cfg["output_dir"], "output_dir", probe=True)
    save_config(cfg, out / "config.yaml")
    torch.manual_seed(cfg["seed"])
    t, data = cfg["train"], cfg["data"]
    train_records, val_records = read_split(data, "train"), read_split(data, "val")
    model = build_model(cfg)
    pre = model.preprocess_config
    train_ds, val_ds = make_datasets(cfg, model, train_records, val_records)
    weights = balance_classes(cfg, model, train_ds)
    args = _training_args(out, cfg)
    trainer = ShotScopeTrainer(
        model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
        compute_metrics=compute_metrics_fn(model),
        callbacks=[CSVLogger(out / "log.csv"), ReadableLog(progress if t["progress"] else False)],
        sample_weights=weights, layer_decay=t.get("layer_decay"),
    )
    trainer.remove_callback(PrinterCallback)  # dicts on stdout; ReadableLog writes lines instead
    trainer.remove_callback(ProgressCallback)
    last = last_complete_checkpoint(out)
    if last:
        log.info("resuming from %s", last)
    trainer.train(resume_from_checkpoint=last)
    best_dir = out / "model"
    metrics = trainer.evaluate()  # every process takes part; the first one writes
    if trainer.is_world_process_zero():
        trainer.model.preprocess_config = pre
        trainer.model.save_pretrained(best_dir)
        from ..model.card import write_model_card

        write_model_card(best_dir, cfg, metrics, train_records, val_records)
    # leave together: a rank that exits while another still holds the process group aborts
    trainer.accelerator.wait_for_everyone()
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return best_dir
