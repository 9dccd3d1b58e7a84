"""Reading the archive: shots matching filters, films, statistics per film, as pandas DataFrames."""

from __future__ import annotations

import fnmatch
import json
from contextlib import closing
from pathlib import Path
from typing import Any

from ..errors import DataError
from .schema import FILM_JOIN, ArchiveFolder

MAX_PATTERN = 1000  # characters of a film pattern (SQLite refuses longer GLOB patterns, slowly)


def film_folder_of(archive: ArchiveFolder, film: str) -> str:
    with closing(archive.connect()) as db:
        rows = db.execute("SELECT folder, path FROM films").fetchall()
    matches = [r["folder"] for r in rows if film in (r["folder"], r["path"]) or fnmatch.fnmatch(r["path"], film)
               or fnmatch.fnmatch(Path(r["path"]).name, film)]
    if len(matches) != 1:
        raise DataError(f"{film!r} matches {len(matches)} films in {archive.folder}; name one film")
    return matches[0]


def films_of(archive: ArchiveFolder):
    """One row per film: path, duration, shots, average and median shot length, status."""
    import pandas as pd

    with closing(archive.connect()) as db:
        return pd.read_sql_query(
            "SELECT id, folder, path, duration, fps, shots, average_shot_length, median_shot_length, status "
            "FROM films ORDER BY path", db)


def shots_of(archive: ArchiveFolder, *, scale: str | None = None, movement: str | None = None, min_duration: float | None = None,
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
    source = "shots s" + (f" JOIN {FILM_JOIN}" if film is not None or film_folder is not None else "")
    columns = ("SELECT f.path AS film, s.film_id, f.fps, f.duration AS film_duration, s.idx AS shot, s.start_frame, s.end_frame, s.start_time, "
               "s.end_time, s.duration, s.scale, s.scale_prob, s.movement, s.movement_prob, s.movement_source, "
               "s.short, s.scale_corrected, s.movement_corrected, s.scale_predicted, s.movement_predicted"
               + (", s.scale_probs, s.movement_probs, s.motion" if details else "") + f" FROM shots s JOIN {FILM_JOIN}")
    if limit is None:
        sql = columns + condition + " ORDER BY f.path, s.idx"
        params = args
    else:  # a page: the matching rows' ids from the index first, then only those rows read
        sql = (columns + f" WHERE s.id IN (SELECT s.id FROM {source}{condition} ORDER BY s.id "
               f"LIMIT {int(limit)} OFFSET {int(offset)}) ORDER BY s.id")
        params = args
    with closing(archive.connect()) as db:
        frame = pd.read_sql_query(sql, db, params=params)
        if count:
            frame.attrs["total"] = db.execute(f"SELECT COUNT(*) FROM {source}{condition}", args).fetchone()[0]
    for column in ("short", "scale_corrected", "movement_corrected"):
        frame[column] = frame[column].astype(bool)
    for column in ("scale_probs", "movement_probs", "motion") if details else ():
        frame[column] = [json.loads(text) if text else None for text in frame[column]]
    return frame


def stats_of(archive: ArchiveFolder):
    """One row per film: shots, average and median shot length, the lengths' spread as Cinemetrics
    gives it (``shot_length_sd``, ``shot_length_cv``, ``msl_asl``, ``shot_length_range``; empty for
    folders analysed before they were computed), and per label its share of shots and of screen
    time and its average shot length (``scale_CS_shot_share``, ``scale_CS_time_share``: 0-1;
    ``scale_CS_asl``: seconds, empty where the film has no such shot), corrections included."""
    import pandas as pd

    from ..labels import MOVEMENT_LABELS, SCALE_LABELS

    rows = []
    with closing(archive.connect()) as db:
        for f in db.execute("SELECT path, duration, shots, average_shot_length, median_shot_length, statistics "
                            "FROM films ORDER BY path"):
            stats = json.loads(f["statistics"] or "{}")
            row: dict[str, Any] = {"film": f["path"], "duration": f["duration"], "shots": f["shots"],
                                   "average_shot_length": f["average_shot_length"],
                                   "median_shot_length": f["median_shot_length"],
                                   **{k: stats.get(k) for k in ("shot_length_sd", "shot_length_cv", "msl_asl",
                                                                "shot_length_range")}}
            for task, labels in (("scale", SCALE_LABELS), ("movement", MOVEMENT_LABELS)):
                for label in labels:
                    share = (stats.get(task) or {}).get(label) or {}
                    row[f"{task}_{label}_shot_share"] = share.get("share_of_shots")
                    row[f"{task}_{label}_time_share"] = share.get("share_of_time")
                    row[f"{task}_{label}_asl"] = share.get("average_shot_length")
            rows.append(row)
    return pd.DataFrame(rows)
