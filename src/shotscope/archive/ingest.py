"""Film folders into the database: reading a folder's shots.json and provenance.json into rows, one
film as analyze adds it, and :func:`index` bringing the database in step with all of them
(worker processes for a large load)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

import msgspec

from ..errors import DataError
from ..provenance import PROVENANCE_FILE
from .corrections import apply_corrections
from .schema import SHOT_BITS, SHOT_COLUMNS, ArchiveFolder, shot_key
from .videos import is_video_name

log = logging.getLogger(__name__)


def add_film(archive: ArchiveFolder, folder: str | os.PathLike) -> None:
    """Put one film folder's results into the database (replacing what it held for that folder)."""
    with closing(archive.connect()) as db, db:
        db.execute("BEGIN IMMEDIATE")  # the write lock first: another writer's commit cannot come between
        remove_film(db, os.path.relpath(folder, archive.folder))
        film_id = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM films").fetchone()[0]
        rel, film, shots = read_film_folder(folder, archive.folder, film_id)
        insert_film(db, rel, film, shots, film_id)
        for reason in apply_corrections(db, rel):
            log.warning("%s", reason)
        db.execute("ANALYZE shots")  # the statistics the planner needs to use the search index well


def index(archive: ArchiveFolder, progress: bool | None = False, full: bool = False) -> IndexReport:
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

    folders = {os.path.relpath(p, archive.folder): p for p in film_folders(archive.folder)}
    # the working databases (if any) are removed after the connection that reads them is closed
    with ExitStack() as outer, ExitStack() as stack:
        db = stack.enter_context(closing(archive.connect()))
        known = {row["folder"]: row["source"] for row in db.execute("SELECT folder, source FROM films")}
        gone = [rel for rel in known if rel not in folders]
        todo = [path for rel, path in folders.items()
                if full or known.get(rel) is None or known[rel] != folder_stamp(path)]
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
        for rel in gone + [os.path.relpath(path, archive.folder) for path in todo]:
            remove_film(db, rel)
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
                    write_shard, chunks, shards, [archive.folder] * parts, [table] * parts), strict=True)):
                films = [result for result in results if not isinstance(result, str)]
                skipped.extend(result for result in results if isinstance(result, str))
                db.executemany(FILM_INSERT, films)
                db.execute(f"ATTACH ? AS shard{k}", (shard,))
                # the same table: SQLite copies its records as they are (its transfer optimisation)
                db.execute(f"INSERT INTO shots SELECT * FROM shard{k}.shots")
                read.extend(film[1] for film in films)
                bar.update(len(results))
        else:
            for path, film_id in items:
                try:
                    rel, film, shots = read_film_folder(path, archive.folder, film_id)
                except DataError as exc:  # no longer (or not yet) a finished film folder
                    skipped.append(str(exc))
                else:
                    insert_film(db, rel, film, shots, film_id)
                    read.append(rel)
                bar.update()
        if indexes:
            db.execute(f"PRAGMA threads = {workers}")  # SQLite's sorter may use helper threads
            for row in indexes:
                db.execute(row["sql"])
        corrected = {folder for (folder,) in db.execute("SELECT DISTINCT folder FROM corrections")}
        stale = []
        for folder in sorted(corrected.intersection(read)):
            stale += apply_corrections(db, folder)
        db.execute("ANALYZE shots")
    return IndexReport(len(read), len(folders) - len(todo), len(gone), skipped, stale)


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


def decode_shots_json(content: bytes) -> _FilmFields:
    """shots.json's fields, with the JSON kept as text (probabilities, motion evidence, statistics)
    without whitespace: a shots.json indented throughout would more than double the database."""
    try:
        return _decode_film(msgspec.json.format(content, indent=-1) if _INDENTED in content else content)
    except msgspec.ValidationError:
        raise
    except msgspec.DecodeError:  # Python's json also writes NaN and Infinity, which JSON has not: as null
        return _decode_film(json.dumps(json.loads(content, parse_constant=lambda _: None), separators=(",", ":")))


