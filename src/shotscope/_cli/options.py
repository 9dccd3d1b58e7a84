"""What the commands share: argument types (a bad value is a usage error, exit 2, naming the option),
shared options, loading the model a command names, checking where output goes."""

from __future__ import annotations

import argparse
import logging
import math
import re
from pathlib import Path

from ..precisions import PRECISIONS

log = logging.getLogger("shotscope")

PUBLISHED_MODEL = "gullalc/videomae-base-finetuned-kinetics-movieshots-multitask"  # loading.PUBLISHED_MODEL
MOVEMENT_CHOICES = ("auto", "model", "geometry", "fused")
SCALE_CHOICES = ("auto", "model", "people", "none")
SCALE_HELP = ("where shot scale comes from: auto = the network, or the people in the frame (no model needed) "
              "when no model is given or reachable; none leaves it empty")
MOVEMENT_HELP = ("where camera movement comes from: auto = fused when the model carries a fitted combiner, "
                 "else the network; geometry (no model needed) when no model is given")


# --- argument types: a bad value is a usage error (exit 2) naming the option ---------------


def label_of(task: str):
    """An argument type for a label of ``task``, in any case (``cs``, ``push``): the label as named."""
    from ..labels import MOVEMENT_LABELS, SCALE_LABELS

    labels = {"scale": SCALE_LABELS, "movement": MOVEMENT_LABELS}[task]

    def label(text: str) -> str:
        return next((k for k in labels if k.lower() == text.strip().lower()), text)

    label.__name__ = f"{task} label"
    return label


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
                        f"{PUBLISHED_MODEL}; none with --movement geometry, or when it is not reachable)")


def _movement_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--movement", choices=MOVEMENT_CHOICES, default="auto", help=MOVEMENT_HELP)
    p.add_argument("--scale", choices=SCALE_CHOICES, default="auto", help=SCALE_HELP)
    from ..sources.selection import PEOPLE_DETECTORS

    p.add_argument("--people-detector", choices=list(PEOPLE_DETECTORS), default="auto",
                   help="who finds the people for --scale people: MediaPipe's pose and face models (fetched once "
                        "with `shotscope fetch-people-models`), OpenCV's own detectors (weaker), or auto (MediaPipe's "
                        "where fetched)")


def _device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto",
                   help="where the model runs: auto (this process's GPU when there is one, else the CPU), "
                        "cpu, cuda, cuda:N, mps")
    p.add_argument("--precision", choices=list(PRECISIONS), default="auto",
                   help="compute precision: auto = the fastest of fp32, bf16 (and fp16 on GPUs; on a CPU also "
                        "ONNX Runtime's onnx-fp32 and onnx-int8 where shotscope[onnx] is installed, OpenVINO's "
                        "openvino-fp32, openvino-bf16, openvino-int8 and openvino-int8-bf16 where shotscope[openvino] "
                        "is) whose labels agree with fp32's, measured once per machine and model (cached)")
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


def _needs_no_model(args: argparse.Namespace) -> bool:
    """Both labels can come from sources that need no weights (geometry, the people in the frame)."""
    return getattr(args, "movement", "auto") in ("auto", "geometry") and getattr(args, "scale", "auto") in (
        "auto", "people", "none")


def _published_cached() -> bool:
    """Whether the published model is in this machine's Hugging Face cache (read without torch)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - a dependency
        return False
    return isinstance(try_to_load_from_cache(PUBLISHED_MODEL, "config.json"), str)


def _load(args: argparse.Namespace):
    """The model named by --model (or the published one); None where the labels asked for need none:
    ``--movement geometry`` with ``--scale people`` (or none), or no --model given, the published
    model not reachable (offline, not in the cache) and the labels free to come from geometry and
    the people in the frame (said so, before torch loads)."""
    import os

    if args.model is None and getattr(args, "movement", None) == "geometry" and \
            getattr(args, "scale", "people") in ("people", "none", "auto"):
        return None
    if args.model is None and _needs_no_model(args) and os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") \
            and not _published_cached():
        log.warning("the published model (%s) is not on this machine and the hub is offline: scale from the "
                    "people in the frame, movement from geometry, no model (-m DIR for a model of your own)",
                    PUBLISHED_MODEL)
        return None
    from ..console import quiet_transformers
    from ..errors import ModelLoadError
    from ..model.inference import resolve_device
    from ..model.loading import load_model

    device = resolve_device(getattr(args, "device", "auto"))
    try:
        model = load_model(args.model or PUBLISHED_MODEL, device=device, precision=getattr(args, "precision", "auto"))
    except ModelLoadError as exc:
        if args.model is not None or not _needs_no_model(args):
            raise
        log.warning("the published model could not be loaded (%s): scale from the people in the frame, movement "
                    "from geometry, no model (-m DIR for a model of your own)", str(exc).splitlines()[0])
        return None
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
