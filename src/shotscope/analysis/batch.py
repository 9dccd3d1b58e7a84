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
import datetime as _dt
import glob
import hashlib
import json
import logging
import os
import shutil
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, describe_failure
from ..files import atomic_write_text, ensure_dir, new_temp_dir, recover_dir, swap_in_dir
from ..provenance import (
    PROVENANCE_FILE,
    file_sha256,
    film_fingerprint,
    make_provenance,
    read_provenance,
    why_stale,
)

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".mxf", ".wmv", ".flv"}
ERRORS_FILE = "errors.json"
RUNS_FILE = "runs.json"


def expand_inputs(items: list[str], missing: dict[str, str] | None = None) -> list[Path]:
    """Files, directories (searched recursively for videos) and globs, sorted, without duplicates.

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


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """An exclusive lock on the output folder's records (shards and Ray workers share them)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fh = open(out / ".shotscope.lock", "a+b")  # noqa: SIM115 - held for the block
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
    finally:
        fh.close()


class RunRecord:
    """``errors.json`` (films that failed, merged with earlier runs) and ``runs.json`` (a line a
    run); updated under a lock and written atomically. A write that fails is remembered, never
    raised: the run goes on and reports it."""

    def __init__(self, out: Path, films: int, settings: dict[str, Any] | None = None):
        self.out = out
        self.id = uuid.uuid4().hex[:12]
        self.entry: dict[str, Any] = {"run": self.id, "started": _now(), "status": "running", "films": films,
                                      "done": 0, "reused": 0, "failed": 0, "flagged": 0, "settings": settings}
        self.write_problems: list[str] = []
        self.archive = None
        self._update(runs=True)

    def _read(self, name: str, default: Any) -> Any:
        path = self.out / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return default
        except (OSError, ValueError) as exc:
            aside = path.with_name(f"{name}.unreadable-{self.id}")
            with contextlib.suppress(OSError):
                os.replace(path, aside)
            log.warning("%s was unreadable (%s); kept as %s, starting a new one", path, exc, aside.name)
            return default
        return data if isinstance(data, type(default)) else default

    def _update(self, failed: dict[str, str] | None = None, cleared: list[str] | None = None,
                runs: bool = False) -> None:
        try:
            with _locked(self.out):
                if failed or cleared:
                    errors = self._read(ERRORS_FILE, {})
                    for film in cleared or []:
                        errors.pop(film, None)
                    for film, reason in (failed or {}).items():
                        errors[film] = {"error": reason, "time": _now(), "run": self.id}
                    atomic_write_text(self.out / ERRORS_FILE, json.dumps(errors, indent=2, ensure_ascii=False))
                if runs:
                    history = self._read(RUNS_FILE, [])
                    history = [r for r in history if not (isinstance(r, dict) and r.get("run") == self.id)]
                    history.append(self.entry)
                    atomic_write_text(self.out / RUNS_FILE, json.dumps(history, indent=2, ensure_ascii=False))
        except OSError as exc:
            problem = f"{self.out}: could not update the run record ({exc.strerror or exc})"
            if problem not in self.write_problems:
                self.write_problems.append(problem)

    def failed(self, film: str, reason: str) -> None:
        self.entry["failed"] += 1
        self._update(failed={film: reason})

    def finished(self, film: str, reused: bool = False, flagged: bool = False, folder: Path | None = None) -> None:
        self.entry["reused" if reused else "done"] += 1
        self.entry["flagged"] += int(flagged)
        self._update(cleared=[film])
        if folder is not None:
            self._index(folder)

    def _index(self, folder: Path) -> None:
        """The film's results into the archive database (shotscope.db); a failure is remembered."""
        from ..archive.database import Archive

        try:
            if self.archive is None:
                self.archive = Archive(self.out)
            self.archive.add_film(folder)
        except Exception as exc:  # a locked or broken database must not stop the films
            problem = f"{self.out}: could not update the archive database ({exc}); rebuild it with shotscope index"
            if problem not in self.write_problems:
                self.write_problems.append(problem)

    def close(self, status: str) -> None:
        self.entry.update(status=status, ended=_now())
        self._update(runs=True)


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
        provenance = {**provenance, "written": _now(),
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
    from ..video.cuts import make_detector
    from .film import resolve_settings

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


def run_job(job: FilmJob, model, settings, detector, progress: bool | None = False) -> dict[str, Any]:
    """Analyse one film and swap its folder in; returns its integrity record. Raises on failure."""
    from .film import analyze

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


def analyze_many(inputs: list[str], out: str | os.PathLike, model=None, *, settings=None,
                 detector: Any = "adaptive", force: bool = False, shard: str | None = None,
                 progress: bool | None = None, ray: str | None = None) -> BatchResult:
    """Analyse each film into ``out/<name>/``. A stored result made from the same film, model and
    settings is reused unless ``force``; any failure of one film is recorded and the rest go on.
    ``ray``: run the films as tasks on a Ray cluster (an address, or "local" for a cluster on this
    machine; see :mod:`shotscope.analysis.distributed`). Raises :class:`DataError` before any work when the
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
            with tqdm(plan.jobs, desc="films", unit="film", disable=_no_bar(progress), position=0) as bar, \
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


def _no_bar(progress: bool | None) -> bool | None:
    """tqdm's ``disable``: None shows a bar only on a terminal; True/False force it."""
    return None if progress is None else not progress
