"""The numbers the field reports, per task, computed with scikit-learn.

Rows whose label is missing (``IGNORE_INDEX``) are left out of that task's numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from ..labels import IGNORE_INDEX


def task_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class accuracy (= recall) / precision / recall / F1 and confusion matrices.

    Percentages (0-100) as the papers report them. Classes that never occur count in macro-F1
    only when predicted (sklearn's ``labels=`` over present or predicted classes).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    keep = y_true != IGNORE_INDEX
    y_true, y_pred = y_true[keep], y_pred[keep]
    ids = list(range(len(labels)))
    out: dict[str, Any] = {"n": int(keep.sum()), "labels": labels}
    if out["n"] == 0:
        return out | {"accuracy": None, "macro_f1": None, "per_class": {}, "confusion": None}
    present = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=ids, zero_division=0)
    cm = confusion_matrix(y_true, y_pred, labels=ids)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = cm / cm.sum(axis=1, keepdims=True)
    out["accuracy"] = 100 * accuracy_score(y_true, y_pred)
    out["macro_f1"] = 100 * f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
    out["per_class"] = {
        name: {
            "support": int(s[i]),
            "accuracy": 100 * float(r[i]) if s[i] else None,
            "precision": 100 * float(p[i]),
            "recall": 100 * float(r[i]) if s[i] else None,
            "f1": 100 * float(f[i]),
        }
        for i, name in enumerate(labels)
    }
    out["confusion"] = cm.tolist()
    out["confusion_normalized"] = np.nan_to_num(norm).round(4).tolist()
    return out


def multitask_metrics(
    scale_true: np.ndarray, scale_pred: np.ndarray, movement_true: np.ndarray, movement_pred: np.ndarray,
    scale_labels: list[str], movement_labels: list[str],
) -> dict[str, Any]:
    scale = task_metrics(scale_true, scale_pred, scale_labels)
    movement = task_metrics(movement_true, movement_pred, movement_labels)
    f1s = [m["macro_f1"] for m in (scale, movement) if m["macro_f1"] is not None]
    return {"scale": scale, "movement": movement, "mean_macro_f1": float(np.mean(f1s)) if f1s else None}


def flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Scalars for loggers: scale_accuracy, scale_macro_f1, ..., mean_macro_f1."""
    flat = {}
    for task in ("scale", "movement"):
        for key in ("accuracy", "macro_f1"):
            value = metrics[task].get(key)
            if value is not None:
                flat[f"{task}_{key}"] = float(value)
    if metrics.get("mean_macro_f1") is not None:
        flat["mean_macro_f1"] = float(metrics["mean_macro_f1"])
    return flat
