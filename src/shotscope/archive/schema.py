"""The archive database's schema (its versions: :data:`MIGRATIONS`), how it is opened (WAL for
writers; read-only through the log or as an immutable file), and what its failures mean to a user."""

from __future__ import annotations

import functools
import os
import sqlite3
from pathlib import Path
from typing import Protocol

from ..errors import ArchiveUnavailable

DB_FILE = "shotscope.db"


SCHEMA_VERSION = 5


SHOT_BITS = 20  # a shot's row id is film id << SHOT_BITS | shot index: up to 1,048,576 shots a film


# the columns of a shot row as read from shots.json (after its key)
SHOT_COLUMNS = ("start_frame, end_frame, start_time, end_time, duration, scale, scale_prob, scale_probs, movement, "
                 "movement_prob, movement_probs, movement_source, short, motion")


# shots joined to their film: by the film's range of row ids when the film is chosen first
FILM_JOIN = f"films f ON f.id = s.film_id AND s.id BETWEEN f.id << {SHOT_BITS} AND ((f.id + 1) << {SHOT_BITS}) - 1"


# the latest correction of each shot and field (the last write wins; every one stays recorded)
LATEST = ("SELECT c.folder, c.idx, c.field, c.new_value, c.start_time, c.end_time FROM corrections c WHERE c.id = "
           "(SELECT MAX(d.id) FROM corrections d WHERE d.folder = c.folder AND d.idx = c.idx AND d.field = c.field)")


MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE films (
        id INTEGER PRIMARY KEY, folder TEXT UNIQUE NOT NULL, path TEXT NOT NULL, size INTEGER,
        sha256_edges TEXT, duration REAL, fps REAL, width INTEGER, height INTEGER, shots INTEGER,
        average_shot_length REAL, median_shot_length REAL, status TEXT NOT NULL, model TEXT,
        settings TEXT, statistics TEXT, written TEXT);
    CREATE TABLE shots (
        film_id INTEGER NOT NULL REFERENCES films(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
        start_frame INTEGER, end_frame INTEGER, start_time REAL, end_time REAL, duration REAL,
        scale TEXT, scale_prob REAL, scale_probs TEXT, movement TEXT, movement_prob REAL,
        movement_probs TEXT, movement_source TEXT, short INTEGER, motion TEXT,
        PRIMARY KEY (film_id, idx));
    CREATE INDEX shots_labels ON shots(scale, movement, duration);
    CREATE TABLE corrections (
        id INTEGER PRIMARY KEY, folder TEXT NOT NULL, idx INTEGER NOT NULL, field TEXT NOT NULL,
        old_value TEXT, new_value TEXT NOT NULL, at TEXT NOT NULL, note TEXT);
    CREATE INDEX corrections_shot ON corrections(folder, idx);
    """,
    # v2: the labels in `shots` are the ones shown (the latest correction, else the prediction),
    # so searches use the label index; the predictions are kept beside them
    2: """
    ALTER TABLE shots ADD COLUMN scale_predicted TEXT;
    ALTER TABLE shots ADD COLUMN movement_predicted TEXT;
    ALTER TABLE shots ADD COLUMN scale_corrected INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE shots ADD COLUMN movement_corrected INTEGER NOT NULL DEFAULT 0;
    UPDATE shots SET scale_predicted = scale, movement_predicted = movement;
    DROP INDEX shots_labels;
    CREATE INDEX shots_find ON shots(scale, movement, duration, film_id, idx);
    CREATE INDEX shots_duration ON shots(duration, film_id, idx);
    """,
    # v3: the size and modification time of the folder's files when they were read, so `index`
    # re-reads only the folders that changed
    3: """
    ALTER TABLE films ADD COLUMN source TEXT;
    """,
    # v4: a shot's row id is its key, film id << 20 | shot index (film_id and idx are computed from
    # it): a film's shots are one range of row ids, in order, with no separate key index to keep,
    # so a bulk load appends. One search index: with the table's statistics (ANALYZE) SQLite skips
    # through it by scale for searches that name no scale, where the duration index of v2 made a
    # movement + length search read a row per shot of that length (seconds on a large archive)
    4: f"""
    CREATE TABLE shots_v4 (
        id INTEGER PRIMARY KEY,
        film_id INTEGER GENERATED ALWAYS AS (id >> {SHOT_BITS}) VIRTUAL,
        idx INTEGER GENERATED ALWAYS AS (id & {(1 << SHOT_BITS) - 1}) VIRTUAL,
        start_frame INTEGER, end_frame INTEGER, start_time REAL, end_time REAL, duration REAL,
        scale TEXT, scale_prob REAL, scale_probs TEXT, movement TEXT, movement_prob REAL,
        movement_probs TEXT, movement_source TEXT, short INTEGER, motion TEXT, scale_predicted TEXT,
        movement_predicted TEXT, scale_corrected INTEGER NOT NULL DEFAULT 0,
        movement_corrected INTEGER NOT NULL DEFAULT 0);
    INSERT INTO shots_v4 (id, {SHOT_COLUMNS}, scale_predicted, movement_predicted, scale_corrected,
        movement_corrected)
        SELECT (film_id << {SHOT_BITS}) | idx, {SHOT_COLUMNS}, scale_predicted, movement_predicted,
        scale_corrected, movement_corrected FROM shots;
    DROP TABLE shots;
    ALTER TABLE shots_v4 RENAME TO shots;
    CREATE INDEX shots_find ON shots(scale, movement, duration);
    ANALYZE shots;
    """,
    # v5: a correction keeps the times of the shot it was made on: a film analysed again with other
    # cuts has other shots under the same numbers, and a correction must not land on another shot
    5: """
    ALTER TABLE corrections ADD COLUMN start_time REAL;
    ALTER TABLE corrections ADD COLUMN end_time REAL;
    """,
}


TABLES = ("films", "shots", "corrections", "meta")  # what a database of the current schema holds


_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


def database_error(path: Path, exc: BaseException) -> ArchiveUnavailable:
    """A failure of SQLite on the archive database as one line a user can act on (never the SQL)."""
    cause = exc if isinstance(exc, sqlite3.Error) else exc.__cause__ or exc.__context__ or exc
    name = getattr(cause, "sqlite_errorname", "") or ""
    text = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    if "Execution failed on sql" in text:  # pandas' wrapper: its message holds the whole statement
        text = text.rsplit(": ", 1)[-1]
    folder = path.parent
    try:
        fs = os.statvfs(folder)
        read_only_medium, full = bool(fs.f_flag & os.ST_RDONLY), fs.f_bavail * fs.f_frsize < (1 << 20)
    except OSError:
        read_only_medium = full = False
    # SQLite says "disk is full" for the database file, but a log or index it cannot grow is an I/O error
    if name == "SQLITE_FULL" or "disk is full" in text or (full and (name.startswith("SQLITE_IOERR") or
                                                                       "disk I/O error" in text)):
        return ArchiveUnavailable(f"{path}: the disk is full; nothing was changed: free some space and run "
                                  "the command again")
    if name.startswith("SQLITE_READONLY") or "readonly" in text or read_only_medium:
        return ArchiveUnavailable(f"{path}: cannot be written (a read-only file, folder or medium); nothing was "
                                  "changed: `shotscope serve --read-only` shows it as it is, or copy the archive "
                                  "somewhere writable")
    if name in _DAMAGED or "malformed" in text or "not a database" in text or "no such table" in text \
            or "no such column" in text:
        return ArchiveUnavailable(f"{path}: the archive database is damaged ({text}): `shotscope index {folder} "
                                  "--rebuild` builds it anew from the film folders (the damaged file is kept "
                                  "aside, the corrections it still holds are carried over)")
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED") or "locked" in text:
        return ArchiveUnavailable(f"{path}: another program has held the database for over 30 s ({text}); try "
                                  "again when it is done")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return ArchiveUnavailable(f"{path}: cannot be opened ({text}): check that the folder can be read (and "
                                  "written, unless served with --read-only)")
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        return ArchiveUnavailable(f"{path}: the disk failed while reading or writing it ({text}); nothing was "
                                  "changed: check the medium and run the command again")
    return ArchiveUnavailable(f"{path}: the archive database failed ({text})")


def guarded(method):
    """An Archive method whose SQLite failures become :func:`database_error` lines."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ArchiveUnavailable:
            raise
        except (sqlite3.Error, pandas_database_error()) as exc:
            raise database_error(self.path, exc) from None

    return run


def pandas_database_error() -> type[BaseException]:
    try:
        from pandas.errors import DatabaseError
    except ImportError:  # pragma: no cover - pandas is a dependency
        return sqlite3.Error
    return DatabaseError


def schema_version(db: sqlite3.Connection) -> int:
    """The database's schema version; 0 for a new (empty) database."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row["value"]) if row else 0


def shot_key(film_id: int, shot: int) -> int:
    """The row id of a film's shot in the ``shots`` table (a shot index past ``SHOT_BITS`` would
    name a shot of the next film: refused)."""
    if not 0 <= shot < 1 << SHOT_BITS or film_id < 0:
        raise ValueError(f"shot {shot} of film {film_id}: outside the archive's numbering")
    return (film_id << SHOT_BITS) | shot


def connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    """A connection to the archive database at ``path`` (rows as :class:`sqlite3.Row`); its failure
    is a :func:`database_error`. Writers use the write-ahead log; ``read_only`` writes nothing:
    through the WAL while a writer has one open (its -wal file is there: readers share its index,
    which SQLite keeps beside it anyway), else immutable (nothing is created beside the file:
    read-only media, a finished archive)."""
    from urllib.parse import quote

    try:
        if read_only:
            live = Path(f"{path}-wal").exists()
            uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("" if live else "&immutable=1")
            db = sqlite3.connect(uri, uri=True, timeout=30)
            db.execute("PRAGMA query_only=ON")
        else:
            db = sqlite3.connect(path, timeout=30)
            try:
                db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:  # locked: another connection has it open in a rollback journal
                pass  # (after a bulk index, or as another tool left it): works as it is; a later one sets WAL
            db.execute("PRAGMA synchronous=NORMAL")  # WAL's own advice: safe, and no sync at each commit
            db.execute("PRAGMA analysis_limit=1000")  # ANALYZE samples: about a millisecond at any size
            db.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        raise database_error(path, exc) from None
    db.row_factory = sqlite3.Row
    return db


class ArchiveFolder(Protocol):
    """What the archive's parts need of an archive (:class:`shotscope.Archive` is one)."""

    folder: Path
    path: Path
    read_only: bool
    checked_videos: dict[tuple, str]

    def connect(self) -> sqlite3.Connection: ...
