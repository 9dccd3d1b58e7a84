"""Archives: many films, each into its own folder; resumable, sharded, every failure recorded.

Guarantees (docs/reliability.md):

- A film's folder changes as one unit: it is built aside and swapped in with one rename, so it
  is always wholly the old result or wholly the new one, whatever stops the run.
- A stored result is reused only when its ``provenance.json`` says it was made from the same
  film, model, settings and shotscope version; otherwise the film is analysed again and the
  reason is said.
- ``errors.json`` holds every film that failed (merged across runs and shards, updated after
  each film, so a kill loses nothing); ``runs.json`` one entry per run. Neither write can stop
  a run: if the output folder turns read-only or full, the failures are still reported.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import logging
import os
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..console import no_bar
from ..errors import DataError, describe_failure
from ..files import ensure_dir, recover_dir
from ..provenance import film_fingerprint, make_provenance, read_provenance, why_stale
from ..video.decode import FOLDER_SUFFIXES
from .jobs import BatchResult, FilmJob, finish_job, run_job, written_by
from .records import ERRORS_FILE, RUNS_FILE, RunRecord  # noqa: F401 - the record files, named for callers

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = FOLDER_SUFFIXES  # searched for in folders given to analyze (video.decode)


def expand_inputs(items: list[str], missing: dict[str, str] | None = None) -> list[Path]:
    """Files, directories (searched recursively for videos) and globs, sorted, without duplicates, as
    absolute paths.

    Inputs that name nothing (a missing path, an empty directory, a glob matching nothing) are
    put in ``missing`` with the reason when it is given."""
    found: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            videos = sorted(q for q in p.rglob("*") if q.suffix.lower() in VIDEO_SUFFIXES and q.is_file())
            if not videos and missing is not None:
                missing[item] = f"{item}: no video files in this directory ({', '.join(sorted(VIDEO_SUFFIXES))})"
            found += videos
        elif any(c in item for c in "*?[") and not p.exists():
            matches = sorted(Path(g) for g in glob.glob(item, recursive=True) if Path(g).is_file())
            if not matches and missing is not None:
                missing[item] = f"{item}: the pattern matches no file"
            found += matches
        elif not p.exists() and missing is not None:
            missing[item] = f"{item}: no such file"
        else:
            found.append(p)
    seen, out = set(), []
    for p in found:  # absolute and normalised (no ../); one film given by two spellings (or a link) once
        p = Path(os.path.abspath(p))
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def output_dir_for(film: Path, out: Path) -> Path:
    """``out/<stem>-<8 hex of the full path>``: distinct folders for films of the same name."""
    digest = hashlib.sha1(str(film.resolve()).encode()).hexdigest()[:8]
    return out / f"{film.stem[:80]}-{digest}"


def parse_shard(text: str | None) -> tuple[int, int]:
    """``i/n`` (0 <= i < n); without it, RANK / WORLD_SIZE from torchrun or accelerate, else 0/1."""
    if not text:
        try:
            rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
        except ValueError:
            raise DataError("RANK and WORLD_SIZE must be whole numbers") from None
        text = f"{rank}/{world}"
    parts = str(text).split("/")
    try:
        i, n = (int(x) for x in parts)
    except ValueError:
        raise DataError(f"shard {text!r}: expected i/n, e.g. 0/4") from None
    if not 0 <= i < n:
        raise DataError(f"shard {text!r}: expected i/n with 0 <= i < n")
    return i, n


def check_output_dir(out: str | os.PathLike) -> Path:
    """Create ``out`` if needed and prove a file can be made in it, before any work starts."""
    return ensure_dir(out, "output folder", probe=True)


@dataclass
class ArchiveRun:
    """The films of a run split into jobs to do and results to reuse; the run's record open."""

    jobs: list[FilmJob]
    result: BatchResult
    record: RunRecord
    settings: Any
    detector: Any


