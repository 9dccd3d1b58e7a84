"""The run records of an output folder: ``errors.json`` (every film that failed, merged across
runs and shards) and ``runs.json`` (a line a run); and the archive database kept in step."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..files import atomic_write_text

log = logging.getLogger(__name__)

ERRORS_FILE = "errors.json"
RUNS_FILE = "runs.json"


def now() -> str:
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
        self.entry: dict[str, Any] = {"run": self.id, "started": now(), "status": "running", "films": films,
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
                        errors[film] = {"error": reason, "time": now(), "run": self.id}
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
        self.entry.update(status=status, ended=now())
        self._update(runs=True)
