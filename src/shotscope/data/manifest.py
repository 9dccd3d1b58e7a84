"""Manifests for people's own clips: CSV or JSON lines with path, scale, movement[, start, end]."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from ..errors import DataError
from ..files import atomic_write_text, read_text_any_encoding
from ..labels import IGNORE_INDEX, MOVEMENT_ALIASES, MOVEMENT_LABELS, SCALE_LABELS
from .records import ClipRecord, LoadReport

FIELDS = ("path", "scale", "movement", "start", "end")


def _rows(path: Path) -> list[tuple[int, dict]]:
    text = read_text_any_encoding(path)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        stripped = text.lstrip()
        if stripped.startswith("["):  # a JSON array of objects
            try:
                items = json.loads(text)
            except ValueError as exc:
                raise DataError(f"{path}: not valid JSON ({exc})") from None
            rows = list(enumerate(items, 1))
        else:
            rows = []
            for n, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        rows.append((n, json.loads(line)))
                    except ValueError as exc:
                        raise DataError(f"{path}:{n}: not valid JSON ({exc})") from None
        for n, row in rows:
            if not isinstance(row, dict):
                raise DataError(f"{path}:{n}: expected an object like {{\"path\": ..., \"scale\": ...}}, "
                                f"got {type(row).__name__}")
        return rows
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in reader.fieldnames or []]
    if "path" not in fields:
        raise DataError(f"{path}: a manifest needs a header with a 'path' column (found: {', '.join(fields) or 'none'})")
    reader.fieldnames = fields
    return [(n, row) for n, row in enumerate(reader, 2)]


def _label(value: object, names: tuple[str, ...], aliases: dict[str, str], where: str, column: str) -> int:
    if value is None or str(value).strip() == "":
        return IGNORE_INDEX
    name = aliases.get(str(value).strip(), str(value).strip())
    if name not in names:
        raise DataError(f"{where}: unknown {column} label {value!r} (expected one of {', '.join(names)})")
    return names.index(name)


def _seconds(value: object, where: str, column: str) -> float | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {column} must be seconds, got {value!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise DataError(f"{where}: {column} must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def read_manifest(path: str | Path, *, skip_bad: bool = False,
                  movement_aliases: dict[str, str] | None = None) -> tuple[list[ClipRecord], LoadReport]:
    """Read a manifest. Paths are relative to its folder. A bad line is an error naming the line
    and the value, or with ``skip_bad`` a skip counted in the report. ``movement_aliases`` maps
    other movement names (default: Multi_movement -> Motion)."""
    path = Path(path)
    aliases = MOVEMENT_ALIASES if movement_aliases is None else movement_aliases
    report = LoadReport()
    records = []
    for n, row in _rows(path):
        where = f"{path}:{n}"
        try:
            if not row.get("path") or not isinstance(row["path"], str):
                raise DataError(f"{where}: missing or empty path")
            clip = Path(row["path"])
            clip = clip if clip.is_absolute() else path.parent / clip
            try:
                found = clip.is_file()
            except (OSError, ValueError) as exc:
                raise DataError(f"{where}: unusable path {row['path']!r} ({exc})") from None
            if not found:
                raise DataError(f"{where}: clip not found: {row['path']}")
            scale = _label(row.get("scale"), SCALE_LABELS, {}, where, "scale")
            movement = _label(row.get("movement"), MOVEMENT_LABELS, aliases, where, "movement")
            start, end = _seconds(row.get("start"), where, "start"), _seconds(row.get("end"), where, "end")
            if start is not None and end is not None and end <= start:
                raise DataError(f"{where}: end {end} is not after start {start}")
        except DataError as exc:
            if not skip_bad:
                raise
            report.skip(str(exc))
            continue
        records.append(ClipRecord(str(clip), scale, movement, start, end, key=str(row["path"])))
    report.kept = len(records)
    return records, report


def write_manifest(path: str | Path, records: list[ClipRecord]) -> Path:
    """Write a CSV manifest (paths relative to its folder where possible), atomically."""
    path = Path(path)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for r in records:
        clip = Path(r.path)
        try:
            clip = clip.resolve().relative_to(path.parent.resolve())
        except ValueError:
            pass
        writer.writerow([clip.as_posix(), r.scale_label or "", r.movement_label or "",
                         "" if r.start is None else r.start, "" if r.end is None else r.end])
    atomic_write_text(path, out.getvalue())
    return path
