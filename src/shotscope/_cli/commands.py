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
