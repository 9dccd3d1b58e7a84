"""Subcommands beyond ``info``; each one parses arguments and calls the library."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .main import _EXTRA_COMMANDS


def _records_from(args: argparse.Namespace):
    from ..data.manifest import read_manifest
    from ..data.movieshots import read_movieshots

    if args.movieshots:
        records, report = read_movieshots(args.movieshots, args.split)
    else:
        records, report = read_manifest(args.manifest, skip_bad=True)
    print(report.summary())
    return records


def _cmd_synth(args: argparse.Namespace) -> int:
    from ..data.synthetic import SynthSettings, generate, split_manifest

    settings = SynthSettings(width=args.width, height=args.height, frames=args.frames)
    manifest = generate(args.out, args.n, seed=args.seed, settings=settings)
    train, val = split_manifest(manifest, args.val_fraction, seed=args.seed)
    print(f"wrote {args.n} clips; manifests: {manifest}, {train}, {val}")
    return 0


def _cmd_prepare(args: argparse.Namespace) -> int:
    from ..data.cache import prepare

    records = _records_from(args)
    done, errors = prepare(records, args.cache_dir, short_side=args.short_side, max_frames=args.max_frames)
    print(f"{done} clips cached in {args.cache_dir}; {len(errors)} failed")
    for err in errors[:20]:
        print(f"  {err}")
    return 1 if errors and not done else 0


def _cmd_train(args: argparse.Namespace) -> int:
    from ..training import train

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    best = train(args.config, args.overrides)
    print(f"best model: {best}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="generate a labelled synthetic dataset (manifest + clips)")
    p.add_argument("out")
    p.add_argument("--n", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=160)
    p.add_argument("--height", type=int, default=96)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.set_defaults(handler=_cmd_synth)

    p = sub.add_parser("prepare", help="decode clips once into a frame cache that training reads")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--manifest")
    src.add_argument("--movieshots", help="MovieShots folder")
    p.add_argument("--split", default="train")
    p.add_argument("--cache-dir", required=True)
    p.add_argument("--short-side", type=int, default=256)
    p.add_argument("--max-frames", type=int, default=64)
    p.set_defaults(handler=_cmd_prepare)

    p = sub.add_parser("train", help="fine-tune a model from a YAML config (+ key=value overrides)")
    p.add_argument("--config", help="YAML config, e.g. configs/movieshots.yaml")
    p.add_argument("overrides", nargs="*", help="key.sub=value, e.g. train.epochs=3")
    p.set_defaults(handler=_cmd_train)


_EXTRA_COMMANDS.append(register)


def _cmd_analyze(args: argparse.Namespace) -> int:
    from ..analysis import AnalyzeSettings
    from ..batch import analyze_many
    from ..inference import best_device
    from ..loading import load_model

    model = None
    if not (args.movement == "geometry" and args.model is None):  # geometry alone needs no weights
        model = load_model(args.model or _published(), device=best_device())
    settings = AnalyzeSettings(movement=args.movement, batch_size=args.batch_size)
    result = analyze_many(args.films, args.out, model, settings=settings, detector=args.detector,
                          force=args.force, shard=args.shard)
    print(f"{len(result.done)} analysed, {len(result.skipped)} already done, {len(result.errors)} failed -> {args.out}")
    for path, reason in result.errors.items():
        print(f"  failed: {reason}" if path in reason else f"  failed: {path}: {reason}")
    for d in result.done:
        print(f"  report: {d / 'report.html'}")
    return 1 if result.errors and not (result.done or result.skipped) else 0


def _published() -> str:
    from ..loading import PUBLISHED_MODEL

    return PUBLISHED_MODEL


def register_analyze(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="find the shots of films and label each; CSV, JSON, EDL, OTIO, report")
    p.add_argument("films", nargs="+", help="files, directories or globs")
    p.add_argument("--model", help="hub id or local directory (default: the published multitask model)")
    p.add_argument("--out", default="shotscope-out")
    p.add_argument("--movement", choices=["auto", "model", "geometry", "fused"], default="auto",
                   help="auto: fused when the model has a fitted combiner, else the network")
    p.add_argument("--detector", choices=["adaptive", "content", "transnetv2"], default="adaptive")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--force", action="store_true", help="analyse films again even when done")
    p.add_argument("--shard", help="i/n: this process takes every n-th film from the i-th")
    p.set_defaults(handler=_cmd_analyze)


_EXTRA_COMMANDS.append(register_analyze)


def _records_for_prediction(items: list[str]):
    from ..batch import expand_inputs
    from ..data.manifest import read_manifest
    from ..data.records import ClipRecord

    records = []
    for item in items:
        if item.lower().endswith((".csv", ".jsonl", ".ndjson")):
            recs, report = read_manifest(item, skip_bad=True)
            for reason in report.reasons:
                print(f"skipped: {reason}")
            records += recs
        else:
            records += [ClipRecord(str(p)) for p in expand_inputs([item])]
    return records


def _cmd_predict(args: argparse.Namespace) -> int:
    import csv
    import io
    import json
    import sys

    from ..evaluation import predict_records
    from ..files import atomic_write_text
    from ..inference import best_device
    from ..loading import load_model

    model = load_model(args.model, device=best_device())
    records = _records_for_prediction(args.clips)
    preds = predict_records(model, records, views=args.views, batch_size=args.batch_size, progress=not args.quiet)
    cfg = model.config
    rows = []
    for r, ps, pm in zip(preds.records, preds.scale_probs, preds.movement_probs, strict=True):
        rows.append({
            "path": r.path, "scale": cfg.scale_labels[int(ps.argmax())], "scale_prob": round(float(ps.max()), 4),
            "movement": cfg.movement_labels[int(pm.argmax())], "movement_prob": round(float(pm.max()), 4),
            **{f"p_{k}": round(float(v), 4) for k, v in zip(cfg.scale_labels, ps, strict=True)},
            **{f"p_{k}": round(float(v), 4) for k, v in zip(cfg.movement_labels, pm, strict=True)},
        })
    out = io.StringIO()
    if args.format == "jsonl":
        out.writelines(json.dumps(row) + "\n" for row in rows)
    elif args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["path"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        out.writelines(f"{r['path']}\t{r['scale']} {r['scale_prob']:.2f}\t{r['movement']} {r['movement_prob']:.2f}\n"
                       for r in rows)
    if args.output:
        atomic_write_text(args.output, out.getvalue())
    else:
        sys.stdout.write(out.getvalue())
    for path, reason in preds.errors.items():
        print(f"failed: {reason}" if path in reason else f"failed: {path}: {reason}", file=sys.stderr)
    return 1 if preds.errors and not rows else 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from ..evaluation import evaluate_distributed, markdown_report, published_baseline, write_evaluation
    from ..loading import load_model
    from ..training import DEFAULTS, read_split

    data = dict(DEFAULTS["data"])
    if args.data.lower().endswith((".csv", ".jsonl", ".ndjson")):
        data.update(kind="manifest", val=args.data)
    else:
        data.update(kind="movieshots", root=args.data, val_split=args.split)
    records = read_split(data, "val")
    model = load_model(args.model)
    result = evaluate_distributed(model, records, views=args.views, crops=args.crops, batch_size=args.batch_size)
    if result is None:  # not the main process: the main one writes
        return 0
    metrics, run = result
    baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else published_baseline()
    files = write_evaluation(metrics, args.out, baseline,
                             extra={"model": model.source, "data": args.data, "views": args.views,
                                    "crops": args.crops, **run})
    print(markdown_report(metrics, baseline))
    for reason in run["errors"].values():
        print(f"failed: {reason}")
    print("wrote " + ", ".join(str(p) for p in files.values()))
    return 0


def _cmd_fit_fusion(args: argparse.Namespace) -> int:
    from ..data.manifest import read_manifest
    from ..fusion import fit_fusion
    from ..loading import load_model

    model = load_model(args.model)
    records, report = read_manifest(args.data, skip_bad=True)
    print(report.summary())
    fusion, scores = fit_fusion(model, records)
    fusion.save(args.model)
    print(f"movement accuracy on {scores['clips']} clips: model {scores['model']:.3f}, "
          f"geometry {scores['geometry']:.3f}, fused {scores['fused']:.3f} -> {args.model}/movement_fusion.json")
    return 0


def register_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="labels and probabilities per clip (files, directories or a manifest)")
    p.add_argument("clips", nargs="+")
    p.add_argument("--model", required=True)
    p.add_argument("--format", choices=["table", "csv", "jsonl"], default="table")
    p.add_argument("--output", "-o", help="write here instead of standard output")
    p.add_argument("--views", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=_cmd_predict)

    p = sub.add_parser("evaluate", help="accuracy, macro-F1, per-class numbers, confusion matrices, vs a baseline")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="a manifest (.csv/.jsonl) or a MovieShots folder")
    p.add_argument("--split", default="test")
    p.add_argument("--out", default="evaluation")
    p.add_argument("--views", type=int, default=1, help="temporal clips per shot")
    p.add_argument("--crops", type=int, default=1, choices=[1, 3], help="spatial crops per clip")
    p.add_argument("--baseline", help="metrics.json to compare with (default: the published model's numbers)")
    p.add_argument("--batch-size", type=int, default=8)
    p.set_defaults(handler=_cmd_evaluate)

    p = sub.add_parser("fit-fusion", help="fit the movement combiner (network + geometry) on validation clips")
    p.add_argument("--model", required=True, help="a local model directory (the combiner is saved into it)")
    p.add_argument("--data", required=True, help="a manifest of labelled validation clips")
    p.set_defaults(handler=_cmd_fit_fusion)


_EXTRA_COMMANDS.append(register_eval)


def _cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo
    from ..writers import timecode

    result, report = run_demo(args.out)
    print(f"\n{Path(result.path).name}: {len(result.shots)} shots")
    for s in result.shots:
        print(f"  {s.index:3d}  {timecode(s.start_frame, result.fps)}  {s.duration:5.2f}s  "
              f"{s.scale or '-':4s} {s.scale_prob or 0:.2f}   {s.movement or '-':7s} {s.movement_prob or 0:.2f}")
    print(f"\nreport: {report.resolve()}")
    return 0


def register_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="offline demo: a generated film, a small synthetic-trained model, the report")
    p.add_argument("--out", default="demo-out")
    p.set_defaults(handler=_cmd_demo)


_EXTRA_COMMANDS.append(register_demo)
