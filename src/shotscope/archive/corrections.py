"""Corrections: a shot's scale or movement set by hand (the prediction is kept), each one recorded
with when, what it replaced and the shot's times, so that a correction never lands on another
shot when a film is analysed again with other cuts."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import DataError
from .schema import LATEST, SHOT_BITS, ArchiveFolder, shot_key

log = logging.getLogger(__name__)


SAME_SHOT_SECONDS = 0.005  # a correction's shot and the shot now under its number: the same times (ms rounding)


def record_correction(archive: ArchiveFolder, film: str, shot: int, field: str, value: str, note: str | None = None) -> dict[str, Any]:
    """Set a shot's ``scale`` or ``movement`` (``film``: its folder, path or a glob matching one
    film). The prediction is kept; every correction is recorded with its time (the last wins)."""
    import datetime as dt

    from ..labels import MOVEMENT_LABELS, SCALE_LABELS

    labels = {"scale": SCALE_LABELS, "movement": MOVEMENT_LABELS}.get(field)
    if labels is None:
        raise DataError(f"a correction sets scale or movement, not {field!r}")
    if value not in labels:
        raise DataError(f"{field} {value!r}: expected one of {', '.join(labels)}")
    from .queries import film_folder_of

    folder = film_folder_of(archive, film)
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    with closing(archive.connect()) as db, db:
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
        if old == value:  # the label it has already: nothing to correct, nothing recorded
            return {"film": found["path"], "shot": shot, "field": field, "old": old, "new": value, "at": None,
                    "unchanged": True}
        db.execute("INSERT INTO corrections (folder, idx, field, old_value, new_value, at, note, start_time, "
                   "end_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (folder, shot, field, old, value, at, note, float(row["start_time"]), float(row["end_time"])))
        apply_corrections(db, folder, shot)
    return {"film": found["path"], "shot": shot, "field": field, "old": old, "new": value, "at": at}


def undo_correction(archive: ArchiveFolder, film: str, shot: int, field: str) -> dict[str, Any]:
    """Take back the latest correction of a shot's ``scale`` or ``movement``: it is removed, and the
    label is what the correction before it said, else the model's again."""
    from .queries import film_folder_of

    if field not in ("scale", "movement"):
        raise DataError(f"a correction sets scale or movement, not {field!r}")
    folder = film_folder_of(archive, film)
    with closing(archive.connect()) as db, db:
        db.execute("BEGIN IMMEDIATE")
        found = db.execute("SELECT id, path FROM films WHERE folder = ?", (folder,)).fetchone()
        last = db.execute("SELECT id, old_value, new_value FROM corrections WHERE folder = ? AND idx = ? AND field = ? "
                          "ORDER BY id DESC LIMIT 1", (folder, shot, field)).fetchone()
        if found is None or last is None:
            raise DataError(f"{film}: shot {shot} has no correction of its {field} to take back")
        db.execute("DELETE FROM corrections WHERE id = ?", (last["id"],))
        if found is not None and 0 <= shot < 1 << SHOT_BITS:  # back to the prediction, then what is left applied
            db.execute(f"UPDATE shots SET {field} = {field}_predicted, {field}_corrected = 0 WHERE id = ?",
                       (shot_key(found["id"], shot),))
        apply_corrections(db, folder, shot)
        restate_shares(db, found["id"])  # with no correction left, apply_corrections restates nothing
        now = db.execute(f"SELECT {field}, {field}_corrected FROM shots WHERE id = ?",
                         (shot_key(found["id"], shot),)).fetchone()
    return {"film": found["path"], "shot": shot, "field": field, "undone": last["new_value"],
            "now": now[field] if now else None, "corrected": bool(now[f"{field}_corrected"]) if now else False}


def corrections_of(archive: ArchiveFolder, film_folder: str) -> list[dict[str, Any]]:
    """A film folder's corrections, oldest first: shot, field, old and new value, when (UTC), note,
    and ``applies``: made on the shot now under its number (not when the film was analysed
    again with other cuts since, see :meth:`index`)."""
    with closing(archive.connect()) as db:
        film = db.execute("SELECT id FROM films WHERE folder = ?", (film_folder,)).fetchone()
        rows = db.execute("SELECT idx, field, old_value, new_value, at, note, start_time, end_time "
                          "FROM corrections WHERE folder = ? ORDER BY id", (film_folder,)).fetchall()
        return [{"shot": r["idx"], "field": r["field"], "old_value": r["old_value"], "new_value": r["new_value"],
                 "at": r["at"], "note": r["note"],
                 "applies": film is not None and fits(r, shot_times(db, film["id"], r["idx"]))} for r in rows]


def export_labels(archive: ArchiveFolder, path: str | os.PathLike) -> int:
    """The corrected shots as a manifest (path, start, end, scale, movement) that ``train`` and
    ``fit-fusion`` read; a label nobody corrected is left empty (not taught as truth)."""
    from ..data.manifest import write_manifest
    from ..data.records import ClipRecord
    from ..labels import IGNORE_INDEX, MOVEMENT_LABELS, SCALE_LABELS
    from .queries import shots_of

    shots = shots_of(archive, corrected=True)
    records = [ClipRecord(
        r.film, SCALE_LABELS.index(r.scale) if r.scale_corrected else IGNORE_INDEX,
        MOVEMENT_LABELS.index(r.movement) if r.movement_corrected else IGNORE_INDEX,
        float(r.start_time), float(r.end_time)) for r in shots.itertuples()]
    write_manifest(path, records)
    return len(records)


def apply_corrections(db: sqlite3.Connection, folder: str, shot: int | None = None) -> list[str]:
    """Make the labels of a film's shots (or one shot) the latest corrections recorded for them. A
    correction made on a shot with other times than the shot now under its number (the film was
    analysed again with other cuts) is kept but not applied: what it says for each such one."""
    film = db.execute("SELECT id, path FROM films WHERE folder = ?", (folder,)).fetchone()
    if film is None:
        return []
    rows = db.execute(f"SELECT * FROM ({LATEST}) WHERE folder = ?" + (" AND idx = ?" if shot is not None else ""),
                      (folder,) + ((shot,) if shot is not None else ())).fetchall()
    stale = []
    for row in rows:
        field = row["field"] if row["field"] in ("scale", "movement") else None
        if field is None:
            continue
        now = shot_times(db, film["id"], row["idx"])
        if not fits(row, now):
            made = "" if row["start_time"] is None else f", made on {row['start_time']:.3f}-{row['end_time']:.3f} s"
            here = "no shot has that number now" if now is None else \
                f"the shot now numbered {row['idx']} is {now[0]:.3f}-{now[1]:.3f} s"
            stale.append(f"{film['path']}: the correction of shot {row['idx']} ({field} {row['new_value']}{made}) does "
                         f"not fit ({here}; the film was analysed again with other cuts): kept, not applied")
            continue
        db.execute(f"UPDATE shots SET {field} = ?, {field}_corrected = 1 WHERE id = ?",
                   (row["new_value"], shot_key(film["id"], row["idx"])))
    if rows:
        restate_shares(db, film["id"])
    return stale


def shot_times(db: sqlite3.Connection, film_id: int, shot: int) -> tuple[float, float] | None:
    """(start, end) seconds of a film's shot as indexed now; None when it has no such shot."""
    return db.execute("SELECT start_time, end_time FROM shots WHERE id = ?", (shot_key(film_id, shot),)).fetchone()


def fits(correction: sqlite3.Row, now: tuple[float, float] | None) -> bool:
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


def restate_shares(db: sqlite3.Connection, film_id: int) -> None:
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


def salvage_corrections(path: Path) -> list[tuple]:
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
