"""``info`` and ``demo``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import _progress


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
    from ..demo import DEMO_SHOTS, truth_of
    from ..demo import run_demo as demo
    from ..outputs.timelines import timecode

    result, report = demo(args.out, progress=_progress(args))
    print(f"\n{Path(result.path).name}: {len(result.shots)} shots (the film was made with {len(DEMO_SHOTS)})")
    print("  shot  start        length  scale        movement        | made as")
    right = {"scale": 0, "movement": 0}
    for s in result.shots:
        truth = truth_of(s)
        for field, k in (("scale", 0), ("movement", 1)):
            right[field] += getattr(s, field) == truth[k]
        print(f"  {s.index:4d}  {timecode(s.start_frame, result.fps)}  {s.duration:5.2f}s  "
              f"{s.scale or '-':4s} {s.scale_prob or 0:.2f}    {s.movement or '-':7s} {s.movement_prob or 0:.2f}    "
              f"| {truth[0]:4s} {truth[1]}")
    n = len(result.shots)
    print(f"\nright: scale {right['scale']}/{n}, movement {right['movement']}/{n} (a tiny model trained in minutes on "
          "generated clips: the published model, or one trained on your own footage, does far better)")
    print(f"report: {report.resolve()}")
    return 0


def add_fetch_people_models(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wheel", metavar="FILE", help="take the models from this mediapipe 0.10.9 wheel (a machine "
                   "without the registry: `pip download mediapipe==0.10.9 --no-deps` elsewhere)")
    p.add_argument("--dir", metavar="DIR", help="where to put them (default: $SHOTSCOPE_PEOPLE_MODELS, else the "
                   "user's cache); analyze finds them there through $SHOTSCOPE_PEOPLE_MODELS")


def run_fetch_people_models(args: argparse.Namespace) -> int:
    from ..sources.pose_models import MEDIAPIPE, fetch_people_models

    paths = fetch_people_models(args.dir, wheel=args.wheel)
    folder = next(iter(paths.values())).parent
    print(f"MediaPipe's pose and face models ({MEDIAPIPE}, Apache 2.0) in {folder}:")
    for path in paths.values():
        print(f"  {path.name}  {path.stat().st_size / 1e6:.1f} MB")
    return 0
