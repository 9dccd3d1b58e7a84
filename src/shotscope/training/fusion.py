"""Fitting the movement combiner (:class:`shotscope.sources.fusion.MovementFusion`) on labelled
clips, and how well it does on clips it was not fitted on."""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import DataError
from ..labels import MOVEMENT_LABELS
from ..sources.fusion import MovementFusion


def fit_fusion(model, records, *, progress: bool | None = None, batch_size: int = 8,
               folds: int = 5) -> tuple[MovementFusion, dict]:
    """Fit the combiner on labelled clips (validation data). Returns it and the movement accuracy
    of model / geometry / fused, the fused figure cross-validated (``folds``-fold, stratified):
    each clip is scored by a combiner fitted without it."""
    from sklearn.model_selection import StratifiedKFold

    from .evaluation import predict_records

    preds = predict_records(model, [r for r in records if r.movement >= 0], progress=progress,
                            batch_size=batch_size, movement="model", geometry=True)
    labels = np.array([r.movement for r in preds.records])
    if len(set(labels.tolist())) < 2:
        raise DataError("fitting the movement combiner needs labelled clips of at least two movement classes")
    net, ests = preds.network_movement_probs, preds.estimates
    fusion = MovementFusion.fit(net, ests, labels, num_classes=len(MOVEMENT_LABELS))
    k = min(folds, int(np.bincount(labels).max()))
    held_out = np.full(len(labels), -1)
    if k >= 2:
        with warnings.catch_warnings():  # a class rarer than k: sklearn warns, the folds still work
            warnings.simplefilter("ignore", UserWarning)
            splits = list(StratifiedKFold(k, shuffle=True, random_state=0).split(net, labels))
        for train_idx, test_idx in splits:
            if len(set(labels[train_idx].tolist())) < 2:
                continue
            part = MovementFusion.fit(net[train_idx], [ests[i] for i in train_idx], labels[train_idx])
            for i in test_idx:
                held_out[i] = int(part.combine(net[i], ests[i]).argmax())
    scored = held_out >= 0
    geo = np.array([MOVEMENT_LABELS.index(e.label) for e in ests])
    report = {"clips": len(labels), "model": float((net.argmax(-1) == labels).mean()),
              "geometry": float((geo == labels).mean()),
              "fused": float((held_out[scored] == labels[scored]).mean()) if scored.any() else None,
              "folds": k if k >= 2 else 0}
    return fusion, report
