"""Archives: many films, each into its own folder; resumable, sharded, bad files reported."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .analysis import AnalyzeSettings, analyze
from .errors import ShotscopeError
from .files import atomic_write_text
from .writers import write_outputs

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".mxf", ".wmv", ".flv"}


def expand_inputs(items: list[str]) -> list[Path]:
    """Files, directories (searched recursively for videos) and globs, sorted, without duplicates."""
    found: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found += sorted(q for q in p.rglob("*") if q.suffix.lower() in VIDEO_SUFFIXES and q.is_file())
        elif any(c in item for c in "*?["):
            found += sorted(Path(g) for g in glob.glob(item, recursive=True))
        else:
            found.append(p)
    seen, out = set(), []
    for p in found:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def output_dir_for(film: Path, out: Path) -> Path:
    """``out/<stem>-<8 hex of the full path>``: distinct folders for films of the same name."""
    digest = hashlib.sha1(str(film.resolve()).encode()).hexdigest()[:8]
    return out / f"{film.stem[:80]}-{digest}"


def parse_shard(text: str | None) -> tuple[int, int]:
    if not text:
        rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
        return rank, world
    i, n = (int(x) for x in text.split("/"))
    if not 0 <= i < n:
        raise ValueError(f"--shard {text}: expected i/n with 0 <= i < n")
    return i, n


@dataclass
class BatchResult:
    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def analyze_many(inputs: list[str], out: str | os.PathLike, model=None, *, settings: AnalyzeSettings | None = None,
                 detector: str = "adaptive", force: bool = False, shard: str | None = None,
                 progress: bool = True) -> BatchResult:
    """Analyse each film into ``out/<name>/``; finished films (with shots.json) are skipped unless
    ``force``; a bad file goes into ``errors.json`` and the rest go on."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    films = expand_inputs(inputs)
    rank, world = parse_shard(shard)
    films = films[rank::world]
    result = BatchResult()
    errors_path = out / (f"errors-{rank}.json" if world > 1 else "errors.json")
    for film in tqdm(films, desc="films", unit="film", disable=not progress):
        target = output_dir_for(film, out)
        if not force and (target / "shots.json").is_file():
            result.skipped.append(film)
            continue
        try:
            analysis = analyze(film, model, detector=detector, settings=settings, progress=progress)
            write_outputs(analysis, target)
            result.done.append(target)
        except (ShotscopeError, ValueError, OSError) as exc:
            result.errors[str(film)] = str(exc)
    atomic_write_text(errors_path, json.dumps(result.errors, indent=2))
    return result
