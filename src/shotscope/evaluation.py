"""Evaluate and predict: per-clip probabilities (multi-view), the field's metrics, tables and pictures."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from .data.records import ClipRecord
from .errors import ShotscopeError
from .files import atomic_write_bytes, atomic_write_text
from .inference import predict_probs
from .metrics import multitask_metrics
from .modeling import ShotScopeModel
from .sampling import SampledClip, sample_frames


def spatial_crops(frames: np.ndarray, crops: int) -> list[np.ndarray]:
    """1: the frames as they are; 3: left, centre and right squares along the long side."""
    if crops == 1:
        return [frames]
    h, w = frames.shape[-3:-1]
    side = min(h, w)
    out = []
    for pos in np.linspace(0, 1, crops):
        if w >= h:
            x = int(round((w - side) * pos))
            out.append(frames[..., :, x : x + side, :])
        else:
            y = int(round((h - side) * pos))
            out.append(frames[..., y : y + side, :, :])
    return out


@dataclass
class Predictions:
    records: list[ClipRecord]
    scale_probs: np.ndarray
    movement_probs: np.ndarray
    errors: dict[str, str]


def predict_records(model: ShotScopeModel, records: list[ClipRecord], *, views: int = 1, crops: int = 1,
                    batch_size: int = 8, progress: bool = True,
                    on_clip: Callable[[ClipRecord, SampledClip], None] | None = None) -> Predictions:
    """Probabilities per clip, averaged over ``views`` temporal clips x ``crops`` spatial crops.
    Clips that fail to decode are reported in ``errors`` and left out. ``on_clip`` sees each
    decoded clip, in the order of the returned records (for other work on the same frames)."""
    kept, scale, movement, errors = [], [], [], {}
    chunk: list[tuple[ClipRecord, np.ndarray]] = []

    def flush() -> None:
        if not chunk:
            return
        clips = [np.concatenate(spatial_crops(c, crops)) if crops > 1 else c for _, c in chunk]
        ps, pm = predict_probs(model, clips, batch_size)
        kept.extend(r for r, _ in chunk)
        scale.append(ps)
        movement.append(pm)
        chunk.clear()

    for record in tqdm(records, desc="clips", unit="clip", disable=not progress):
        try:
            clip = sample_frames(record.path, model.num_frames, record.start, record.end, views=views)
        except (ShotscopeError, ValueError, OSError) as exc:  # a bad clip: report it, go on
            errors[record.path] = str(exc) if record.path in str(exc) else f"{record.path}: {exc}"
            continue
        if on_clip is not None:
            on_clip(record, clip)
        chunk.append((record, clip.frames))
        if len(chunk) >= batch_size:
            flush()
    flush()
    n_s, n_m = len(model.config.scale_labels), len(model.config.movement_labels)
    return Predictions(kept, np.concatenate(scale) if scale else np.zeros((0, n_s)),
                       np.concatenate(movement) if movement else np.zeros((0, n_m)), errors)


def evaluate_predictions(model: ShotScopeModel, preds: Predictions) -> dict[str, Any]:
    cfg = model.config
    return multitask_metrics(
        np.array([r.scale for r in preds.records]), preds.scale_probs.argmax(-1) if len(preds.records) else [],
        np.array([r.movement for r in preds.records]),
        preds.movement_probs.argmax(-1) if len(preds.records) else [], cfg.scale_labels, cfg.movement_labels)


def evaluate_distributed(model: ShotScopeModel, records: list[ClipRecord], *, views: int = 1, crops: int = 1,
                         batch_size: int = 8, progress: bool = True) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Evaluate on the best device; under ``accelerate launch`` / ``torchrun`` each process takes
    a share of the clips and the predictions are gathered once. Returns (metrics, run info:
    errors and process count) on the main process and None on the others."""
    from accelerate import PartialState
    from accelerate.utils import gather_object

    state = PartialState(cpu=not torch.cuda.is_available())
    model.to(state.device)
    with state.split_between_processes(records) as mine:
        preds = predict_records(model, list(mine), views=views, crops=crops, batch_size=batch_size,
                                progress=progress and state.is_local_main_process)
    if state.num_processes > 1:
        parts = gather_object([(preds.records, preds.scale_probs, preds.movement_probs, preds.errors)])
        preds = Predictions(
            [r for p in parts for r in p[0]], np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]), {k: v for p in parts for k, v in p[3].items()})
    # every process leaves together, with the process group shut down (a rank that exits early
    # while the others still hold the group aborts)
    state.wait_for_everyone()
    if state.num_processes > 1 and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    if not state.is_main_process:
        return None
    return evaluate_predictions(model, preds), {"errors": preds.errors, "processes": state.num_processes}


