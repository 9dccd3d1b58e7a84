"""``analyze``, ``predict`` and ``evaluate``: films and clips labelled, and scored."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import (
    _batch_option,
    _device,
    _device_option,
    _load,
    _model_option,
    _movement_option,
    _progress,
    check_output_file,
    frames_or_seconds,
    log,
    positive_float,
    positive_int,
    seconds,
    shard,
)


def add_analyze(p: argparse.ArgumentParser) -> None:
    p.add_argument("films", nargs="+", help="video files, directories (searched recursively) or globs")
    _model_option(p)
    p.add_argument("-o", "--out", default="shotscope-out", help="folder for the results (one sub-folder per film)")
    _movement_option(p)
    g = p.add_argument_group("shots")
    g.add_argument("--detector", choices=["adaptive", "content", "transnetv2"], default="adaptive",
                   help="shot detector: PySceneDetect's adaptive or content detector, or TransNetV2")
    g.add_argument("-t", "--threshold", type=positive_float, default=None,
                   help="the detector's threshold (default: the detector's own: adaptive 3.0, content 27.0, "
                        "transnetv2 0.5)")
    g.add_argument("--min-scene-len", type=frames_or_seconds, default=None,
                   help="shortest shot the detector makes, frames (15) or seconds (0.6s) (default: 15 frames)")
    g.add_argument("--cuts", metavar="FILE", default=None,
                   help="use these cuts instead of detecting: a PySceneDetect scene list (.csv), an EDL or "
                        "an OTIO file (one film only)")
    g.add_argument("--timeline", type=seconds, default=0.5, metavar="SECONDS",
                   help="each shot's probability timeline: a point every SECONDS within the shot (default 0.5; "
                        "0: none), in shots.json and under the strips of the report and the web app")
    g.add_argument("--timeline-network", action="store_true",
                   help="the network too in the timeline (a clip a point: as many clips as half-seconds of film; "
                        "without it, the timeline holds movement from the picture's geometry)")
    g.add_argument("--timeline-people", action="store_true",
                   help="with --scale people, the scale from the people in the frame too in the timeline (one frame "
                        "a point: analyze without a model takes 1.4-1.8x as long)")
    g.add_argument("--start", type=seconds, default=None, help="analyse from this time (seconds or HH:MM:SS.mmm)")
    g.add_argument("--end", type=seconds, default=None, help="analyse up to this time")
    g = p.add_argument_group("run")
    _device_option(g)
    _batch_option(g)
    g.add_argument("--force", action="store_true",
                   help="analyse films again even when a stored result was made the same way")
    g.add_argument("--shard", type=shard, default=None,
                   help="i/n: this process takes every n-th film from the i-th (default: RANK/WORLD_SIZE)")
    g.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help='films as tasks on a Ray cluster: ADDRESS (or "auto"), or a local cluster when none is '
                        'given (pip install "shotscope[ray]")')
    g.add_argument("--format", choices=["json", "csv"], default=None,
                   help="also print the film's shots to stdout as JSON or CSV (one film only)")


def run_analyze(args: argparse.Namespace) -> int:
    from ..analysis.results import AnalyzeSettings
    from ..errors import DataError
    from ..runs.batch import analyze_many, check_output_dir, expand_inputs, output_dir_for
    from ..video.cuts import make_detector

    settings = AnalyzeSettings(movement=args.movement, scale=args.scale, batch_size=args.batch_size, start=args.start,
                               end=args.end, timeline=args.timeline, timeline_network=args.timeline_network,
                               timeline_people=args.timeline_people,
                               people_detector=args.people_detector)
    single = args.cuts is not None or args.format is not None
    if single and len(expand_inputs(args.films)) != 1:
        raise DataError(f"{'--cuts' if args.cuts else '--format'} takes exactly one film")
    extra = {"device": _device(args), "precision": args.precision} if args.detector == "transnetv2" and not args.cuts else {}
    detector = make_detector(args.detector, threshold=args.threshold, cuts=args.cuts, min_scene_len=args.min_scene_len,
                             **extra)
    out = check_output_dir(args.out)
    model = _load(args)
    result = analyze_many(args.films, out, model, settings=settings, detector=detector, force=args.force,
                          shard=args.shard, progress=_progress(args), ray=args.ray)
    log.info("%d analysed, %d reused (made from the same film, model and settings; --force to redo), "
             "%d failed -> %s", len(result.done), len(result.skipped), len(result.errors), out)
    for film, why in result.redone.items():
        log.info("  analysed again: %s: %s", film, why)
    for film, what in result.flagged.items():
        log.warning("  %s: %s", film, what)
    for reason in result.errors.values():
        log.error("  failed: %s", reason)
    for problem in result.record_problems:
        log.error("  %s", problem)
    for folder in result.done:
        _summary(folder)
        if not args.format:  # with --format, stdout carries the shots alone (> shots.csv stays a CSV)
            print(folder / "report.html")
    if args.format and (result.done or result.skipped):
        folder = result.done[0] if result.done else output_dir_for(result.skipped[0], out)
        sys.stdout.write((folder / f"shots.{args.format}").read_text(encoding="utf-8"))
    return result.exit_code




def _summary(folder: Path) -> None:
    """One line on stderr of what a film folder holds: shots, their average length, where each label
    came from (and why scale is empty where it is)."""
    import json

    try:
        data = json.loads((folder / "shots.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    shots = data.get("shots") or []
    asl = (data.get("statistics") or {}).get("average_shot_length")
    scale = next((s.get("scale_source") for s in shots if s.get("scale_source")), None)
    movement = next((s.get("movement_source") for s in shots if s.get("movement")), None)
    said = {"model": "the network", "people": "the people in the frame", "geometry": "the picture's geometry",
            "fused": "the network and geometry combined"}
    scale_text = f"scale from {said[scale]}" if scale else "scale left empty (--scale none)"
    log.info("  %s: %d shots, average length %s; %s, movement from %s", Path(data.get("file") or folder).name,
             len(shots), "-" if asl is None else f"{asl:.2f} s", scale_text, said.get(movement, "-"))


def _records_for_prediction(items: list[str]):
    from ..data.manifest import read_manifest
    from ..data.records import ClipRecord
    from ..errors import DataError
    from ..runs.batch import expand_inputs

    records, missing, skipped = [], {}, 0
    for item in items:
        if item.lower().endswith((".csv", ".jsonl", ".ndjson")):
            recs, report = read_manifest(item, skip_bad=True)
            for reason in report.reasons:
                log.error("skipped: %s", reason)
            if report.skipped > len(report.reasons):
                log.error("skipped %d more lines of %s", report.skipped - len(report.reasons), item)
            records += recs
            skipped += report.skipped
        else:
            records += [ClipRecord(str(p)) for p in expand_inputs([item], missing)]
    for reason in missing.values():
        log.error("failed: %s", reason)
    if not records:
        raise DataError("no clips to predict: " + ("; ".join(missing.values()) or "the inputs name none"))
    return records, len(missing) + skipped


def add_predict(p: argparse.ArgumentParser) -> None:
    p.add_argument("clips", nargs="+", help="clips, directories, globs or manifests (.csv/.jsonl with path[,start,end])")
    _model_option(p)
    _movement_option(p)
    p.add_argument("-o", "--out", "--output", dest="out", default=None,
                   help="write to this file instead of standard output")
    p.add_argument("--format", choices=["table", "csv", "jsonl"], default="table", help="output format")
    p.add_argument("--views", type=positive_int, default=1, help="temporal clips per input, probabilities averaged")
    _batch_option(p)
    _device_option(p)


def prediction_rows(preds) -> list[dict]:
    """One row per clip: path, range (when given), labels (the argmax), their probability, all probabilities."""
    rows = []
    ranged = any(r.start is not None or r.end is not None for r in preds.records)
    for i, r in enumerate(preds.records):
        scale, movement = preds.labels(i)
        row = {"path": r.path}
        if ranged:
            row.update(start="" if r.start is None else r.start, end="" if r.end is None else r.end)
        if scale is not None:
            row.update(scale=scale, scale_prob=round(float(preds.scale_probs[i].max()), 4), scale_source=preds.scale_source)
            if preds.people_detector:  # who found the people the scale was read from
                row.update(people_detector=preds.people_detector)
        row.update(movement=movement, movement_prob=round(float(preds.movement_probs[i].max()), 4),
                   movement_source=preds.movement_source)
        if scale is not None:
            row.update({f"p_{k}": round(float(v), 4) for k, v in zip(preds.scale_labels, preds.scale_probs[i],
                                                                     strict=True)})
        row.update({f"p_{k}": round(float(v), 4) for k, v in zip(preds.movement_labels, preds.movement_probs[i],
                                                                 strict=True)})
        rows.append(row)
    return rows


def run_predict(args: argparse.Namespace) -> int:
    import csv
    import io
    import json

    from ..files import atomic_write_text
    from ..training.evaluation import predict_records

    target = check_output_file(args.out) if args.out else None
    records, unusable = _records_for_prediction(args.clips)
    model = _load(args)
    preds = predict_records(model, records, views=args.views, batch_size=args.batch_size, progress=_progress(args),
                            movement=args.movement, scale=args.scale, people_detector=args.people_detector)
    rows = prediction_rows(preds)
    out = io.StringIO()
    if args.format == "jsonl":
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    elif args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["path"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        for r in rows:
            span = f"\t{r['start']}-{r['end']}" if "start" in r else ""
            scale = f"\t{r['scale']} {r['scale_prob']:.2f}" if "scale" in r else ""
            out.write(f"{r['path']}{span}{scale}\t{r['movement']} {r['movement_prob']:.2f}\n")
    if target is not None:
        atomic_write_text(target, out.getvalue())
        log.info("%d clips -> %s", len(rows), target)
    else:
        sys.stdout.write(out.getvalue())
    for reason in preds.errors.values():
        log.error("failed: %s", reason)
    return 1 if preds.errors or unusable else 0


def _read_baseline(path: str) -> dict:
    import json

    from ..errors import DataError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise DataError(f"{path}: cannot read the baseline ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise DataError(f"{path}: the baseline is not JSON ({exc})") from None
    if not isinstance(data, dict) or not any(isinstance(data.get(t), dict) for t in ("scale", "movement")):
        raise DataError(f"{path}: a baseline is a metrics.json that `shotscope evaluate` wrote "
                        "(with 'scale' and/or 'movement' sections)")
    return data


def add_evaluate(p: argparse.ArgumentParser) -> None:
    _model_option(p)
    p.add_argument("--data", required=True, help="a manifest (.csv/.jsonl) or a MovieShots folder")
    p.add_argument("--split", default="test", help="MovieShots split")
    p.add_argument("-o", "--out", default="evaluation", help="folder for metrics.json, metrics.md and confusion matrices")
    _movement_option(p)
    p.add_argument("--views", type=positive_int, default=1, help="temporal clips per shot")
    p.add_argument("--crops", type=int, default=1, choices=[1, 3], help="spatial crops per clip")
    p.add_argument("--baseline", default=None,
                   help="metrics.json to compare with (default: the published model's figures, on MovieShots only)")
    _batch_option(p)
    _device_option(p)


def run_evaluate(args: argparse.Namespace) -> int:
    from ..runs.batch import check_output_dir
    from ..training.config import DEFAULTS
    from ..training.evaluation import (
        evaluate_distributed,
        markdown_report,
        published_baseline,
        write_evaluation,
    )
    from ..training.trainer import read_split

    baseline = _read_baseline(args.baseline) if args.baseline else None
    out = check_output_dir(args.out)
    data = dict(DEFAULTS["data"])
    movieshots = not args.data.lower().endswith((".csv", ".jsonl", ".ndjson"))
    if movieshots:
        data.update(kind="movieshots", root=args.data, val_split=args.split)
    else:
        data.update(kind="manifest", val=args.data, skip_bad=True)
    records = read_split(data, "val", name="evaluation")
    model = _load(args)
    result = evaluate_distributed(model, records, views=args.views, crops=args.crops, batch_size=args.batch_size,
                                  progress=_progress(args), movement=args.movement, scale=args.scale,
                                  people_detector=args.people_detector)
    if result is None:  # not the main process: the main one writes
        return 0
    metrics, run = result
    if baseline is None and movieshots:
        baseline = published_baseline()
    elif baseline is None:
        log.info("no baseline: the published figures are MovieShots' and this is other data; "
                 "compare with another run with --baseline metrics.json")
    files = write_evaluation(metrics, out, baseline,
                             extra={"model": None if model is None else model.source, "data": args.data,
                                    "views": args.views, "crops": args.crops, **run})
    print(markdown_report(metrics, baseline), end="")
    for reason in run["errors"].values():
        log.error("failed: %s", reason)
    log.info("wrote %s", ", ".join(str(p) for p in files.values()))
    return 1 if run["errors"] else 0