def plan_archive(inputs: list[str], out: str | os.PathLike, model=None, *, settings=None, detector: Any = "adaptive",
                 force: bool = False, shard: str | None = None) -> ArchiveRun:
    """Everything before the films' work: outputs checked, inputs expanded (names that find no film
    recorded), stored results compared with what this run would make (reused, or redone saying why)."""
    from ..analysis.results import resolve_settings
    from ..video.cuts import make_detector

    out = check_output_dir(out)
    rank, world = parse_shard(shard)
    missing: dict[str, str] = {}
    films = expand_inputs(inputs, missing)
    if not films:
        raise DataError("no video files to analyse: " + "; ".join(missing.values()))
    films = films[rank::world]
    settings = resolve_settings(model, settings)
    det = make_detector(detector) if isinstance(detector, str) else detector
    record_settings = {"analyze": asdict(settings), "detector": det.settings()}
    result = BatchResult()
    record = RunRecord(out, len(films), record_settings)
    for item, reason in missing.items():
        result.errors[item] = reason
        record.failed(item, reason)
    jobs = []
    for film in films:
        target = output_dir_for(film, out)
        try:
            recover_dir(target)
            current = make_provenance(film, model, record_settings, film_fingerprint(film))
        except Exception as exc:  # e.g. a film that vanished or cannot be read
            finish_job(result, record, FilmJob(film, target, {}), error=describe_failure(exc, film))
            continue
        if target.is_dir() and not force:
            why = why_stale(read_provenance(target), current)
            if why is None:
                result.skipped.append(film)
                record.finished(str(film), reused=True, folder=target)
                continue
            result.redone[str(film)] = why
            log.info("%s: analysing again: %s", film, why)
        jobs.append(FilmJob(film, target, current))
    return ArchiveRun(jobs, result, record, settings, det)


def analyze_many(inputs: list[str], out: str | os.PathLike, model=None, *, settings=None,
                 detector: Any = "adaptive", force: bool = False, shard: str | None = None,
                 progress: bool | None = None, ray: str | None = None) -> BatchResult:
    """Analyse each film into ``out/<name>/``. A stored result made from the same film, model and
    settings is reused unless ``force``; any failure of one film is recorded and the rest go on.
    ``ray``: run the films as tasks on a Ray cluster (an address, or "local" for a cluster on this
    machine; see :mod:`shotscope.runs.distributed`). Raises :class:`DataError` before any work when the
    output folder is unusable or no input names a film."""
    from tqdm import tqdm

    plan = plan_archive(inputs, out, model, settings=settings, detector=detector, force=force, shard=shard)
    result, record = plan.result, plan.record
    status = "interrupted"
    try:
        if ray is not None:
            from .distributed import run_on_ray

            run_on_ray(plan, model, address=ray, progress=progress)
        else:
            with tqdm(plan.jobs, desc="films", unit="film", disable=no_bar(progress), position=0) as bar, \
                    _interrupt_watch() as interrupted:
                for job in bar:
                    if interrupted():  # a Ctrl-C that Python lost (raised inside a finaliser): stop here
                        raise KeyboardInterrupt
                    bar.set_postfix_str(job.film.name[:30], refresh=False)
                    try:
                        try:
                            integrity = run_job(job, model, plan.settings, plan.detector, progress)
                        except Exception as exc:  # one film's failure, whatever it is, never stops the archive
                            log.debug("%s failed:\n%s", job.film, traceback.format_exc())
                            finish_job(result, record, job, error=describe_failure(exc, job.film))
                            continue
                        finish_job(result, record, job, integrity)
                    except KeyboardInterrupt:  # it may fall between the film's folder swapped in and its count
                        if job.target not in result.done and written_by(job, record):
                            finish_job(result, record, job)
                        raise
        status = "done"
    finally:
        record.close(status)
        result.record_problems = record.write_problems
    return result


@contextlib.contextmanager
def _interrupt_watch() -> Iterator[Any]:
    """Ctrl-C as usual (KeyboardInterrupt where the program is), and also remembered: Python drops
    an exception raised while a finaliser or a callback from C runs, so the batch asks between films
    too. Outside the main thread (where no handler can be set) it only ever says no."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    seen: list[bool] = []

    def on_interrupt(signum, frame):
        seen.append(True)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield lambda: bool(seen)
    finally:
        signal.signal(signal.SIGINT, previous)
