"""The README.md (model card) written into every model folder shotscope saves."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from . import __version__
from .data.records import ClipRecord
from .files import atomic_write_text


def _counts(records: list[ClipRecord], attr: str) -> str:
    c = Counter(getattr(r, attr) for r in records if getattr(r, attr) is not None)
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"


def write_model_card(model_dir: str | Path, cfg: dict, metrics: dict[str, Any],
                     train_records: list[ClipRecord], val_records: list[ClipRecord]) -> Path:
    """Metrics table, the data the model was trained on, and the training config."""
    model_dir = Path(model_dir)
    rows = []
    for task in ("scale", "movement"):
        acc = metrics.get(f"eval_{task}_accuracy")
        f1 = metrics.get(f"eval_{task}_macro_f1")
        if acc is not None:
            rows.append(f"| {task} | {acc:.2f} | {f1:.2f} |")
    data = cfg.get("data", {})
    source = data.get("root") if data.get("kind") == "movieshots" else f"{data.get('train')} / {data.get('val')}"
    text = f"""---
library_name: shotscope
tags: [video-classification, shot-scale, camera-movement, videomae]
license: cc-by-nc-4.0
---

# shotscope model

Two-head VideoMAE (shot scale: ECS, CS, MS, FS, LS; camera movement: Static, Motion, Pull, Push),
trained with shotscope {__version__}. Load it with `shotscope.load_model("{model_dir.name}")`.

## Validation metrics

| task | accuracy | macro-F1 |
|---|---|---|
{chr(10).join(rows) or "| (not evaluated) | | |"}

## Data

- kind: {data.get("kind")}; source: {source}
- train: {len(train_records)} clips (scale: {_counts(train_records, "scale_label")}; movement: {_counts(train_records, "movement_label")})
- validation: {len(val_records)} clips

## Training config

```yaml
{yaml.safe_dump(cfg, sort_keys=False).strip()}
```

Weights fine-tuned from a CC BY-NC 4.0 backbone inherit its non-commercial terms.
"""
    path = model_dir / "README.md"
    atomic_write_text(path, text)
    return path


def write_basic_card(model_dir: str | Path, model: Any) -> Path | None:
    """A short card (labels, size, origin) for a model folder that has none yet."""
    path = Path(model_dir) / "README.md"
    if path.exists():
        return None
    cfg = model.config
    text = f"""---
library_name: shotscope
tags: [video-classification, shot-scale, camera-movement, videomae]
---

# shotscope model

Two-head VideoMAE saved by shotscope {__version__}; origin: {model.source or "unknown"}.

- scale labels: {", ".join(cfg.scale_labels)}
- movement labels: {", ".join(cfg.movement_labels)}
- {cfg.num_frames} frames, {model.image_size} px, hidden size {cfg.hidden_size}, {cfg.num_hidden_layers} layers

No metrics recorded: evaluate it with `shotscope evaluate --model DIR --data DATA`.
"""
    atomic_write_text(path, text)
    return path
