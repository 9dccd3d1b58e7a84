"""The archive database: ``OUT/shotscope.db`` (SQLite, WAL), kept in step with the film folders.

Tables: ``films`` (one row per film folder: where it is, what the film is, model and settings,
statistics, status), ``shots`` (times, frames, both labels with all probabilities, movement
source, short flag, motion evidence), ``corrections`` (shot by film folder and index, so they
survive a rebuild; field, old and new value, when, note), ``meta`` (the schema version). The schema is versioned; :data:`MIGRATIONS` brings an
older database up to date. ``shotscope index DIR`` rebuilds it from the folders (older results,
moved archives); analyze adds each film as it is written.

From Python, shots, films and statistics come as pandas DataFrames::

    archive = shotscope.Archive("results/")
    archive.shots(scale="CS", movement="Push", min_duration=2.0)
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from ..errors import DataError
from . import corrections, ingest, migrations, queries, videos
from .ingest import IndexReport
from .schema import DB_FILE, connect, database_error, guarded, pandas_database_error


class Archive:
    """An analysed archive (a folder ``analyze -o`` wrote) and its database.

    ``read_only``: nothing is written, not a byte (read-only media, ``serve --read-only``): the
    database is opened read-only, through the write-ahead log while another program writes to it,
    else as an immutable file; an older schema is not migrated but refused."""

    def __init__(self, folder: str | os.PathLike, create: bool = True, read_only: bool = False):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DataError(f"{self.folder}: no such archive folder (the -o folder of shotscope analyze)")
        self.path = self.folder / DB_FILE
        self.read_only = read_only
        self.checked_videos: dict[tuple, str] = {}  # film_video's checks, by the file's state
        if (read_only or not create) and not self.path.exists():
            raise DataError(f"{self.path}: no archive database here; build it with `shotscope index {self.folder}`")
        try:
            self._migrate()
        except (sqlite3.Error, pandas_database_error()) as exc:
            raise database_error(self.path, exc) from None

    def connect(self) -> sqlite3.Connection:
        return connect(self.path, self.read_only)

    def _migrate(self) -> None:
        migrations.migrate(self)

    @classmethod
    def rebuild(cls, folder: str | os.PathLike) -> tuple[Archive, Path | None, int]:
        """A new database for a damaged one (``index --rebuild``); see :func:`.migrations.rebuild`."""
        return migrations.rebuild(cls, folder)

    # --- writing --------------------------------------------------------------------------
    @guarded
    def add_film(self, folder: str | os.PathLike) -> None:
        """Put one film folder's results into the database (replacing what it held for that folder)."""
        ingest.add_film(self, folder)

    @guarded
    def index(self, progress: bool | None = False, full: bool = False) -> IndexReport:
        """Bring the database in step with the film folders (see :func:`.ingest.index`)."""
        return ingest.index(self, progress, full)

    # --- corrections ------------------------------------------------------------------------
    @guarded
    def correct(self, film: str, shot: int, field: str, value: str, note: str | None = None) -> dict[str, Any]:
        """Set a shot's ``scale`` or ``movement`` (``film``: its folder, path or a glob matching one
        film). The prediction is kept; every correction is recorded with its time (the last wins)."""
        return corrections.record_correction(self, film, shot, field, value, note)

    @guarded
    def undo(self, film: str, shot: int, field: str) -> dict[str, Any]:
        """Take back the latest correction of a shot's label (see :func:`.corrections.undo_correction`)."""
        return corrections.undo_correction(self, film, shot, field)

    @guarded
    def corrections(self, film_folder: str) -> list[dict[str, Any]]:
        """A film folder's corrections, oldest first (see :func:`.corrections.corrections_of`)."""
        return corrections.corrections_of(self, film_folder)

    def timelines(self, film_folder: str) -> dict[int, tuple[float, dict]]:
        """A film folder's probability timelines, from its shots.json (see :func:`.ingest.read_timelines`)."""
        return ingest.read_timelines(self.folder / film_folder)

    @guarded
    def export_labels(self, path: str | os.PathLike) -> int:
        """The corrected shots as a manifest that ``train`` and ``fit-fusion`` read."""
        return corrections.export_labels(self, path)

    # --- films on disk ----------------------------------------------------------------------
    def film_file(self, path: str) -> Path | None:
        """Where a film of the archive is now (see :func:`.videos.locate_film`)."""
        return videos.locate_film(self, path)

    def film_video(self, film: dict[str, Any]) -> tuple[Path | None, str]:
        """The video of a film row if it is the film analysed (see :func:`.videos.checked_video`)."""
        return videos.checked_video(self, film)

    # --- reading --------------------------------------------------------------------------
    @guarded
    def _film_folder(self, film: str) -> str:
        return queries.film_folder_of(self, film)

    @guarded
    def films(self):
        """One row per film: path, duration, shots, average and median shot length, status."""
        return queries.films_of(self)

    @guarded
    def shots(self, *, scale: str | None = None, movement: str | None = None, min_duration: float | None = None,
          max_duration: float | None = None, min_confidence: float | None = None, film: str | None = None,
          corrected: bool | None = None, film_folder: str | None = None, limit: int | None = None,
          offset: int = 0, count: bool = False, details: bool = False):
        """Shots matching every filter given, as a DataFrame (see :func:`.queries.shots_of`)."""
        return queries.shots_of(self, scale=scale, movement=movement, min_duration=min_duration, max_duration=max_duration, min_confidence=min_confidence, film=film, corrected=corrected, film_folder=film_folder, limit=limit, offset=offset, count=count, details=details)

    @guarded
    def stats(self):
        """One row per film: shots, lengths, and per label its shares and ASL (:func:`.queries.stats_of`)."""
        return queries.stats_of(self)
