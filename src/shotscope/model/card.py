"""The README.md (model card) written into every model folder shotscope saves, through
huggingface_hub's ``ModelCard``: licence, base model, pipeline tag, datasets and a
``model-index`` with the validation metrics, so the hub shows them as it shows any model's."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from ..files import atomic_write_text
from ..version import __version__

PROJECT_LICENSE = "apache-2.0"
# licences of backbones people start from; a model fine-tuned from one inherits its terms
BACKBONE_LICENSES = {"MCG-NJU/videomae-base-finetuned-kinetics": "cc-by-nc-4.0",
                     "MCG-NJU/videomae-base": "cc-by-nc-4.0", "MCG-NJU/videomae-large": "cc-by-nc-4.0"}
MOVIESHOTS_DATASET = "MovieNet/MovieShots"


def _counts(records: list[Any], attr: str) -> str:
    c = Counter(getattr(r, attr) for r in records if getattr(r, attr) is not None)
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"


def card_metadata(cfg: dict, metrics: dict[str, Any] | None = None):
    """``ModelCardData`` for a training run: the backbone's licence when there is one (unknown
    backbones: 'other', to be checked), the project's when trained from scratch."""
    from huggingface_hub import EvalResult, ModelCardData

    model = cfg.get("model", {})
    base = model.get("init") or model.get("backbone")
    if model.get("backbone") and not model.get("init"):
        license_ = BACKBONE_LICENSES.get(model["backbone"], "other")
    elif base:
        license_ = "other"  # continued from a shotscope model: its own card says its terms
    else:
        license_ = PROJECT_LICENSE
    data = cfg.get("data", {})
    movieshots = data.get("kind") == "movieshots"
    dataset_name = MOVIESHOTS_DATASET if movieshots else "own clips (manifest)"
    results = []
    for task in ("scale", "movement"):
        for key, name in (("accuracy", "accuracy"), ("macro_f1", "f1")):
            value = (metrics or {}).get(f"eval_{task}_{key}")
            if value is not None:
                results.append(EvalResult(
                    task_type="video-classification", task_name=f"shot {task}", dataset_type=dataset_name,
                    dataset_name=dataset_name, dataset_split=data.get("val_split") if movieshots else "validation",
                    metric_type=name, metric_name=f"{task} {key.replace('_', '-')}", metric_value=round(float(value), 2)))
    return ModelCardData(
        library_name="shotscope", license=license_, base_model=base if isinstance(base, str) and "/" in base else None,
        pipeline_tag="video-classification", datasets=[MOVIESHOTS_DATASET] if movieshots else None,
        tags=["video-classification", "shot-scale", "camera-movement", "videomae", "shotscope"],
        model_name=Path(cfg.get("output_dir", "shotscope-model")).name, eval_results=results or None)


def write_model_card(model_dir: str | Path, cfg: dict, metrics: dict[str, Any],
                     train_records: list[Any], val_records: list[Any]) -> Path:
    """Metrics table, the data the model was trained on (its clip records: their scale and movement
    labels are counted), and the training config."""
    from huggingface_hub import ModelCard

    model_dir = Path(model_dir)
    rows = []
    for task in ("scale", "movement"):
        acc = metrics.get(f"eval_{task}_accuracy")
        f1 = metrics.get(f"eval_{task}_macro_f1")
        if acc is not None:
            rows.append(f"| {task} | {acc:.2f} | {f1:.2f} |")
    data = cfg.get("data", {})
    meta = card_metadata(cfg, metrics)
    source = data.get("root") if data.get("kind") == "movieshots" else f"{data.get('train')} / {data.get('val')}"
    terms = ("Fine-tuned from a CC BY-NC 4.0 backbone: the weights inherit its non-commercial terms."
             if meta.license == "cc-by-nc-4.0" else
             "Trained from scratch with shotscope (Apache-2.0)." if meta.license == PROJECT_LICENSE else
             "Check the terms of the model this one started from.")
    body = f"""
# shotscope model

Two-head VideoMAE (shot scale: ECS, CS, MS, FS, LS; camera movement: Static, Motion, Pull, Push),
trained with shotscope {__version__}. Load it with `shotscope.load_model("{model_dir.name}")`, or with
`pipeline("shot-classification", model="{model_dir.name}")` after `import shotscope`.

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

## Licence

{terms}
"""
    card = ModelCard.from_template(meta, template_str="---\n{{ card_data }}\n---\n" + body)
    path = model_dir / "README.md"
    atomic_write_text(path, str(card))
    return path


def write_basic_card(model_dir: str | Path, model: Any) -> Path | None:
    """A short card (labels, size, origin) for a model folder that has none yet."""
    from huggingface_hub import ModelCard, ModelCardData

    path = Path(model_dir) / "README.md"
    if path.exists():
        return None
    cfg = model.config
    meta = ModelCardData(library_name="shotscope", pipeline_tag="video-classification",
                         tags=["video-classification", "shot-scale", "camera-movement", "videomae", "shotscope"])
    body = f"""
# shotscope model

Two-head VideoMAE saved by shotscope {__version__}; origin: {model.source or "unknown"}.

- scale labels: {", ".join(cfg.scale_labels)}
- movement labels: {", ".join(cfg.movement_labels)}
- {cfg.num_frames} frames, {model.image_size} px, hidden size {cfg.hidden_size}, {cfg.num_hidden_layers} layers

No metrics recorded: evaluate it with `shotscope evaluate -m DIR --data DATA`. Its licence follows
the weights it came from.
"""
    atomic_write_text(path, str(ModelCard.from_template(meta, template_str="---\n{{ card_data }}\n---\n" + body)))
    return path