def published_baseline() -> dict[str, Any]:
    """The published multitask model's MovieShots numbers, with their source."""
    return json.loads(resources.files("shotscope").joinpath("published_metrics.json").read_text())


def comparison_rows(metrics: dict[str, Any], baseline: dict[str, Any]) -> list[tuple[str, str, float | None, float | None]]:
    """(task, metric, ours, baseline) for accuracy, macro-F1 and per-class accuracy."""
    rows = []
    for task in ("scale", "movement"):
        ours, base = metrics.get(task, {}), baseline.get(task, {})
        for key in ("accuracy", "macro_f1"):
            rows.append((task, key, ours.get(key), base.get(key)))
        for name, values in (ours.get("per_class") or {}).items():
            b = (base.get("per_class") or {}).get(name, {})
            rows.append((task, f"{name} accuracy", values.get("accuracy"), b.get("accuracy")))
    return rows


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def markdown_report(metrics: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    lines = ["| task | metric | ours | baseline | delta |", "|---|---|---|---|---|"]
    for task, key, ours, base in comparison_rows(metrics, baseline or {}):
        delta = "-" if ours is None or base is None else f"{ours - base:+.2f}"
        lines.append(f"| {task} | {key} | {_fmt(ours)} | {_fmt(base)} | {delta} |")
    for task in ("scale", "movement"):
        m = metrics[task]
        if not m.get("per_class"):
            continue
        lines += ["", f"### {task} per class (n = {m['n']})", "",
                  "| class | support | precision | recall | F1 |", "|---|---|---|---|---|"]
        for name, v in m["per_class"].items():
            lines.append(f"| {name} | {v['support']} | {_fmt(v['precision'])} | {_fmt(v['recall'])} | {_fmt(v['f1'])} |")
    if baseline and baseline.get("source"):
        lines += ["", f"Baseline: {baseline['source']}"]
    return "\n".join(lines) + "\n"


def confusion_png(metrics: dict[str, Any], task: str, path: str | os.PathLike, size: tuple[int, int] = (640, 560)) -> Path:
    """Row-normalised confusion matrix with counts, as a PNG of ``size`` pixels."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = metrics[task]
    labels, counts = m["labels"], np.array(m["confusion"] or np.zeros((len(m["labels"]),) * 2))
    norm = np.array(m.get("confusion_normalized") or np.zeros_like(counts, dtype=float))
    dpi = 100
    fig, ax = plt.subplots(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = m.get("accuracy")
    ax.set_title(f"{task}: accuracy {_fmt(acc)}, macro-F1 {_fmt(m.get('macro_f1'))}")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{norm[i, j]:.2f}\n({counts[i, j]})", ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def write_evaluation(metrics: dict[str, Any], out_dir: str | os.PathLike, baseline: dict[str, Any] | None,
                     extra: dict[str, Any] | None = None) -> dict[str, Path]:
    out = Path(out_dir)
    files = {"json": out / "metrics.json", "markdown": out / "metrics.md"}
    atomic_write_text(files["json"], json.dumps({**metrics, **(extra or {})}, indent=2))
    atomic_write_text(files["markdown"], "# Evaluation\n\n" + markdown_report(metrics, baseline))
    for task in ("scale", "movement"):
        if metrics[task].get("confusion") is not None:
            files[f"confusion_{task}"] = confusion_png(metrics, task, out / f"confusion_{task}.png")
    return files
