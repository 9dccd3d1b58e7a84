"""The archive's commands: ``index``, ``proxy``, ``search``, ``correct``, ``export-labels``, ``stats``, ``serve``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..labels import MOVEMENT_LABELS, SCALE_LABELS
from .options import _progress, check_output_file, label_of, log, positive_int


def add_index(p: argparse.ArgumentParser) -> None:
    p.add_argument("archive", help="an output folder of `shotscope analyze`")
    p.add_argument("--full", action="store_true",
                   help="read every film folder anew (default: only the folders new or changed since the last index)")
    p.add_argument("--rebuild", action="store_true",
                   help="a new database for a damaged one: the old file is kept aside, its corrections carried over")


def run_index(args: argparse.Namespace) -> int:
    from ..archive.database import Archive
    from ..archive.ingest import film_folders
    from ..archive.schema import DB_FILE
    from ..errors import DataError

    folder = Path(args.archive)
    if folder.is_dir() and not (folder / DB_FILE).exists() and not film_folders(folder):
        raise DataError(f"{folder}: no film folders here (folders with shots.json, as `shotscope analyze -o "
                        f"{folder}` writes them); no database made")
    if args.rebuild:
        archive, aside, carried = Archive.rebuild(folder)
        if aside is not None:
            log.warning("the old database is kept as %s; %d corrections carried over", aside, carried)
    else:
        archive = Archive(folder)
    report = archive.index(progress=_progress(args), full=args.full)
    print(f"{report.films} films indexed in {archive.path} ({report.read} read, {report.unchanged} unchanged, "
          f"{report.removed} gone)")
    for reason in report.skipped:
        log.error("skipped: %s", reason)
    for reason in report.stale:
        log.warning("%s", reason)
    return 1 if report.skipped else 0


def _table(frame, columns: list[str], empty: str = "(none)") -> str:
    return frame[columns].to_string(index=False, float_format=lambda v: f"{v:.2f}") if len(frame) else empty


def _no_match(archive) -> str:
    """What to say when no shot matches: how many the archive holds, and how to widen the search."""
    films = archive.films()
    if films.empty:
        return f"(no films in {archive.folder}: analyse some with `shotscope analyze FILMS -o {archive.folder}`)"
    return (f"(no shot matches; the archive holds {int(films['shots'].sum())} shots of {len(films)} films: "
            "leave out a filter, or see `shotscope stats` for what it has)")


def add_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("archive", help="an output folder of `shotscope analyze`")
    p.add_argument("--scale", type=label_of("scale"), choices=SCALE_LABELS, help="only shots of this scale")
    p.add_argument("--movement", type=label_of("movement"), choices=MOVEMENT_LABELS,
                   help="only shots of this movement")
    p.add_argument("--min-duration", type=float, default=None, help="seconds")
    p.add_argument("--max-duration", type=float, default=None, help="seconds")
    p.add_argument("--min-confidence", type=float, default=None, help="both labels at least this probable")
    p.add_argument("--film", default=None, help="a glob on the film's path or name")
    p.add_argument("--corrected", choices=["yes", "no"], default=None,
                   help="only shots someone corrected (yes), or only those nobody did (no)")
    p.add_argument("--format", choices=["table", "csv", "jsonl"], default="table", help="output format")
    p.add_argument("-o", "--out", default=None,
                   help="write the matching shots as a timeline an editor opens (.edl, .otio or .xml)")


def run_search(args: argparse.Namespace) -> int:

    from ..archive.database import Archive
    from ..errors import DataError
    from ..outputs.timelines import TIMELINE_ADAPTERS, supercut_text

    kind = Path(args.out).suffix.lower().lstrip(".") if args.out else None
    if kind is not None and kind not in TIMELINE_ADAPTERS:  # before the search: a typo costs nothing
        raise DataError(f"{args.out}: the timeline must end in .edl, .otio or .xml")
    archive = Archive(args.archive, create=False)
    shots = archive.shots(
        scale=args.scale, movement=args.movement, min_duration=args.min_duration, max_duration=args.max_duration,
        min_confidence=args.min_confidence, film=args.film,
        corrected=None if args.corrected is None else args.corrected == "yes")
    if args.out:
        from ..files import atomic_write_text

        target = check_output_file(args.out)
        text, missing = supercut_text(shots, "shotscope search", kind, archive.film_file)
        atomic_write_text(target, text)
        for film in missing:
            log.warning("%s: not on this machine; its clips in %s link to where it was analysed", film, target)
        if shots.empty:
            log.warning("no shots match these filters: %s is an empty timeline", target)
        else:
            log.info("%d shots -> %s", len(shots), target)
        return 0
    if args.format == "csv":
        shots.to_csv(sys.stdout, index=False)
    elif args.format == "jsonl":
        # one line per shot, no blank line after (pandas 2 ends the text with a newline, older ones did not)
        sys.stdout.write(shots.to_json(orient="records", lines=True).rstrip("\n") + ("\n" if len(shots) else ""))
    else:  # for reading: a corrected label marked, a missing one as a dash
        import pandas as pd

        shown = shots.assign(**{field: [("-" if pd.isna(label) else label) + ("*" if corrected else "")
                                        for label, corrected in zip(shots[field], shots[f"{field}_corrected"],
                                                                    strict=True)]
                                for field in ("scale", "movement")})
        print(_table(shown, ["film", "shot", "start_time", "end_time", "duration", "scale", "movement"],
                     empty=_no_match(archive)))
        if (shots["scale_corrected"] | shots["movement_corrected"]).any():
            print("* corrected (--format csv gives the model's labels too)")
    return 0


def add_correct(p: argparse.ArgumentParser) -> None:
    p.add_argument("archive", help="an output folder of `shotscope analyze`")
    p.add_argument("--film", required=True, help="the film: its path, name or a glob matching one film")
    p.add_argument("--shot", type=int, required=True, help="the shot's index (as in shots.csv)")
    p.add_argument("--scale", type=label_of("scale"), choices=SCALE_LABELS, help="the right scale")
    p.add_argument("--movement", type=label_of("movement"), choices=MOVEMENT_LABELS, help="the right movement")
    p.add_argument("--note", default=None, help="why, for the record")


def run_correct(args: argparse.Namespace) -> int:
    from ..archive.database import Archive
    from ..errors import DataError

    if not (args.scale or args.movement):
        raise DataError("give --scale and/or --movement")
    archive = Archive(args.archive, create=False)
    for field in ("scale", "movement"):
        value = getattr(args, field)
        if value:
            done = archive.correct(args.film, args.shot, field, value, args.note)
            if done.get("unchanged"):
                print(f"{done['film']} shot {done['shot']}: {field} is {done['old']} already; nothing recorded")
            else:
                print(f"{done['film']} shot {done['shot']}: {field} {done['old']} -> {done['new']}")
    return 0


def add_export_labels(p: argparse.ArgumentParser) -> None:
    p.add_argument("archive", help="an output folder of `shotscope analyze`")
    p.add_argument("-o", "--out", required=True, help="the manifest to write (.csv)")


def run_export_labels(args: argparse.Namespace) -> int:
    from ..archive.database import Archive

    target = check_output_file(args.out)
    n = Archive(args.archive, create=False).export_labels(target)
    print(f"{n} corrected shots -> {target}")
    return 0


def add_proxy(p: argparse.ArgumentParser) -> None:
    p.add_argument("archive", help="an output folder of `shotscope analyze` (with its shotscope.db)")
    p.add_argument("--height", type=int, default=480, help="largest picture height of the copies (default 480)")
    p.add_argument("--force", action="store_true", help="make the copies again even where they are up to date")


def run_proxy(args: argparse.Namespace) -> int:
    from ..archive.database import Archive
    from ..errors import DataError
    from ..outputs.proxies import PROXY_DIR, make_proxies

    if args.height < 16:
        raise DataError(f"--height {args.height}: expected at least 16 pixels")
    archive = Archive(args.archive, create=False)
    made, failed = make_proxies(archive, height=args.height, force=args.force, progress=_progress(args))
    print(f"{len(made)} playable copies made in {archive.folder / PROXY_DIR}")
    for film, reason in failed.items():
        log.error("no copy of %s: %s", film, reason)
    return 1 if failed else 0


def add_serve(p: argparse.ArgumentParser) -> None:
    p.add_argument("archive", help="an output folder of `shotscope analyze` (with its shotscope.db)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: this machine only; another needs a token)")
    p.add_argument("--port", type=positive_int, default=8765, help="port (default 8765)")
    p.add_argument("--token", default=None,
                   help="the token other machines must give (generated and printed when --host is not local)")
    p.add_argument("--read-only", action="store_true",
                   help="no corrections, and nothing written into the archive: watch, search and export only")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="another host name the server answers to (a DNS name or a reverse proxy's); repeatable")


def run_serve(args: argparse.Namespace) -> int:
    from ..archive.database import Archive
    from ..web import serve
    from ..web.app import check_token

    check_token(args.token, args.host)  # before anything is opened
    Archive(args.archive, create=False, read_only=args.read_only)  # a clear error before the server starts
    serve(args.archive, host=args.host, port=args.port, read_only=args.read_only, token=args.token,
          allow_hosts=tuple(args.allow_host))
    return 0


def add_stats(p: argparse.ArgumentParser) -> None:
    p.add_argument("archive", help="an output folder of `shotscope analyze`")
    p.add_argument("--format", choices=["table", "csv"], default="table", help="output format")


def run_stats(args: argparse.Namespace) -> int:

    from ..archive.database import Archive

    stats = Archive(args.archive, create=False).stats()
    if args.format == "csv":
        stats.to_csv(sys.stdout, index=False)
    else:
        columns = ["film", "shots", "average_shot_length", "median_shot_length", "shot_length_sd", "shot_length_cv",
                   "msl_asl"] + [c for c in stats.columns if c.endswith("_time_share") and stats[c].fillna(0).any()]
        print(_table(stats, [c for c in columns if c in stats], empty=_no_match(Archive(args.archive, create=False))))
    return 0
