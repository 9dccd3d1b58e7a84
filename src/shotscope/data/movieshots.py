"""MovieShots as the MovieNet team distributes it.

``v1_full_trailer.json`` (labels), ``v1_split_trailer.json`` (train/val/test) and
``trailer/<imdb_id>/shot_<NNNN>.mp4``. Labels are mapped by their string, never by the
``value`` integers; ``Multi_movement`` becomes Motion unless told otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import DataError
from ..labels import IGNORE_INDEX, MOVEMENT_ALIASES, MOVEMENT_LABELS, SCALE_LABELS
from .records import ClipRecord, LoadReport

LABEL_FILE = "v1_full_trailer.json"
SPLIT_FILE = "v1_split_trailer.json"
V2_FILE = "v2_full_trailer.json"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except ValueError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None


def _label_id(entry: object, names: tuple[str, ...], aliases: dict[str, str], where: str) -> int:
    if not isinstance(entry, dict) or "label" not in entry:
        return IGNORE_INDEX
    name = aliases.get(entry["label"], entry["label"])
    if name not in names:
        raise DataError(f"{where}: unknown label {entry['label']!r} (expected one of {', '.join(names)})")
    return names.index(name)


def read_movieshots(
    root: str | Path,
    split: str = "train",
    *,
    label_file: str | Path | None = None,
    split_file: str | Path | None = None,
    include_v2: bool = True,
    movement_aliases: dict[str, str] | None = None,
) -> tuple[list[ClipRecord], LoadReport]:
    """The clips of one split. Missing clips are counted, the first few named, and skipped."""
    root = Path(root)
    aliases = MOVEMENT_ALIASES if movement_aliases is None else movement_aliases
    labels_path = Path(label_file) if label_file else root / LABEL_FILE
    labels = _read_json(labels_path)
    v2_path = root / V2_FILE
    if include_v2 and v2_path.is_file():
        for imdb, shots in _read_json(v2_path).items():
            labels.setdefault(imdb, {}).update(shots)
    splits = _read_json(Path(split_file) if split_file else root / SPLIT_FILE)
    if split not in splits:
        raise DataError(f"{split_file or root / SPLIT_FILE}: no split {split!r} (has {', '.join(splits)})")
    report = LoadReport()
    records: list[ClipRecord] = []
    for imdb, shot_ids in splits[split].items():
        for shot in shot_ids:
            shot = str(shot).zfill(4)
            entry = labels.get(imdb, {}).get(shot)
            key = f"{imdb}/{shot}"
            if entry is None:
                report.skip(f"{key}: no labels")
                continue
            where = f"{labels_path}: {key}"
            scale = _label_id(entry.get("scale"), SCALE_LABELS, {}, where)
            movement = _label_id(entry.get("movement"), MOVEMENT_LABELS, aliases, where)
            if scale == IGNORE_INDEX and movement == IGNORE_INDEX:
                report.skip(f"{key}: neither task labelled")
                continue
            clip = root / "trailer" / imdb / f"shot_{shot}.mp4"
            if not clip.is_file():
                report.skip(f"{key}: clip missing ({clip.relative_to(root)})")
                continue
            records.append(ClipRecord(str(clip), scale, movement, key=key))
    report.kept = len(records)
    return records, report
