"""The subcommands: each one declares its options and calls the library. Heavy libraries (torch,
transformers, OpenCV) are imported inside the handlers, so ``--help`` and usage errors are fast.

Conventions for every command: ``-o/--out`` names where results go; results alone go to stdout,
notices and errors to stderr; exit 0 when all is done, 1 when some inputs failed (the others
finished), 2 for a usage or configuration error (nothing ran).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from .analysis import add_analyze, add_evaluate, add_predict, run_analyze, run_evaluate, run_predict
from .archive import (
    add_correct,
    add_export_labels,
    add_index,
    add_proxy,
    add_search,
    add_serve,
    add_stats,
    run_correct,
    run_export_labels,
    run_index,
    run_proxy,
    run_search,
    run_serve,
    run_stats,
)
from .models import add_demo, add_fetch_people_models, add_info, run_demo, run_fetch_people_models, run_info
from .training import (
    add_fit_fusion,
    add_prepare,
    add_synth,
    add_train,
    run_fit_fusion,
    run_prepare,
    run_synth,
    run_train,
)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    examples: str = ""
    aliases: tuple[str, ...] = ()


COMMANDS: list[Command] = [
    Command("analyze", "find the shots of films and label each; CSV, JSON, EDL, OTIO, FCP XML, report",
            add_analyze, run_analyze,
            "  shotscope analyze film.mp4\n"
            "  shotscope analyze films/ 'more/*.mkv' -m DIR -o results/\n"
            "  shotscope analyze film.mp4 --movement geometry          # no model weights needed\n"
            "  shotscope analyze film.mp4 --start 00:10:00 --end 00:12:30 --format csv\n"
            "  shotscope analyze film.mp4 --cuts film-Scenes.csv       # cuts from `scenedetect list-scenes`\n"
            "  shotscope analyze archive/ -m DIR --shard 0/4           # every 4th film\n"
            "  shotscope analyze archive/ -m DIR -o /shared/out --ray auto   # films as tasks on a Ray cluster",
            aliases=("analyse",)),
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
    Command("fetch-people-models", "take MediaPipe's pose and face models (for the scale from people) out of "
            "the mediapipe wheel, once", add_fetch_people_models, run_fetch_people_models,
            "  shotscope fetch-people-models\n"
            "  shotscope fetch-people-models --wheel mediapipe-0.10.9-cp311-cp311-manylinux_2_17_x86_64.whl"),
    Command("demo", "offline demo: a generated film, a small synthetic-trained model, the report",
            add_demo, run_demo, "  shotscope demo -o demo-out"),
]
