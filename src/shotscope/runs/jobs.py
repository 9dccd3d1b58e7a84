"""One film of a run, the seam every runner uses (this machine's loop, Ray's tasks): its job (where
its folder goes, what made it), running it (analyse, write the folder, swap it in), and recording
its outcome in the run's result and record."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import atomic_write_text, new_temp_dir, swap_in_dir
from ..provenance import PROVENANCE_FILE, file_sha256, read_provenance, why_stale
from .records import RunRecord, now


@dataclass
class BatchResult:
    done: list[Path] = field(default_factory=list)  # folders written by this run
    skipped: list[Path] = field(default_factory=list)  # films whose stored result was reused
    errors: dict[str, str] = field(default_factory=dict)  # film -> reason
    flagged: dict[str, str] = field(default_factory=dict)  # film -> what is wrong with it (damaged, truncated)
    redone: dict[str, str] = field(default_factory=dict)  # film -> why its stored result was not reused
    record_problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if (self.errors or self.record_problems) else 0


def write_film_folder(analysis: Any, target: Path, provenance: dict[str, Any]) -> None:
    """All of a film's files into a folder built aside, ``provenance.json`` (with a hash of every
    other file) last, then swapped in for the old folder in one step."""
    from ..outputs.writers import write_outputs

    tmp = new_temp_dir(target)
    try:
        files = write_outputs(analysis, tmp)
        provenance = {**provenance, "written": now(),
                      "files": {p.name: file_sha256(p) for p in sorted(files.values())}}
        atomic_write_text(tmp / PROVENANCE_FILE, json.dumps(provenance, indent=2, ensure_ascii=False))
        swap_in_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@dataclass
class FilmJob:
    """One film to analyse: where its folder goes and what made it (written into the folder)."""

    film: Path
    target: Path
    provenance: dict[str, Any]


def run_job(job: FilmJob, model, settings, detector, progress: bool | None = False) -> dict[str, Any]:
    """Analyse one film and swap its folder in; returns its integrity record. Raises on failure."""
    from ..analysis.film import analyze

    analysis = analyze(job.film, model, detector=detector, settings=settings, progress=progress)
    write_film_folder(analysis, job.target, job.provenance)
    return analysis.integrity


def written_by(job: FilmJob, record: RunRecord) -> bool:
    """Whether the film folder in place is the one ``record``'s run wrote for ``job``: made from the
    same film, model and settings, and written since the run started."""
    stored = read_provenance(job.target)
    return (stored is not None and str(stored.get("written", "")) >= record.entry["started"]
            and why_stale(stored, job.provenance) is None)


def finish_job(result: BatchResult, record: RunRecord, job: FilmJob, integrity: dict[str, Any] | None = None,
               error: str | None = None) -> None:
    """Record one film's outcome in the run's result and record."""
    film = str(job.film)
    if error is not None:
        result.errors[film] = error
        record.failed(film, error)
        return
    if integrity and integrity.get("status") != "ok":
        result.flagged[film] = integrity.get("summary", integrity.get("status"))
    result.done.append(job.target)
    record.finished(film, flagged=film in result.flagged, folder=job.target)
