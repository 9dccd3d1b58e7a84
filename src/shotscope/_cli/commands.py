"""The subcommands: each one declares its options and calls the library. Heavy libraries (torch,
transformers, OpenCV) are imported inside the handlers, so ``--help`` and usage errors are fast.

Conventions for every command: ``-o/--out`` names where results go; results alone go to stdout,
notices and errors to stderr; exit 0 when all is done, 1 when some inputs failed (the others
finished), 2 for a usage or configuration error (nothing ran).
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("shotscope")

PUBLISHED_MODEL = "gullalc/videomae-base-finetuned-kinetics-movieshots-multitask"  # loading.PUBLISHED_MODEL
MOVEMENT_CHOICES = ("auto", "model", "geometry", "fused")
MOVEMENT_HELP = ("where camera movement comes from: auto = fused when the model carries a fitted combiner, "
                 "else the network; geometry (no model needed) when no model is given")


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    examples: str = ""


# --- argument types: a bad value is a usage error (exit 2) naming the option ---------------


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def seconds(text: str) -> float:
    """Seconds (``12.5``, ``12.5s``) or a timecode ``[HH:]MM:SS[.mmm]``, as PySceneDetect takes them."""
    t = text.strip().lower().removesuffix("s")
    try:
        if ":" in t:
            parts = [float(p) for p in t.split(":")]
            if len(parts) > 3 or any(p < 0 for p in parts):
                raise ValueError
            value = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
        else:
            value = float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds (12.5) or a timecode (00:01:02.5), got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a time >= 0, got {text!r}")
    return value


def frames_or_seconds(text: str) -> str:
    """``15`` (frames) or ``0.6s`` (seconds): PySceneDetect's --min-scene-len."""
    if re.fullmatch(r"\d+", text.strip()) and int(text) >= 1:
        return text.strip()
    if re.fullmatch(r"\d+(\.\d+)?s", text.strip()) and float(text.strip()[:-1]) > 0:
        return text.strip()
    raise argparse.ArgumentTypeError(f"expected frames (15) or seconds (0.6s), got {text!r}")


def shard(text: str) -> str:
    from ..errors import DataError
    from ..runs.batch import parse_shard

    try:
        parse_shard(text)
    except DataError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("shard ", "", 1)) from None
    return text


# --- options several commands share ---------------------------------------------------------


def _model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--model", default=None,
                   help="hub id or local model directory (default: the published multitask model "
                        f"{PUBLISHED_MODEL}; none with --movement geometry)")


def _movement_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--movement", choices=MOVEMENT_CHOICES, default="auto", help=MOVEMENT_HELP)


def _device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto",
                   help="where the model runs: auto (this process's GPU when there is one, else the CPU), "
                        "cpu, cuda, cuda:N, mps")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto",
                   help="compute precision: auto = bf16 on GPUs that have it (else fp16) and on CPUs with "
                        "AMX/AVX512-BF16, fp32 elsewhere")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the model: a warm-up of tens of seconds that long archive runs win back")


def _batch_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch-size", type=positive_int, default=8, help="clips per forward pass")


def _progress(args: argparse.Namespace) -> bool | None:
    from ..console import progress_choice

    return progress_choice(args.quiet, args.progress)


def _device(args: argparse.Namespace):
    from ..model.inference import resolve_device

    return resolve_device(getattr(args, "device", "auto"))


def _load(args: argparse.Namespace):
    """The model named by --model (or the published one); None for geometry without a model."""
    if args.model is None and getattr(args, "movement", None) == "geometry":
        return None
    from ..console import quiet_transformers
    from ..model.inference import resolve_device
    from ..model.loading import load_model

    device = resolve_device(getattr(args, "device", "auto"))
    model = load_model(args.model or PUBLISHED_MODEL, device=device, precision=getattr(args, "precision", "auto"))
    quiet_transformers()
    if getattr(args, "compile", False):
        from ..model.inference import compile_model

        compile_model(model)
    return model


def check_output_file(path: str | Path) -> Path:
    """A file can be written at ``path``: not a directory, its folder creatable and writable."""
    from ..errors import DataError
    from ..runs.batch import check_output_dir

    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory; give a file name")
    check_output_dir(path.parent)
    return path