class _TaskTimeline(msgspec.Struct):
    probs: dict[str, list[float]]
    source: str | None = None


class _Timeline(msgspec.Struct):
    times: list[float]
    scale: _TaskTimeline | None = None
    movement: _TaskTimeline | None = None


class _ShotTimeline(msgspec.Struct):
    index: int
    start_time: float
    timeline: _Timeline | None = None


class _FilmTimelines(msgspec.Struct):
    shots: list[_ShotTimeline] = []


_decode_timelines = msgspec.json.Decoder(_FilmTimelines).decode


def read_timelines(folder: str | os.PathLike) -> dict[int, tuple[float, dict]]:
    """The probability timelines of a film folder's shots (they stay in shots.json, not the
    database): by shot number, its start time (to match the database's shot) and the timeline as
    analyze wrote it. Only well-formed ones (every list as long as its times); {} when the file is
    missing or unreadable (the timeline is something extra to show, never a reason to fail)."""
    try:
        data = _decode_timelines((Path(folder) / "shots.json").read_bytes())
    except (OSError, msgspec.MsgspecError):
        return {}
    out = {}
    for shot in data.shots:
        t = shot.timeline
        if t is None or not t.times:
            continue
        tasks = {task: part for task, part in (("scale", t.scale), ("movement", t.movement))
                 if part is not None and all(len(v) == len(t.times) for v in part.probs.values())}
        if tasks:
            out[shot.index] = (shot.start_time, {"times": t.times, **{k: msgspec.to_builtins(v) for k, v in tasks.items()}})
    return out


def _text(raw: msgspec.Raw, empty: str) -> str:
    """A raw JSON value as the text stored; JSON null as ``empty``."""
    text = bytes(raw).decode()
    return empty if text == "null" else text


def folder_stamp(folder: Path) -> str | None:
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
    keyed for film ``film_id``, as :data:`SHOT_INSERT` takes them)."""
    folder = Path(folder)
    stamp = folder_stamp(folder)  # before reading: a file changed meanwhile is read again next time
    try:
        data = decode_shots_json((folder / "shots.json").read_bytes())
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


def write_shard(items: list[tuple[Path, int]], shard: str, archive: Path, table: str) -> list[tuple | str]:
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
                db.executemany(SHOT_INSERT, shots)
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


def remove_film(db: sqlite3.Connection, folder: str) -> None:
    """Delete a film folder's film and shots (its corrections stay: they are keyed by folder)."""
    row = db.execute("SELECT id FROM films WHERE folder = ?", (folder,)).fetchone()
    if row is not None:
        db.execute("DELETE FROM shots WHERE id BETWEEN ? AND ?", (shot_key(row[0], 0), shot_key(row[0] + 1, 0) - 1))
        db.execute("DELETE FROM films WHERE id = ?", (row[0],))


FILM_INSERT = ("INSERT INTO films (id, folder, path, size, sha256_edges, duration, fps, width, height, shots, "
                "average_shot_length, median_shot_length, status, model, settings, statistics, written, source) "
                f"VALUES ({', '.join('?' * 18)})")


# a shot row as read_film_folder makes it: its key, the columns, and the predictions (kept apart from
# the labels shown, which corrections change)
SHOT_INSERT = (f"INSERT INTO shots (id, {SHOT_COLUMNS}, scale_predicted, movement_predicted) "
                f"VALUES ({', '.join('?' * (len(SHOT_COLUMNS.split(', ')) + 3))})")


def insert_film(db: sqlite3.Connection, rel: str, film: tuple, shots: list[tuple], film_id: int) -> None:
    """Put a film and its shots (keyed for ``film_id``) in."""
    db.execute(FILM_INSERT, (film_id, rel, *film))
    db.executemany(SHOT_INSERT, shots)
