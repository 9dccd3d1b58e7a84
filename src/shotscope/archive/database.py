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

import fnmatch
import json
import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from ..errors import ArchiveUnavailable, DataError
from ..provenance import PROVENANCE_FILE

log = logging.getLogger(__name__)

DB_FILE = "shotscope.db"
SCHEMA_VERSION = 5
SHOT_BITS = 20  # a shot's row id is film id << SHOT_BITS | shot index: up to 1,048,576 shots a film
# the columns of a shot row as read from shots.json (after its key)
_SHOT_COLUMNS = ("start_frame, end_frame, start_time, end_time, duration, scale, scale_prob, scale_probs, movement, "
                 "movement_prob, movement_probs, movement_source, short, motion")
# shots joined to their film: by the film's range of row ids when the film is chosen first
_FILM_JOIN = f"films f ON f.id = s.film_id AND s.id BETWEEN f.id << {SHOT_BITS} AND ((f.id + 1) << {SHOT_BITS}) - 1"
# the latest correction of each shot and field (the last write wins; every one stays recorded)
_LATEST = ("SELECT c.folder, c.idx, c.field, c.new_value, c.start_time, c.end_time FROM corrections c WHERE c.id = "
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
    INSERT INTO shots_v4 (id, {_SHOT_COLUMNS}, scale_predicted, movement_predicted, scale_corrected,
        movement_corrected)
        SELECT (film_id << {SHOT_BITS}) | idx, {_SHOT_COLUMNS}, scale_predicted, movement_predicted,
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
SAME_SHOT_SECONDS = 0.005  # a correction's shot and the shot now under its number: the same times (ms rounding)


_TABLES = ("films", "shots", "corrections", "meta")  # what a database of the current schema holds
_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
MAX_PATTERN = 1000  # characters of a film pattern (SQLite refuses longer GLOB patterns, slowly)


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


def _guarded(method):
    """An Archive method whose SQLite failures become :func:`database_error` lines."""
    import functools

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ArchiveUnavailable:
            raise
        except (sqlite3.Error, _pandas_database_error()) as exc:
            raise database_error(self.path, exc) from None

    return run


def _pandas_database_error() -> type[BaseException]:
    try:
        from pandas.errors import DatabaseError
    except ImportError:  # pragma: no cover - pandas is a dependency
        return sqlite3.Error
    return DatabaseError


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
        self._checked: dict[tuple, str] = {}  # film_video's checks, by the file's state
        if (read_only or not create) and not self.path.exists():
            raise DataError(f"{self.path}: no archive database here; build it with `shotscope index {self.folder}`")
        try:
            self._migrate()
        except (sqlite3.Error, _pandas_database_error()) as exc:
            raise database_error(self.path, exc) from None

    def connect(self) -> sqlite3.Connection:
        try:
            if self.read_only:
                db = self._connect_read_only()
            else:
                db = sqlite3.connect(self.path, timeout=30)
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                except sqlite3.OperationalError:  # locked: another connection has it open in a rollback journal
                    pass  # (after a bulk index, or as another tool left it): works as it is; a later one sets WAL
                db.execute("PRAGMA synchronous=NORMAL")  # WAL's own advice: safe, and no sync at each commit
                db.execute("PRAGMA analysis_limit=1000")  # ANALYZE samples: about a millisecond at any size
                db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise database_error(self.path, exc) from None
        db.row_factory = sqlite3.Row
        return db

    def _connect_read_only(self) -> sqlite3.Connection:
        """Read-only: through the WAL while a writer has one open (its -wal file is there: readers
        share its index, which SQLite keeps beside it anyway), else immutable (nothing is created
        beside the file: read-only media, a finished archive)."""
        from urllib.parse import quote

        live = Path(f"{self.path}-wal").exists()
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro" + ("" if live else "&immutable=1")
        db = sqlite3.connect(uri, uri=True, timeout=30)
        db.execute("PRAGMA query_only=ON")
        return db

    def _migrate(self) -> None:
        """Make the database (or bring it up to) the current schema: in one transaction that holds the
        write lock from its start, so a migration killed half-way leaves the database as it was, and
        two processes opening an old database at once migrate it once (the other waits, then sees it
        done)."""
        with closing(self.connect()) as db:
            version = _schema_version(db)
            if version > SCHEMA_VERSION:
                raise DataError(f"{self.path}: made by a newer shotscope (schema {version}); update shotscope")
            if version == SCHEMA_VERSION:
                have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                missing = [t for t in _TABLES if t not in have]
                if missing:
                    raise sqlite3.DatabaseError(f"no such table: {', '.join(missing)}")
                return
            if self.read_only:
                raise DataError(f"{self.path}: made by an older shotscope (schema {version}); read-only, it cannot "
                                f"be brought up to date: open it once writable (`shotscope index {self.folder}`)")
            try:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    version = _schema_version(db)  # as it is now that this connection alone may write
                    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
                    for v in range(version + 1, SCHEMA_VERSION + 1):
                        for statement in MIGRATIONS[v].split(";"):  # in this transaction (executescript commits)
                            if statement.strip():
                                db.execute(statement)
                        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(v),))
                    if version and version < 2:
                        for (folder,) in db.execute("SELECT DISTINCT folder FROM corrections").fetchall():
                            _apply_corrections(db, folder)
            except sqlite3.Error as exc:
                raise DataError(f"{self.path}: cannot bring the archive database from schema {version} to "
                                f"{SCHEMA_VERSION} ({exc}); it is left as it was") from None

    @classmethod
    def rebuild(cls, folder: str | os.PathLike) -> tuple[Archive, Path | None, int]:
        """A new database for a damaged one (``index --rebuild``): the old file (with its -wal and
        -shm) is kept aside as ``shotscope.db.damaged-<time>``, the corrections it still holds are
        carried into a new one, which :meth:`index` then fills from the film folders. Returns the new
        archive (not yet indexed), where the old file went (None: there was none) and the corrections
        carried over."""
        import datetime as dt

        folder = Path(folder)
        path = folder / DB_FILE
        aside = None
        if path.exists():
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            aside = path.with_name(f"{DB_FILE}.damaged-{stamp}")
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{path}{suffix}").exists():
                    os.replace(f"{path}{suffix}", f"{aside}{suffix}")
        archive = cls(folder)
        rows = _salvage_corrections(aside) if aside is not None else []
        if rows:
            with closing(archive.connect()) as db, db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT INTO corrections (folder, idx, field, old_value, new_value, at, note, start_time, "
                               "end_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return archive, aside, len(rows)

    # --- writing --------------------------------------------------------------------------
    @_guarded
    def add_film(self, folder: str | os.PathLike) -> None:
        """Put one film folder's results into the database (replacing what it held for that folder)."""
        with closing(self.connect()) as db, db:
            db.execute("BEGIN IMMEDIATE")  # the write lock first: another writer's commit cannot come between
            _remove_film(db, os.path.relpath(folder, self.folder))
            film_id = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM films").fetchone()[0]
            rel, film, shots = read_film_folder(folder, self.folder, film_id)
            _insert_film(db, rel, film, shots, film_id)
            for reason in _apply_corrections(db, rel):
                log.warning("%s", reason)
            db.execute("ANALYZE shots")  # the statistics the planner needs to use the search index well

    @_guarded
    def index(self, progress: bool | None = False, full: bool = False) -> IndexReport:
        """Bring the database in step with the film folders: read the folders that are new or changed
        since they were indexed (size and modification time of their files), drop the ones that are
        gone; ``full`` reads every folder anew.

        One transaction (a reader sees the old index or the new one, never half). A large load goes
        into bare tables and the search indexes are built after it; its folders are read, parsed and
        written as rows into working databases by worker processes (in the system's temporary
        folder), which the main process copies into the archive's database as they come."""
        import tempfile
        from contextlib import ExitStack

        from tqdm import tqdm

        folders = {os.path.relpath(p, self.folder): p for p in film_folders(self.folder)}
        # the working databases (if any) are removed after the connection that reads them is closed
        with ExitStack() as outer, ExitStack() as stack:
            db = stack.enter_context(closing(self.connect()))
            known = {row["folder"]: row["source"] for row in db.execute("SELECT folder, source FROM films")}
            gone = [rel for rel in known if rel not in folders]
            todo = [path for rel, path in folders.items()
                    if full or known.get(rel) is None or known[rel] != _stamp(path)]
            indexes = []
            bulk = len(todo) >= 64 and len(todo) > len(folders) - len(todo)  # more to read than to keep
            if bulk and _rollback_journal(db):  # written once into the file, not into the WAL and again
                stack.callback(_wal_again, db)  # after the transaction
            stack.enter_context(db)
            db.execute("BEGIN IMMEDIATE")  # everything below, the dropped indexes too, in one transaction
            if bulk:
                indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                                     "tbl_name = 'shots' AND sql IS NOT NULL").fetchall()
                for row in indexes:  # into a bare table; the indexes are built after it
                    db.execute(f'DROP INDEX "{row["name"]}"')
            if full:
                db.execute("DELETE FROM shots")
                db.execute("DELETE FROM films")
            for rel in gone + [os.path.relpath(path, self.folder) for path in todo]:
                _remove_film(db, rel)
            first_id = (db.execute("SELECT MAX(id) FROM films").fetchone()[0] or 0) + 1
            items = [(path, first_id + k) for k, path in enumerate(todo)]
            bar = stack.enter_context(tqdm(total=len(todo), desc="index", unit="film", leave=False,
                                           disable=None if progress is None else not progress))
            workers = min(os.cpu_count() or 1, 8)
            read, skipped = [], []
            if bulk and workers > 1:
                from concurrent.futures import ProcessPoolExecutor

                # at most 8 working databases: SQLite attaches up to 10 to one connection
                parts = min(8, max(workers, len(items) // 32))
                size = -(-len(items) // parts)  # in order: each copy appends to the table's end
                chunks = [items[k * size:(k + 1) * size] for k in range(parts)]
                _clear_killed_work(Path(tempfile.gettempdir()))
                tmp = outer.enter_context(tempfile.TemporaryDirectory(prefix=f"{_WORK_PREFIX}{os.getpid()}-"))
                pool = stack.enter_context(ProcessPoolExecutor(min(workers, parts)))
                shards = [os.path.join(tmp, f"{k}.db") for k in range(parts)]
                table = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'shots'").fetchone()[0]
                for k, (shard, results) in enumerate(zip(shards, pool.map(
                        _write_shard, chunks, shards, [self.folder] * parts, [table] * parts), strict=True)):
                    films = [result for result in results if not isinstance(result, str)]
                    skipped.extend(result for result in results if isinstance(result, str))
                    db.executemany(_FILM_INSERT, films)
                    db.execute(f"ATTACH ? AS shard{k}", (shard,))
                    # the same table: SQLite copies its records as they are (its transfer optimisation)
                    db.execute(f"INSERT INTO shots SELECT * FROM shard{k}.shots")
                    read.extend(film[1] for film in films)
                    bar.update(len(results))
            else:
                for path, film_id in items:
                    try:
                        rel, film, shots = read_film_folder(path, self.folder, film_id)
                    except DataError as exc:  # no longer (or not yet) a finished film folder
                        skipped.append(str(exc))
                    else:
                        _insert_film(db, rel, film, shots, film_id)
                        read.append(rel)
                    bar.update()
            if indexes:
                db.execute(f"PRAGMA threads = {workers}")  # SQLite's sorter may use helper threads
                for row in indexes:
                    db.execute(row["sql"])
            corrected = {folder for (folder,) in db.execute("SELECT DISTINCT folder FROM corrections")}
            stale = []
            for folder in sorted(corrected.intersection(read)):
                stale += _apply_corrections(db, folder)
            db.execute("ANALYZE shots")
        return IndexReport(len(read), len(folders) - len(todo), len(gone), skipped, stale)

    # --- corrections ------------------------------------------------------------------------
    @_guarded
    def correct(self, film: str, shot: int, field: str, value: str, note: str | None = None) -> dict[str, Any]:
        """Set a shot's ``scale`` or ``movement`` (``film``: its folder, path or a glob matching one
        film). The prediction is kept; every correction is recorded with its time (the last wins)."""
        import datetime as dt

        from ..labels import MOVEMENT_LABELS, SCALE_LABELS

        labels = {"scale": SCALE_LABELS, "movement": MOVEMENT_LABELS}.get(field)
        if labels is None:
            raise DataError(f"a correction sets scale or movement, not {field!r}")
        if value not in labels:
            raise DataError(f"{field} {value!r}: expected one of {', '.join(labels)}")
        folder = self._film_folder(film)
        at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with closing(self.connect()) as db, db:
            # the label it replaces is read under the write lock: two corrections of one shot at once
            # each record the label the other left (read before the lock, both said the first one's)
            db.execute("BEGIN IMMEDIATE")
            found = db.execute("SELECT id, path, shots FROM films WHERE folder = ?", (folder,)).fetchone()
            row = None if found is None or not 0 <= shot < 1 << SHOT_BITS else db.execute(
                f"SELECT start_time, end_time, {field} FROM shots WHERE id = ?", (shot_key(found["id"], shot),)).fetchone()
            if row is None:
                raise DataError(f"{film}: no shot {shot}" + (f" (the film has shots 0-{found['shots'] - 1})"
                                                              if found is not None and found["shots"] else ""))
            old = row[field]
            db.execute("INSERT INTO corrections (folder, idx, field, old_value, new_value, at, note, start_time, "
                       "end_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (folder, shot, field, old, value, at, note, float(row["start_time"]), float(row["end_time"])))
            _apply_corrections(db, folder, shot)
        return {"film": found["path"], "shot": shot, "field": field, "old": old, "new": value, "at": at}

    @_guarded
    def corrections(self, film_folder: str) -> list[dict[str, Any]]:
        """A film folder's corrections, oldest first: shot, field, old and new value, when (UTC), note,
        and ``applies``: made on the shot now under its number (not when the film was analysed
        again with other cuts since, see :meth:`index`)."""
        with closing(self.connect()) as db:
            film = db.execute("SELECT id FROM films WHERE folder = ?", (film_folder,)).fetchone()
            rows = db.execute("SELECT idx, field, old_value, new_value, at, note, start_time, end_time "
                              "FROM corrections WHERE folder = ? ORDER BY id", (film_folder,)).fetchall()
            return [{"shot": r["idx"], "field": r["field"], "old_value": r["old_value"], "new_value": r["new_value"],
                     "at": r["at"], "note": r["note"],
                     "applies": film is not None and _fits(r, _shot_times(db, film["id"], r["idx"]))} for r in rows]

    @_guarded
    def _film_folder(self, film: str) -> str:
        with closing(self.connect()) as db:
            rows = db.execute("SELECT folder, path FROM films").fetchall()
        matches = [r["folder"] for r in rows if film in (r["folder"], r["path"]) or fnmatch.fnmatch(r["path"], film)
                   or fnmatch.fnmatch(Path(r["path"]).name, film)]
        if len(matches) != 1:
            raise DataError(f"{film!r} matches {len(matches)} films in {self.folder}; name one film")
        return matches[0]

    def film_file(self, path: str) -> Path | None:
        """Where a film of the archive is now: its path as analysed (absolute, or relative to the
        archive or to the working folder); None when it is not there."""
        film = Path(path)
        for candidate in ([film] if film.is_absolute() else [self.folder / film, Path.cwd() / film]):
            if candidate.is_file():
                return candidate
        return None

    def film_video(self, film: dict[str, Any]) -> tuple[Path | None, str]:
        """The video of a film row, checked to be the one its provenance names: the file it names
        (symbolic links resolved) is a regular file with a video's name, of the size and content
        (SHA-256 of its ends) analysed, and PyAV finds a video stream in it. (path, "") when it is;
        (None, why not) otherwise. The check is cached per file state (size, modification time)."""
        found = self.film_file(film["path"])
        if found is None:
            return None, f"the video of {Path(film['path']).name} is not where it was analysed ({film['path']})"
        try:
            path = found.resolve(strict=True)
            st = path.stat()
        except OSError as exc:
            return None, f"{found}: {exc.strerror or exc}"
        key = (str(path), st.st_size, st.st_mtime_ns, film.get("size"), film.get("sha256_edges"))
        if key not in self._checked:
            self._checked[key] = _check_video(path, st, film)
        why = self._checked[key]
        return (None, why) if why else (path, "")

    @_guarded
    def export_labels(self, path: str | os.PathLike) -> int:
        """The corrected shots as a manifest (path, start, end, scale, movement) that ``train`` and
        ``fit-fusion`` read; a label nobody corrected is left empty (not taught as truth)."""
        from ..data.manifest import write_manifest
        from ..data.records import ClipRecord
        from ..labels import IGNORE_INDEX, MOVEMENT_LABELS, SCALE_LABELS

        shots = self.shots(corrected=True)
        records = [ClipRecord(
            r.film, SCALE_LABELS.index(r.scale) if r.scale_corrected else IGNORE_INDEX,
            MOVEMENT_LABELS.index(r.movement) if r.movement_corrected else IGNORE_INDEX,
            float(r.start_time), float(r.end_time)) for r in shots.itertuples()]
        write_manifest(path, records)
        return len(records)

    # --- reading --------------------------------------------------------------------------
    @_guarded
    def films(self):
        """One row per film: path, duration, shots, average and median shot length, status."""
        import pandas as pd

        with closing(self.connect()) as db:
            return pd.read_sql_query(
                "SELECT id, folder, path, duration, fps, shots, average_shot_length, median_shot_length, status "
                "FROM films ORDER BY path", db)

    @_guarded
    def shots(self, *, scale: str | None = None, movement: str | None = None, min_duration: float | None = None,
              max_duration: float | None = None, min_confidence: float | None = None, film: str | None = None,
              corrected: bool | None = None, film_folder: str | None = None, limit: int | None = None,
              offset: int = 0, count: bool = False, details: bool = False):
        """Shots matching every filter given (``film`` is a glob on the film's path or its name), as a
        DataFrame. Labels are the latest correction where there is one (``scale_corrected`` /
        ``movement_corrected`` say so; ``scale_predicted`` / ``movement_predicted`` keep the model's).
        ``film_id`` tells apart two film folders made from one file (e.g. by two models).
        Ordered by film path and shot; ``limit``/``offset`` page through the result (ordered by film as
        indexed, then shot: a page reads only its rows); ``count`` puts the full count in ``.attrs["total"]``.
        ``details`` adds each shot's probabilities of every label (``scale_probs``, ``movement_probs``)
        and the picture's motion evidence (``motion``), as dicts."""
        import pandas as pd

        if film is not None and len(film) > MAX_PATTERN:
            raise DataError(f"the film pattern has {len(film):,} characters; at most {MAX_PATTERN} are taken")
        where, args = [], []
        for clause, value in (("s.scale = ?", scale), ("s.movement = ?", movement), ("f.folder = ?", film_folder),
                              ("s.duration >= ?", min_duration), ("s.duration <= ?", max_duration),
                              ("MIN(COALESCE(s.scale_prob, 1), COALESCE(s.movement_prob, 1)) >= ?", min_confidence),
                              ("(f.path GLOB ? OR f.path GLOB '*/' || ?)", film)):
            if value is not None:
                where.append(clause)
                args.extend([value] * clause.count("?"))
        if corrected is not None:
            where.append(("" if corrected else "NOT ") + "(s.scale_corrected OR s.movement_corrected)")
        condition = " WHERE " + " AND ".join(where) if where else ""
        # the films table only where a filter names it: label and length filters stay in the index
        source = "shots s" + (f" JOIN {_FILM_JOIN}" if film is not None or film_folder is not None else "")
        columns = ("SELECT f.path AS film, s.film_id, f.fps, f.duration AS film_duration, s.idx AS shot, s.start_frame, s.end_frame, s.start_time, "
                   "s.end_time, s.duration, s.scale, s.scale_prob, s.movement, s.movement_prob, s.movement_source, "
                   "s.short, s.scale_corrected, s.movement_corrected, s.scale_predicted, s.movement_predicted"
                   + (", s.scale_probs, s.movement_probs, s.motion" if details else "") + f" FROM shots s JOIN {_FILM_JOIN}")
        if limit is None:
            sql = columns + condition + " ORDER BY f.path, s.idx"
            params = args
        else:  # a page: the matching rows' ids from the index first, then only those rows read
            sql = (columns + f" WHERE s.id IN (SELECT s.id FROM {source}{condition} ORDER BY s.id "
                   f"LIMIT {int(limit)} OFFSET {int(offset)}) ORDER BY s.id")
            params = args
        with closing(self.connect()) as db:
            frame = pd.read_sql_query(sql, db, params=params)
            if count:
                frame.attrs["total"] = db.execute(f"SELECT COUNT(*) FROM {source}{condition}", args).fetchone()[0]
        for column in ("short", "scale_corrected", "movement_corrected"):
            frame[column] = frame[column].astype(bool)
        for column in ("scale_probs", "movement_probs", "motion") if details else ():
            frame[column] = [json.loads(text) if text else None for text in frame[column]]
        return frame

    @_guarded
    def stats(self):
        """One row per film: shots, average and median shot length, and per label its share of
        shots and of screen time and its average shot length (``scale_CS_shots``, ``scale_CS_time``,
        ``scale_CS_asl``: seconds, empty where the film has no such shot), corrections included."""
        import pandas as pd

        from ..labels import MOVEMENT_LABELS, SCALE_LABELS

        rows = []
        with closing(self.connect()) as db:
            for f in db.execute("SELECT path, duration, shots, average_shot_length, median_shot_length, statistics "
                                "FROM films ORDER BY path"):
                stats = json.loads(f["statistics"] or "{}")
                row: dict[str, Any] = {"film": f["path"], "duration": f["duration"], "shots": f["shots"],
                                       "average_shot_length": f["average_shot_length"],
                                       "median_shot_length": f["median_shot_length"]}
                for task, labels in (("scale", SCALE_LABELS), ("movement", MOVEMENT_LABELS)):
                    for label in labels:
                        share = (stats.get(task) or {}).get(label) or {}
                        row[f"{task}_{label}_shots"] = share.get("share_of_shots")
                        row[f"{task}_{label}_time"] = share.get("share_of_time")
                        row[f"{task}_{label}_asl"] = share.get("average_shot_length")
                rows.append(row)
        return pd.DataFrame(rows)


class IndexReport(NamedTuple):
    """What :meth:`Archive.index` did: folders read, folders unchanged since they were indexed,
    films whose folder is gone, folders skipped (each with why), and corrections kept but not
    applied because their film was analysed again with other cuts (each with which)."""

    read: int
    unchanged: int
    removed: int
    skipped: list[str]
    stale: list[str] = []

    @property
    def films(self) -> int:
        return self.read + self.unchanged


# the parts of shots.json the database holds, decoded without building what it does not need;
# probabilities, motion evidence, model and statistics stay JSON text (msgspec.Raw) as stored
class _ShotFields(msgspec.Struct):
    index: int
    start_frame: int
    end_frame: int
    start_time: float
    end_time: float
    duration: float
    scale: str | None = None
    scale_prob: float | None = None
    scale_probs: msgspec.Raw = msgspec.Raw(b"{}")
    movement: str | None = None
    movement_prob: float | None = None
    movement_probs: msgspec.Raw = msgspec.Raw(b"{}")
    movement_source: str | None = None
    short: bool | None = False
    motion: msgspec.Raw = msgspec.Raw(b"null")


class _Integrity(msgspec.Struct):
    status: str = "ok"


class _FilmFields(msgspec.Struct):
    file: str | None = None
    duration: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    model: msgspec.Raw = msgspec.Raw(b"null")
    statistics: msgspec.Raw = msgspec.Raw(b"{}")
    integrity: _Integrity | None = None
    shots: list[_ShotFields] = []


class _Lengths(msgspec.Struct):
    average_shot_length: float | None = None
    median_shot_length: float | None = None


_decode_film = msgspec.json.Decoder(_FilmFields).decode
_decode_lengths = msgspec.json.Decoder(_Lengths | None).decode


# a line indented deeper than a shot's line: shots.json indented throughout (as shotscope wrote it
# until 2026-12), not a line per field and per shot with compact values (as analyze writes it now)
_INDENTED = b"\n     "


def _decode_shots_json(content: bytes) -> _FilmFields:
    """shots.json's fields, with the JSON kept as text (probabilities, motion evidence, statistics)
    without whitespace: a shots.json indented throughout would more than double the database."""
    try:
        return _decode_film(msgspec.json.format(content, indent=-1) if _INDENTED in content else content)
    except msgspec.ValidationError:
        raise
    except msgspec.DecodeError:  # Python's json also writes NaN and Infinity, which JSON has not: as null
        return _decode_film(json.dumps(json.loads(content, parse_constant=lambda _: None), separators=(",", ":")))


def _text(raw: msgspec.Raw, empty: str) -> str:
    """A raw JSON value as the text stored; JSON null as ``empty``."""
    text = bytes(raw).decode()
    return empty if text == "null" else text


def _salvage_corrections(path: Path) -> list[tuple]:
    """The corrections a damaged database still holds, in the order made ([] when none can be read)."""
    from urllib.parse import quote

    try:
        with closing(sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)) as db:
            columns = {r[1] for r in db.execute("PRAGMA table_info(corrections)")}
            times = "start_time, end_time" if {"start_time", "end_time"} <= columns else "NULL, NULL"
            return db.execute(f"SELECT folder, idx, field, old_value, new_value, at, note, {times} FROM corrections "
                              "ORDER BY id").fetchall()
    except sqlite3.Error as exc:
        log.warning("%s: no corrections could be read from it (%s)", path, exc)
        return []


def _schema_version(db: sqlite3.Connection) -> int:
    """The database's schema version; 0 for a new (empty) database."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row["value"]) if row else 0


def _stamp(folder: Path) -> str | None:
    """Size and modification time of the files a film folder is indexed from (None: missing)."""
    try:
        parts = [(folder / name).stat() for name in ("shots.json", PROVENANCE_FILE)]
    except OSError:
        return None
    return " ".join(f"{st.st_size}:{st.st_mtime_ns}" for st in parts)


def film_folders(folder: Path) -> list[Path]:
    """The film folders of an archive folder: its folders holding shots.json or provenance.json (a
    finished film, or one damaged); others (a user's own, hidden ones such as .proxies) are not."""
    return [p for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith(".")
            and ((p / "shots.json").exists() or (p / PROVENANCE_FILE).exists())]


def read_film_folder(folder: str | os.PathLike, archive: Path, film_id: int = 0) -> tuple[str, tuple, list[tuple]]:
    """A finished film folder as database rows: (folder relative to the archive, film row, shot rows
    keyed for film ``film_id``, as :data:`_SHOT_INSERT` takes them)."""
    folder = Path(folder)
    stamp = _stamp(folder)  # before reading: a file changed meanwhile is read again next time
    try:
        data = _decode_shots_json((folder / "shots.json").read_bytes())
        provenance = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
        stats = _text(data.statistics, "{}")
        lengths = _decode_lengths(stats) or _Lengths()
        film = provenance.get("film") or {}
        location = _film_location(data.file, film.get("path"), folder)
        status = "done" if (data.integrity or _Integrity()).status == "ok" else "damaged"
        film_row = (location, film.get("size"), film.get("sha256_edges"), data.duration, data.fps, data.width,
                    data.height, len(data.shots), lengths.average_shot_length, lengths.median_shot_length, status,
                    bytes(data.model).decode(), json.dumps(provenance.get("settings")), stats,
                    provenance.get("written"), stamp)
        outside = [s.index for s in data.shots if not 0 <= s.index < 1 << SHOT_BITS]
        if outside:
            raise ValueError(f"shot index {outside[0]} is outside 0-{(1 << SHOT_BITS) - 1}")
        key = shot_key(film_id, 0)
        shot_rows = [(key | s.index, s.start_frame, s.end_frame, s.start_time, s.end_time, s.duration, s.scale,
                      s.scale_prob, _text(s.scale_probs, "{}"), s.movement, s.movement_prob,
                      _text(s.movement_probs, "{}"), s.movement_source, int(bool(s.short)), bytes(s.motion).decode(),
                      s.scale, s.movement)
                     for s in data.shots]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, msgspec.MsgspecError) as exc:
        raise DataError(f"{folder}: not a finished film folder ({type(exc).__name__}: {exc})") from None
    return os.path.relpath(folder, archive), film_row, shot_rows


def _film_location(named: str | None, recorded: str | None, folder: Path) -> str:
    """Where a film folder's film is: the absolute path its provenance recorded (shots.json's own
    may be relative to wherever analyze ran; it is only a fallback for folders without one).
    Refused (ValueError: the folder is skipped with the reason) when it is no video's name: the
    web app would serve that file."""
    location = recorded or named
    if not location:
        raise ValueError("it names no film")
    if not is_video_name(location):
        raise ValueError(f"its film {location!r} is not a video file (by its name); shotscope serves only videos")
    return location


def shot_key(film_id: int, shot: int) -> int:
    """The row id of a film's shot in the ``shots`` table (a shot index past ``SHOT_BITS`` would
    name a shot of the next film: refused)."""
    if not 0 <= shot < 1 << SHOT_BITS or film_id < 0:
        raise ValueError(f"shot {shot} of film {film_id}: outside the archive's numbering")
    return (film_id << SHOT_BITS) | shot


# what a film's video may be called (FFmpeg's video containers): /media serves nothing else
VIDEO_SUFFIXES = frozenset(
    [".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".m2v", ".mpv", ".ts", ".mts", ".m2ts", ".tsv", ".vob", ".ogv", ".ogg", ".ogm", ".wmv", ".asf", ".flv", ".f4v", ".3gp", ".3g2", ".mxf", ".dv", ".dif", ".y4m", ".nut", ".rm", ".rmvb", ".divx", ".xvid", ".h264", ".264", ".hevc", ".h265", ".265", ".ivf", ".gif", ".apng", ".mjpeg", ".mjpg", ".avs", ".yuv", ".r3d", ".braw", ".cine", ".wtv", ".dvr-ms", ".amv", ".mod", ".tod"])


def is_video_name(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _check_video(path: Path, st: os.stat_result, film: dict[str, Any]) -> str:
    """Why ``path`` is not the film of this row ('' when it is); see :meth:`Archive.film_video`."""
    import stat as stat_module

    import av

    from ..provenance import film_fingerprint

    if not stat_module.S_ISREG(st.st_mode):
        return f"{path}: not a regular file"
    if not is_video_name(path):
        return f"{path}: not a video file (by its name)"
    if film.get("size") is None or film.get("sha256_edges") is None:
        return f"{path}: the archive does not say what the film analysed was (no size or hash in its provenance)"
    if st.st_size != film["size"]:
        return f"{path}: not the film analysed ({st.st_size} bytes, the film had {film['size']})"
    try:
        if film_fingerprint(path)["sha256_edges"] != film["sha256_edges"]:
            return f"{path}: not the film analysed (its content changed since)"
        with av.open(str(path)) as container:
            if not container.streams.video:
                return f"{path}: no video stream in it"
    except (OSError, av.error.FFmpegError) as exc:
        return f"{path}: cannot be read as a video ({exc})"
    return ""


def _write_shard(items: list[tuple[Path, int]], shard: str, archive: Path, table: str) -> list[tuple | str]:
    """Read film folders (each with the film id it gets) and write their shots into a working
    database whose ``shots`` table is made by ``table`` (the archive's own); per folder its film
    row (film id first) or why it was skipped. Runs in a worker."""
    results: list[tuple | str] = []
    try:
        with closing(sqlite3.connect(shard, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode = OFF")  # a working copy: the archive's transaction is what counts
            db.execute("PRAGMA synchronous = OFF")
            db.execute(table)
            db.execute("BEGIN")
            for path, film_id in items:
                try:
                    rel, film, shots = read_film_folder(path, archive, film_id)
                except DataError as exc:
                    results.append(str(exc))
                    continue
                db.executemany(_SHOT_INSERT, shots)
                results.append((film_id, rel, *film))
            db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise DataError(f"{shard}: cannot write the index's working database ({exc})") from None
    return results


_WORK_PREFIX = "shotscope-index-"  # + the process id: the working databases of a bulk index


def _clear_killed_work(folder: Path) -> None:
    """Remove the working databases of bulk indexes whose process is gone (killed: no cleanup ran)."""
    import shutil

    for path in folder.glob(f"{_WORK_PREFIX}*-*"):
        try:
            os.kill(int(path.name[len(_WORK_PREFIX):].split("-")[0]), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (ValueError, OSError):  # not ours, or a process of someone else's: left alone
            continue


def _rollback_journal(db: sqlite3.Connection) -> bool:
    """Switch the database from WAL to a rollback journal for a bulk load, if no other connection has
    it open (SQLite allows the switch only then; nobody is kept waiting for it)."""
    db.execute("PRAGMA busy_timeout = 0")
    try:
        return db.execute("PRAGMA main.journal_mode = DELETE").fetchone()[0] == "delete"
    except sqlite3.OperationalError:  # locked: another connection reads or writes it; stay in WAL
        return False
    finally:
        db.execute("PRAGMA busy_timeout = 30000")


def _wal_again(db: sqlite3.Connection) -> None:
    """Back to WAL after a bulk load. The load is committed by then: a lock now (someone opened the
    database meanwhile) is no failure of it, and the next connection to open it sets WAL anyway."""
    try:
        db.execute("PRAGMA main.journal_mode = WAL")
    except sqlite3.OperationalError:
        pass


def _remove_film(db: sqlite3.Connection, folder: str) -> None:
    """Delete a film folder's film and shots (its corrections stay: they are keyed by folder)."""
    row = db.execute("SELECT id FROM films WHERE folder = ?", (folder,)).fetchone()
    if row is not None:
        db.execute("DELETE FROM shots WHERE id BETWEEN ? AND ?", (shot_key(row[0], 0), shot_key(row[0] + 1, 0) - 1))
        db.execute("DELETE FROM films WHERE id = ?", (row[0],))


_FILM_INSERT = ("INSERT INTO films (id, folder, path, size, sha256_edges, duration, fps, width, height, shots, "
                "average_shot_length, median_shot_length, status, model, settings, statistics, written, source) "
                f"VALUES ({', '.join('?' * 18)})")


# a shot row as read_film_folder makes it: its key, the columns, and the predictions (kept apart from
# the labels shown, which corrections change)
_SHOT_INSERT = (f"INSERT INTO shots (id, {_SHOT_COLUMNS}, scale_predicted, movement_predicted) "
                f"VALUES ({', '.join('?' * (len(_SHOT_COLUMNS.split(', ')) + 3))})")


def _insert_film(db: sqlite3.Connection, rel: str, film: tuple, shots: list[tuple], film_id: int) -> None:
    """Put a film and its shots (keyed for ``film_id``) in."""
    db.execute(_FILM_INSERT, (film_id, rel, *film))
    db.executemany(_SHOT_INSERT, shots)


def _apply_corrections(db: sqlite3.Connection, folder: str, shot: int | None = None) -> list[str]:
    """Make the labels of a film's shots (or one shot) the latest corrections recorded for them. A
    correction made on a shot with other times than the shot now under its number (the film was
    analysed again with other cuts) is kept but not applied: what it says for each such one."""
    film = db.execute("SELECT id, path FROM films WHERE folder = ?", (folder,)).fetchone()
    if film is None:
        return []
    rows = db.execute(f"SELECT * FROM ({_LATEST}) WHERE folder = ?" + (" AND idx = ?" if shot is not None else ""),
                      (folder,) + ((shot,) if shot is not None else ())).fetchall()
    stale = []
    for row in rows:
        field = row["field"] if row["field"] in ("scale", "movement") else None
        if field is None:
            continue
        now = _shot_times(db, film["id"], row["idx"])
        if not _fits(row, now):
            made = "" if row["start_time"] is None else f", made on {row['start_time']:.3f}-{row['end_time']:.3f} s"
            here = "no shot has that number now" if now is None else \
                f"the shot now numbered {row['idx']} is {now[0]:.3f}-{now[1]:.3f} s"
            stale.append(f"{film['path']}: the correction of shot {row['idx']} ({field} {row['new_value']}{made}) does "
                         f"not fit ({here}; the film was analysed again with other cuts): kept, not applied")
            continue
        db.execute(f"UPDATE shots SET {field} = ?, {field}_corrected = 1 WHERE id = ?",
                   (row["new_value"], shot_key(film["id"], row["idx"])))
    if rows:
        _restate_shares(db, film["id"])
    return stale


def _shot_times(db: sqlite3.Connection, film_id: int, shot: int) -> tuple[float, float] | None:
    """(start, end) seconds of a film's shot as indexed now; None when it has no such shot."""
    return db.execute("SELECT start_time, end_time FROM shots WHERE id = ?", (shot_key(film_id, shot),)).fetchone()


def _fits(correction: sqlite3.Row, now: tuple[float, float] | None) -> bool:
    """Whether a correction belongs to the shot now under its number: there is one, and it has the
    times of the shot the correction was made on (where the correction kept them: v5 on)."""
    if now is None:
        return False
    return correction["start_time"] is None or max(abs(correction["start_time"] - now[0]),
                                                   abs(correction["end_time"] - now[1])) <= SAME_SHOT_SECONDS


class _Labelled(NamedTuple):
    duration: float
    scale: str | None
    movement: str | None


def _restate_shares(db: sqlite3.Connection, film_id: int) -> None:
    """The film's label shares (by count and time) from its labels as shown, corrections included, in
    place of analyze's: the films page, ``stats`` and the compare page read them."""
    from ..analysis.statistics import label_shares
    from ..labels import MOVEMENT_LABELS, SCALE_LABELS

    shots = [_Labelled(*row) for row in db.execute(
        "SELECT duration, scale, movement FROM shots WHERE id BETWEEN ? AND ? ORDER BY id",
        (shot_key(film_id, 0), shot_key(film_id + 1, 0) - 1))]
    stats = json.loads(db.execute("SELECT statistics FROM films WHERE id = ?", (film_id,)).fetchone()[0] or "{}")
    stats.update(scale=label_shares(shots, "scale", SCALE_LABELS),
                 movement=label_shares(shots, "movement", MOVEMENT_LABELS))
    db.execute("UPDATE films SET statistics = ? WHERE id = ?", (json.dumps(stats, separators=(",", ":")), film_id))
