"""Subcommands beyond ``info``; each one parses arguments and calls the library."""

from __future__ import annotations

import argparse
import logging

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
    from ..loading import load_model

    model = None if args.movement == "geometry" and args.model is None else load_model(args.model or _published())
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
    p.add_argument("--movement", choices=["model", "geometry", "fused"], default="model")
    p.add_argument("--detector", choices=["adaptive", "content"], default="adaptive")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--force", action="store_true", help="analyse films again even when done")
    p.add_argument("--shard", help="i/n: this process takes every n-th film from the i-th")
    p.set_defaults(handler=_cmd_analyze)


_EXTRA_COMMANDS.append(register_analyze)
