"""Evaluate and predict: per-clip probabilities (multi-view), the field's metrics, tables and pictures."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ..data.records import ClipRecord
from ..errors import describe_failure
from ..files import atomic_write_bytes, atomic_write_text
from ..model.inference import predict_probs
from ..model.modeling import ShotScopeModel
from ..video.sampling import sample_frames
from .metrics import multitask_metrics


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
    """Per clip, in the order of ``records``: probabilities of both tasks (scale empty without a
    model), the network's own movement probabilities, and the geometric evidence when computed."""

    records: list[ClipRecord]
    scale_probs: np.ndarray
    movement_probs: np.ndarray
    errors: dict[str, str]
    movement_source: str = "model"
    network_movement_probs: np.ndarray | None = None
    estimates: list[Any] | None = None
    scale_labels: list[str] | None = None
    movement_labels: list[str] | None = None
    scale_source: str = "model"
    people: list[Any] | None = None  # the people estimate of each clip, when scale came from it
    people_detector: str | None = None  # who found the people (mediapipe | opencv), when scale came from them

    def labels(self, i: int) -> tuple[str | None, str | None]:
        """(scale, movement) of clip ``i``: the argmax of its probabilities."""
        scale = self.scale_labels[int(self.scale_probs[i].argmax())] if self.scale_probs.size else None
        return scale, self.movement_labels[int(self.movement_probs[i].argmax())]


def predict_records(model: ShotScopeModel | None, records: list[ClipRecord], *, views: int = 1, crops: int = 1,
                    batch_size: int = 8, progress: bool | None = None, movement: str = "model",
                    geometry: bool = False, scale: str = "auto", people_detector: str = "auto") -> Predictions:
    """Probabilities per clip, averaged over ``views`` temporal clips x ``crops`` spatial crops, in
    shotscope's label order (a model's own order is mapped by name).

    ``movement`` (auto | model | geometry | fused) and ``scale`` (auto | model | people | none) pick
    the sources as analyze does; geometry reads 16 frames spread over the clip (``geometry=True``
    computes it whatever the source), the people estimate 3. ``model`` may be None for geometry and
    people alone; ``people_detector`` (auto | mediapipe | opencv) finds the people for the scale
    from people. Clips that fail are reported in ``errors`` and left out."""
    from ..labels import MOVEMENT_LABELS, SCALE_LABELS
    from ..sources.geometry import GEOMETRY_FRAMES, GEOMETRY_SIDE, estimate_movement
    from ..sources.network import in_order
    from ..sources.people import FRAMES as PEOPLE_FRAMES
    from ..sources.people import PEOPLE_SIDE, estimate_scale, resolve_detector
    from ..sources.selection import model_input_side, resolve_movement, resolve_scale
    from ..threads import read_ahead
    from ..video.decode import open_video

    source = resolve_movement(model, movement)
    scale_source = resolve_scale(model, scale)
    detector = resolve_detector(people_detector) if scale_source == "people" else None  # once: one warning
    want_geometry = geometry or source in ("geometry", "fused")
    people: list = []
    n = model.num_frames if model is not None else GEOMETRY_FRAMES
    side = model_input_side(model)  # frames reduced on conversion exactly as analyze reduces them
    kept, scale, network, errors, estimates = [], [], [], {}, []
    chunk: list[tuple[ClipRecord, np.ndarray]] = []

    def flush() -> None:
        if not chunk:
            return
        clips = [np.concatenate(spatial_crops(c, crops)) if crops > 1 else c for _, c in chunk]
        ps, pm = predict_probs(model, clips, batch_size)
        scale.append(ps)
        network.append(pm)
        chunk.clear()

    def decode(record: ClipRecord):
        """One clip's frames (and geometry), or the error that stopped it."""
        try:
            with open_video(record.path) as video:
                clip = sample_frames(video, n, record.start, record.end, views=views, short_side=side)
                est = None
                if want_geometry:
                    geo = clip if (n, views, side) == (GEOMETRY_FRAMES, 1, GEOMETRY_SIDE) else sample_frames(
                        video, GEOMETRY_FRAMES, record.start, record.end, short_side=GEOMETRY_SIDE)
                    est = estimate_movement(geo.frames[0], geo.times[0])
                seen = None
                if scale_source == "people":
                    look = sample_frames(video, PEOPLE_FRAMES, record.start, record.end, short_side=PEOPLE_SIDE)
                    seen = estimate_scale(look.frames[0], detector=detector)
            return clip, est, seen
        except Exception as exc:  # a bad clip, whatever the cause: report it, go on
            return exc

    # clips are decoded one batch ahead in a thread while the model runs on the current batch
    bar = tqdm(total=len(records), desc="clips", unit="clip", disable=None if progress is None else not progress)
    decoded = read_ahead((decode(r) for r in records), depth=2 * batch_size)
    try:
        for record, result in zip(records, decoded, strict=True):
            bar.update(1)
            if isinstance(result, Exception):
                errors[record.path] = describe_failure(result, record.path)
                continue
            clip, est, seen = result
            kept.append(record)
            if want_geometry:
                estimates.append(est)
            if seen is not None:
                people.append(seen)
            if model is not None:
                chunk.append((record, clip.frames))
                if len(chunk) >= batch_size:
                    flush()
    finally:
        decoded.close()
    bar.close()
    if model is not None:
        flush()
    n_s = len(model.config.scale_labels) if model is not None else 0
    move_labels = list(model.config.movement_labels) if model is not None else list(MOVEMENT_LABELS)
    scale_probs = np.concatenate(scale) if scale else np.zeros((len(kept) if model is None else 0, n_s))
    scale_labels = list(model.config.scale_labels) if model is not None else None
    net = np.concatenate(network) if network else None
    if model is not None:  # shotscope's order, where the model's labels are shotscope's
        scale_probs, scale_labels = in_order(scale_probs, scale_labels, "scale")
        if net is not None:
            net, move_labels = in_order(net, move_labels, "movement")
    if scale_source == "people":
        scale_probs = np.array([[e.probabilities[k] for k in SCALE_LABELS] for e in people]).reshape(-1, 5)
        scale_labels = list(SCALE_LABELS)
    elif scale_source == "none":
        scale_probs, scale_labels = np.zeros((len(kept), 0)), None
    if source == "geometry":
        final = np.array([[e.probabilities[k] for k in MOVEMENT_LABELS] for e in estimates]).reshape(-1, 4)
    elif source == "fused":
        final = np.stack([model.movement_fusion.combine(p, e) for p, e in zip(net, estimates, strict=True)]) \
            if kept else np.zeros((0, len(move_labels)))
    else:
        final = net if net is not None else np.zeros((0, len(move_labels)))
    if source in ("geometry", "fused"):  # the estimate and the combiner answer in shotscope's order
        move_labels = list(MOVEMENT_LABELS)
    return Predictions(kept, scale_probs, final, errors, source, net, estimates if want_geometry else None,
                       scale_labels, move_labels, scale_source, people if scale_source == "people" else None,
                       detector)


