"""``synth``, ``prepare``, ``train`` and ``fit-fusion``: data and models made."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import _batch_option, _device_option, _load, _progress, log, positive_int


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
