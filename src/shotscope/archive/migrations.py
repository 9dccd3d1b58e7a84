"""Bringing an archive database to the current schema (one transaction holding the write lock),
and a new one for a damaged one (``index --rebuild``)."""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path

from ..errors import DataError
from .corrections import apply_corrections, salvage_corrections
from .schema import DB_FILE, MIGRATIONS, SCHEMA_VERSION, TABLES, ArchiveFolder, schema_version

log = logging.getLogger(__name__)


def migrate(archive: ArchiveFolder) -> None:
    """Make the database (or bring it up to) the current schema: in one transaction that holds the
    write lock from its start, so a migration killed half-way leaves the database as it was, and
    two processes opening an old database at once migrate it once (the other waits, then sees it
    done)."""
    with closing(archive.connect()) as db:
        version = schema_version(db)
        if version > SCHEMA_VERSION:
            raise DataError(f"{archive.path}: made by a newer shotscope (schema {version}); update shotscope")
        if version == SCHEMA_VERSION:
            have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = [t for t in TABLES if t not in have]
            if missing:
                raise sqlite3.DatabaseError(f"no such table: {', '.join(missing)}")
            return
        if archive.read_only:
            raise DataError(f"{archive.path}: made by an older shotscope (schema {version}); read-only, it cannot "
                            f"be brought up to date: open it once writable (`shotscope index {archive.folder}`)")
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                version = schema_version(db)  # as it is now that this connection alone may write
                db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
                for v in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[v].split(";"):  # in this transaction (executescript commits)
                        if statement.strip():
                            db.execute(statement)
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(v),))
                if version and version < 2:
                    for (folder,) in db.execute("SELECT DISTINCT folder FROM corrections").fetchall():
                        apply_corrections(db, folder)
        except sqlite3.Error as exc:
            raise DataError(f"{archive.path}: cannot bring the archive database from schema {version} to "
                            f"{SCHEMA_VERSION} ({exc}); it is left as it was") from None


def rebuild(cls, folder: str | os.PathLike) -> tuple[ArchiveFolder, Path | None, int]:
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
    rows = salvage_corrections(aside) if aside is not None else []
    if rows:
        with closing(archive.connect()) as db, db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO corrections (folder, idx, field, old_value, new_value, at, note, start_time, "
                           "end_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return archive, aside, len(rows)