def in_taxonomy(probs: np.ndarray, labels: list[str], taxonomy: list[str], what: str) -> np.ndarray:
    """Predicted ids (argmax of ``probs``, columns named ``labels`` in the model's own order) as ids
    of ``taxonomy`` (shotscope's order, the one the data's labels use); -1 for a name outside it."""
    index = {name: i for i, name in enumerate(taxonomy)}
    unknown = [name for name in labels if name not in index]
    if unknown and len(unknown) == len(labels):
        from ..errors import DataError

        raise DataError(f"the model's {what} labels ({', '.join(labels)}) are none of {', '.join(taxonomy)}: "
                        "it cannot be scored on this data")
    ids = np.array([index.get(name, -1) for name in labels])
    return ids[probs.argmax(-1)] if len(probs) else np.zeros(0, int)


def evaluate_predictions(model: ShotScopeModel | None, preds: Predictions) -> dict[str, Any]:
    """The field's metrics of ``preds`` against their records' labels. Both are compared by name:
    the records' labels are in shotscope's order, the model answers in its own config's order
    (a model may list its labels in another order, as ``predict`` shows)."""
    from ..labels import MOVEMENT_LABELS, SCALE_LABELS

    scale_true = np.array([r.scale for r in preds.records], int)
    if not preds.scale_probs.size:  # no scale predictions (geometry alone, --scale none): no scale numbers
        scale_true = np.full(len(preds.records), -100)
        scale_pred = np.zeros(len(preds.records), int)
    else:
        scale_pred = in_taxonomy(preds.scale_probs, preds.scale_labels or list(SCALE_LABELS), SCALE_LABELS, "scale")
    movement_pred = in_taxonomy(preds.movement_probs, preds.movement_labels, MOVEMENT_LABELS, "movement")
    return multitask_metrics(scale_true, scale_pred, np.array([r.movement for r in preds.records], int),
                             movement_pred, list(SCALE_LABELS), list(MOVEMENT_LABELS))


def evaluate_distributed(model: ShotScopeModel | None, records: list[ClipRecord], *, views: int = 1, crops: int = 1,
                         batch_size: int = 8, progress: bool | None = None, movement: str = "model",
                         scale: str = "auto", people_detector: str = "auto",
                         ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Evaluate on the best device; under ``accelerate launch`` / ``torchrun`` each process takes
    a share of the clips and the predictions are gathered once. Returns (metrics, run info:
    errors and process count) on the main process and None on the others."""
    from accelerate import PartialState
    from accelerate.utils import gather_object

    state = PartialState(cpu=not torch.cuda.is_available())
    if model is not None:
        from ..model.inference import set_precision

        model.to(state.device)
        set_precision(model, getattr(model, "precision_choice", "auto"))  # as resolved for this device
    with state.split_between_processes(records) as mine:
        preds = predict_records(model, list(mine), views=views, crops=crops, batch_size=batch_size,
                                progress=progress if state.is_local_main_process else False, movement=movement,
                                scale=scale, people_detector=people_detector)
    if state.num_processes > 1:
        parts = gather_object([(preds.records, preds.scale_probs, preds.movement_probs, preds.errors)])
        preds = Predictions(
            [r for p in parts for r in p[0]], np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]), {k: v for p in parts for k, v in p[3].items()},
            preds.movement_source, scale_labels=preds.scale_labels, movement_labels=preds.movement_labels,
            scale_source=preds.scale_source, people_detector=preds.people_detector)
    # every process leaves together, with the process group shut down (a rank that exits early
    # while the others still hold the group aborts)
    state.wait_for_everyone()
    if state.num_processes > 1 and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    if not state.is_main_process:
        return None
    return evaluate_predictions(model, preds), {"errors": preds.errors, "processes": state.num_processes,
                                                "movement_source": preds.movement_source,
                                                "scale_source": preds.scale_source,
                                                **({"people_detector": preds.people_detector}
                                                   if preds.people_detector else {})}


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