# --- analyze ---------------------------------------------------------------------------------


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

    settings = AnalyzeSettings(movement=args.movement, batch_size=args.batch_size, start=args.start, end=args.end)
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
        print(folder / "report.html")
    if args.format and (result.done or result.skipped):
        folder = result.done[0] if result.done else output_dir_for(result.skipped[0], out)
        sys.stdout.write((folder / f"shots.{args.format}").read_text(encoding="utf-8"))
    return result.exit_code


# --- predict / evaluate / fit-fusion ---------------------------------------------------------


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
            row.update(scale=scale, scale_prob=round(float(preds.scale_probs[i].max()), 4))
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
                            movement=args.movement)
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
                                  progress=_progress(args), movement=args.movement)
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


def add_fit_fusion(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--model", required=True, help="a local model directory (the combiner is saved into it)")
    p.add_argument("--data", required=True, help="a manifest of labelled validation clips")
    _batch_option(p)
    _device_option(p)


def run_fit_fusion(args: argparse.Namespace) -> int:
    from ..data.manifest import read_manifest
    from ..errors import DataError
    from ..sources.fusion import FUSION_FILE
    from ..training.fusion import fit_fusion

    if not Path(args.model).is_dir():
        raise DataError(f"{args.model}: fit-fusion saves the combiner into the model, so --model must be a local directory")
    records, report = read_manifest(args.data, skip_bad=True)
    log.info("%s: %s", args.data, report.summary())
    model = _load(args)
    fusion, scores = fit_fusion(model, records, progress=_progress(args), batch_size=args.batch_size)
    fusion.save(args.model)
    fused = "-" if scores["fused"] is None else f"{scores['fused']:.3f}"
    print(f"movement accuracy on {scores['clips']} clips: network {scores['model']:.3f}, geometry "
          f"{scores['geometry']:.3f}, fused {fused} ({scores['folds']}-fold cross-validated: each clip scored "
          f"by a combiner fitted without it)")
    log.info("saved %s; analyze, predict and evaluate use it by default (--movement auto)", Path(args.model) / FUSION_FILE)
    return 0


# --- data and training -------------------------------------------------------------------------


def add_synth(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", help="folder for the clips and the manifests")
    p.add_argument("--n", type=positive_int, default=400, help="number of clips")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--width", type=positive_int, default=160, help="frame width")
    p.add_argument("--height", type=positive_int, default=96, help="frame height")
    p.add_argument("--frames", type=positive_int, default=16, help="frames per clip")
    p.add_argument("--val-fraction", type=float, default=0.2, help="share of clips in val.csv (0-1)")


def run_synth(args: argparse.Namespace) -> int:
    from ..data.synthetic import SynthSettings, generate, split_manifest
    from ..errors import DataError

    if args.n < 2 or not 0 < args.val_fraction < 1:
        raise DataError("synth needs --n >= 2 and 0 < --val-fraction < 1, so neither split is empty")
    settings = SynthSettings(width=args.width, height=args.height, frames=args.frames)
    manifest = generate(args.out, args.n, seed=args.seed, settings=settings, progress=_progress(args))
    train, val = split_manifest(manifest, args.val_fraction, seed=args.seed)
    print(manifest)
    print(train)
    print(val)
    return 0


def add_prepare(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--manifest", help="a manifest of clips")
    src.add_argument("--movieshots", help="a MovieShots folder")
    p.add_argument("--split", default="train", help="MovieShots split")
    p.add_argument("--cache-dir", required=True, help="the frame cache folder (data.cache_dir in the training config)")
    p.add_argument("--short-side", type=positive_int, default=256, help="frames are reduced to this short side (never enlarged)")
    p.add_argument("--max-frames", type=positive_int, default=64, help="frames kept per clip")
    p.add_argument("--rebuild", action="store_true", help="empty a cache made with other settings and fill it again")


def run_prepare(args: argparse.Namespace) -> int:
    from ..data.cache import cache_size, prepare
    from ..data.manifest import read_manifest
    from ..data.movieshots import read_movieshots

    if args.movieshots:
        records, report = read_movieshots(args.movieshots, args.split)
    else:
        records, report = read_manifest(args.manifest, skip_bad=True)
    log.info("%s", report.summary())
    done, errors = prepare(records, args.cache_dir, short_side=args.short_side, max_frames=args.max_frames,
                           progress=_progress(args), rebuild=args.rebuild)
    print(f"{done} clips cached in {args.cache_dir} ({cache_size(args.cache_dir) / 1e6:.1f} MB); {len(errors)} failed")
    for err in errors:
        log.error("failed: %s", err)
    return 1 if errors else 0


def add_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None,
                   help="a YAML config file, or a shipped one by name: movieshots, tiny-synthetic")
    p.add_argument("overrides", nargs="*", help="key.sub=value, e.g. train.epochs=3 data.root=data/movieshots")


def run_train(args: argparse.Namespace) -> int:
    from ..training.config import load_training_config

    load_training_config(args.config, args.overrides)  # a bad key or value: said before torch loads
    from ..training.trainer import train

    best = train(args.config, args.overrides, progress=_progress(args))
    print(best)
    return 0


# --- the archive ------------------------------------------------------------------------------


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


def _table(frame, columns: list[str]) -> str:
    return frame[columns].to_string(index=False, float_format=lambda v: f"{v:.2f}") if len(frame) else "(none)"


def add_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("archive", help="an output folder of `shotscope analyze`")
    p.add_argument("--scale", choices=["ECS", "CS", "MS", "FS", "LS"], help="only shots of this scale")
    p.add_argument("--movement", choices=["Static", "Motion", "Pull", "Push"], help="only shots of this movement")
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
    import sys

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
        sys.stdout.write(shots.to_json(orient="records", lines=True) + ("\n" if len(shots) else ""))
    else:  # for reading: a corrected label marked, a missing one as a dash
        import pandas as pd

        shown = shots.assign(**{field: [("-" if pd.isna(label) else label) + ("*" if corrected else "")
                                        for label, corrected in zip(shots[field], shots[f"{field}_corrected"],
                                                                    strict=True)]
                                for field in ("scale", "movement")})
        print(_table(shown, ["film", "shot", "start_time", "end_time", "duration", "scale", "movement"]))
        if (shots["scale_corrected"] | shots["movement_corrected"]).any():
            print("* corrected (--format csv gives the model's labels too)")
    return 0


def add_correct(p: argparse.ArgumentParser) -> None:
    p.add_argument("archive", help="an output folder of `shotscope analyze`")
    p.add_argument("--film", required=True, help="the film: its path, name or a glob matching one film")
    p.add_argument("--shot", type=int, required=True, help="the shot's index (as in shots.csv)")
    p.add_argument("--scale", choices=["ECS", "CS", "MS", "FS", "LS"], help="the right scale")
    p.add_argument("--movement", choices=["Static", "Motion", "Pull", "Push"], help="the right movement")
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
    import sys

    from ..archive.database import Archive

    stats = Archive(args.archive, create=False).stats()
    if args.format == "csv":
        stats.to_csv(sys.stdout, index=False)
    else:
        columns = ["film", "shots", "average_shot_length", "median_shot_length"] + [
            c for c in stats.columns if c.endswith("_time") and stats[c].fillna(0).any()]
        print(_table(stats, columns))
    return 0


# --- model and demo ----------------------------------------------------------------------------


def add_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="hub id or local model directory")
    p.add_argument("--json", action="store_true", help="print JSON")


def run_info(args: argparse.Namespace) -> int:
    import json

    from ..model.loading import describe, load_model

    info = describe(load_model(args.model))
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    width = max(len(k) for k in info)
    for key, value in info.items():
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        elif key == "parameters":
            value = f"{value:,}"
        print(f"{key.replace('_', ' '):<{width}}  {value}")
    return 0


def add_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--out", default="demo-out", help="folder for the demo film's results")


def run_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo as demo
    from ..outputs.timelines import timecode

    result, report = demo(args.out, progress=_progress(args))
    print(f"\n{Path(result.path).name}: {len(result.shots)} shots")
    for s in result.shots:
        print(f"  {s.index:3d}  {timecode(s.start_frame, result.fps)}  {s.duration:5.2f}s  "
              f"{s.scale or '-':4s} {s.scale_prob or 0:.2f}   {s.movement or '-':7s} {s.movement_prob or 0:.2f}")
    print(f"\nreport: {report.resolve()}")
    return 0


COMMANDS: list[Command] = [
    Command("analyze", "find the shots of films and label each; CSV, JSON, EDL, OTIO, FCP XML, report",
            add_analyze, run_analyze,
            "  shotscope analyze film.mp4\n"
            "  shotscope analyze films/ 'more/*.mkv' -m DIR -o results/\n"
            "  shotscope analyze film.mp4 --movement geometry          # no model weights needed\n"
            "  shotscope analyze film.mp4 --start 00:10:00 --end 00:12:30 --format csv\n"
            "  shotscope analyze film.mp4 --cuts film-Scenes.csv       # cuts from `scenedetect list-scenes`\n"
            "  shotscope analyze archive/ -m DIR --shard 0/4           # every 4th film\n"
            "  shotscope analyze archive/ -m DIR -o /shared/out --ray auto   # films as tasks on a Ray cluster"),
    Command("predict", "labels and probabilities per clip (files, directories or a manifest)",
            add_predict, run_predict,
            "  shotscope predict clips/ -m DIR\n"
            "  shotscope predict shots.csv --format csv -o predictions.csv\n"
            "  shotscope predict clip.mp4 --movement geometry"),
    Command("evaluate", "accuracy, macro-F1, per-class numbers and confusion matrices, against a baseline",
            add_evaluate, run_evaluate,
            "  shotscope evaluate -m DIR --data data/movieshots --split test --views 2 --crops 3\n"
            "  shotscope evaluate -m DIR --data my_val.csv --baseline other/metrics.json"),
    Command("fit-fusion", "fit the movement combiner (network + geometry) on labelled validation clips",
            add_fit_fusion, run_fit_fusion, "  shotscope fit-fusion -m DIR --data my_val.csv"),
    Command("synth", "generate a labelled synthetic dataset (clips, manifest, train/val split)",
            add_synth, run_synth, "  shotscope synth data/synth --n 400"),
    Command("prepare", "decode clips once into a frame cache that training reads",
            add_prepare, run_prepare,
            "  shotscope prepare --movieshots data/movieshots --cache-dir data/cache\n"
            "  shotscope prepare --manifest train.csv --cache-dir data/cache --short-side 256"),
    Command("train", "fine-tune a model from a YAML config (+ key=value overrides)", add_train, run_train,
            "  shotscope train --config movieshots data.root=data/movieshots train.epochs=5\n"
            "  shotscope train --config tiny-synthetic data.train=synth/train.csv data.val=synth/val.csv"),
    Command("index", "build the archive database (shotscope.db) from an output folder's film folders",
            add_index, run_index, "  shotscope index results/"),
    Command("proxy", "make playable copies (H.264 MP4) of the archive's films a browser cannot play",
            add_proxy, run_proxy, "  shotscope proxy results/ --height 480"),
    Command("search", "find shots across an archive by label, duration, confidence, film; export a supercut",
            add_search, run_search,
            "  shotscope search results/ --scale CS --movement Push --min-duration 2\n"
            "  shotscope search results/ --film '*noir*' --format csv > shots.csv\n"
            "  shotscope search results/ --scale ECS -o close-ups.otio            # a timeline for an editor"),
    Command("correct", "correct a shot's scale or movement in the archive (the prediction is kept)",
            add_correct, run_correct, "  shotscope correct results/ --film one.mp4 --shot 3 --scale CS --note 'a face'"),
    Command("export-labels", "write the corrected shots as a manifest that train and fit-fusion read",
            add_export_labels, run_export_labels,
            "  shotscope export-labels results/ -o corrections.csv\n"
            "  shotscope train --config tiny-synthetic data.train=corrections.csv data.val=corrections.csv"),
    Command("stats", "one row per film: shots, average and median shot length, label shares and ASL", add_stats, run_stats,
            "  shotscope stats results/ --format csv"),
    Command("serve", "the archive in a browser: films, a player per film, search, compare, corrections",
            add_serve, run_serve,
            "  shotscope serve results/                     # then open http://localhost:8765/\n"
            "  shotscope serve results/ --read-only\n"
            "  shotscope serve results/ --host 0.0.0.0       # prints an address with a token"),
    Command("info", "describe a model: labels, frames, image size, parameters, source", add_info, run_info,
            "  shotscope info DIR --json"),
    Command("demo", "offline demo: a generated film, a small synthetic-trained model, the report",
            add_demo, run_demo, "  shotscope demo -o demo-out"),
]
