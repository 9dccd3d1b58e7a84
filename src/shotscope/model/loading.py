"""Find and load models: hub ids or local directories, shotscope's own or the published layout."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from ..errors import ModelLoadError
from ..provenance import files_digest
from . import companions
from .modeling import ShotScopeConfig, ShotScopeModel
from .preprocessing import PreprocessConfig

PUBLISHED_MODEL = "gullalc/videomae-base-finetuned-kinetics-movieshots-multitask"
PUBLISHED_BACKBONE = "MCG-NJU/videomae-base-finetuned-kinetics"
_HUB_FILES = ["config.json", "*.safetensors", "*.safetensors.index.json", "*.json", "README.md"]
# Config keys of the published checkpoint that are not VideoMAE/shotscope fields.
_DROP_KEYS = {"architectures", "model_type", "transformers_version", "auto_map", "model_name"}


def resolve_model_dir(name_or_path: str | os.PathLike, revision: str | None = None) -> Path:
    """A local directory as is; otherwise a hub id fetched (or found in the cache).

    Raises :class:`ModelLoadError` naming what was tried and how to pass a local path.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{path}: not a model directory (no config.json)")
        return path
    name = str(name_or_path)
    if path.exists():
        raise ModelLoadError(f"{path}: is a file, expected a model directory or a hub id")
    if name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name:
        raise ModelLoadError(f"{name}: no such model directory")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, revision=revision, allow_patterns=_HUB_FILES))
    except Exception as first:  # network, offline mode, unknown repo
        try:
            return Path(snapshot_download(name, revision=revision, allow_patterns=_HUB_FILES, local_files_only=True))
        except Exception:
            raise ModelLoadError(
                f"could not load model {name!r}: it is not a local directory, the Hugging Face hub "
                f"could not be reached or has no such model ({type(first).__name__}: {first}), and no "
                f"cached copy was found. Download it where you have a network "
                f"(`hf download {name} --local-dir DIR`) and pass the directory: --model DIR"
            ) from None


def read_config_dict(model_dir: Path) -> dict:
    path = model_dir / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path}: cannot read config ({exc})") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def is_published_layout(cfg: dict) -> bool:
    """The published multitask checkpoint: ``model_type: videomae`` with our label maps."""
    return cfg.get("model_type") == "videomae" and (
        "scale_label2id" in cfg or "scale_id2label" in cfg or "CustomModel" in (cfg.get("architectures") or [])
    )


def config_from_dict(cfg: dict, **overrides: Any) -> ShotScopeConfig:
    values = {k: v for k, v in cfg.items() if k not in _DROP_KEYS}
    # VideoMAE classification configs carry id2label/label2id of Kinetics; not ours.
    for k in ("id2label", "label2id", "num_labels"):
        values.pop(k, None)
    values.update(overrides)
    return ShotScopeConfig(**values)


def check_config(config: ShotScopeConfig) -> list[str]:
    """What is wrong with a model config (empty when nothing): label maps that are not 0..n-1
    with distinct names, and sizes the VideoMAE layers cannot be built from."""
    problems = []
    for task in ("scale", "movement"):
        id2label = getattr(config, f"{task}_id2label") or {}
        if sorted(id2label) != list(range(len(id2label))) or not id2label:
            problems.append(f"{task}_id2label: ids must be 0..n-1, got {sorted(id2label)}")
        elif len(set(id2label.values())) != len(id2label):
            problems.append(f"{task}_id2label: label names repeat ({list(id2label.values())})")
    ints = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "num_frames",
            "tubelet_size", "patch_size", "num_channels")
    for key in ints:
        value = getattr(config, key, None)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"{key}: expected a whole number >= 1, got {value!r}")
    size = config.image_size[0] if isinstance(config.image_size, (list, tuple)) else config.image_size
    if not isinstance(size, int) or size < 1:
        problems.append(f"image_size: expected a whole number >= 1, got {config.image_size!r}")
    if problems:
        return problems
    if config.hidden_size % config.num_attention_heads:
        problems.append(f"hidden_size {config.hidden_size} is not a multiple of num_attention_heads "
                        f"{config.num_attention_heads}")
    if config.num_frames % config.tubelet_size:
        problems.append(f"num_frames {config.num_frames} is not a multiple of tubelet_size {config.tubelet_size}")
    if size % config.patch_size:
        problems.append(f"image_size {size} is not a multiple of patch_size {config.patch_size}")
    return problems


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors' own error type: a file cut short, not safetensors at all
        raise ModelLoadError(f"{path}: cannot read the weights (cut short or not a safetensors file: {exc})") from None


def weight_files(model_dir: Path) -> list[Path]:
    """The safetensors files of a model folder (one, or the shards its index names)."""
    single = model_dir / "model.safetensors"
    index = model_dir / "model.safetensors.index.json"
    if single.is_file():
        return [single]
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelLoadError(f"{index}: not a valid safetensors index ({exc})") from None
        missing = [s for s in shards if not (model_dir / s).is_file()]
        if missing:
            raise ModelLoadError(f"{index}: names weight files that are missing: {', '.join(missing)}")
        return [model_dir / s for s in shards]
    return []


def _load_state_dict(model_dir: Path) -> dict[str, torch.Tensor]:
    files = weight_files(model_dir)
    if files:
        state: dict[str, torch.Tensor] = {}
        for path in files:
            state.update(_read_weights(path))
        return state
    pickle_file = model_dir / "pytorch_model.bin"
    if pickle_file.is_file():
        try:
            # Never full unpickling: tensors and plain containers only.
            return torch.load(pickle_file, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ModelLoadError(
                f"{pickle_file}: refused to load (only plain tensors are read from pickle files; {exc})"
            ) from exc
    raise ModelLoadError(f"{model_dir}: no weights (model.safetensors) found")


def weights_of(model_dir: Path) -> list[Path]:
    """The files a model folder's weights are in (safetensors, their shards, else pytorch_model.bin)."""
    return weight_files(model_dir) or [model_dir / "pytorch_model.bin"]


def weights_digest(model_dir: Path) -> str:
    """SHA-256 of a model folder's weight files (one, or the shards' digests together)."""
    return files_digest(weights_of(model_dir))


def _shape_problems(model: ShotScopeModel, state: dict[str, torch.Tensor]) -> list[str]:
    """Weights whose shapes differ from what the config builds, said in the config's terms."""
    own = model.state_dict()
    problems = []
    for key, tensor in state.items():
        if key in own and tuple(own[key].shape) != tuple(tensor.shape):
            hint = ""
            if key.startswith(("scale_cf", "movement_cf")) and tensor.ndim >= 1 and own[key].shape[0] != tensor.shape[0]:
                task = key.split("_")[0]
                hint = (f" (the weights have {tensor.shape[0]} {task} classes, the config's "
                        f"{task}_id2label has {own[key].shape[0]})")
            problems.append(f"{key}: weights {tuple(tensor.shape)}, config builds {tuple(own[key].shape)}{hint}")
    return problems


def load_model(
    name_or_path: str | os.PathLike = PUBLISHED_MODEL,
    *,
    revision: str | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    precision: str = "auto",
) -> ShotScopeModel:
    """Load a shotscope model or the published multitask checkpoint (hub id or local directory).

    ``precision`` (auto | fp32 | bf16 | fp16): the compute precision of inference (autocast;
    the weights stay as loaded, or in ``dtype``). ``auto`` picks bf16 where the hardware has it.

    The preprocessing settings (``preprocessor_config.json``) come with it as
    ``model.preprocess_config``; ``model.source`` says where the weights came from.
    """
    model_dir = resolve_model_dir(name_or_path, revision)
    cfg_dict = read_config_dict(model_dir)
    if cfg_dict.get("model_type") not in ("shotscope", "videomae"):
        raise ModelLoadError(
            f"{model_dir / 'config.json'}: model_type {cfg_dict.get('model_type')!r} is not a shotscope "
            "or VideoMAE multitask model"
        )
    if cfg_dict.get("model_type") == "videomae" and not is_published_layout(cfg_dict):
        raise ModelLoadError(
            f"{model_dir}: a plain VideoMAE checkpoint without shot labels; start a new model from it "
            "with ShotScopeModel via shotscope.from_backbone()"
        )
    config_file = model_dir / "config.json"
    try:
        config = config_from_dict(cfg_dict)
    except Exception as exc:  # transformers' and huggingface_hub's validators raise several types
        raise ModelLoadError(f"{config_file}: invalid config ({_first_line(exc)})") from None
    problems = check_config(config)
    if problems:
        raise ModelLoadError(f"{config_file}: invalid config: " + "; ".join(problems))
    # everything a model folder carries is read and checked before the weights are built
    preprocess = PreprocessConfig.load(model_dir, image_size=int(
        config.image_size[0] if isinstance(config.image_size, (list, tuple)) else config.image_size))
    extras = companions.load_all(model_dir)  # the movement combiner: checked here too
    state = _load_state_dict(model_dir)
    with torch.device("meta"):  # no random initialisation: the weights go straight in
        model = ShotScopeModel(config)
    shape_problems = _shape_problems(model, state)
    if shape_problems:
        raise ModelLoadError(f"{model_dir}: the weights do not fit config.json: " + "; ".join(shape_problems[:3]))
    result = model.load_state_dict(state, strict=False, assign=True)
    missing = [k for k in result.missing_keys if not k.endswith("position_embeddings")]
    if missing or result.unexpected_keys:
        raise ModelLoadError(
            f"{model_dir}: weights do not match the model (missing {missing[:5]}, "
            f"unexpected {result.unexpected_keys[:5]})"
        )
    meta = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if meta:
        raise ModelLoadError(f"{model_dir}: the weights lack {meta[:5]}")
    model.eval()
    if dtype is not None:
        model.to(dtype)
    if device is not None:
        model.to(device)
    from .inference import set_precision

    set_precision(model, precision)
    model.preprocess_config = preprocess or PreprocessConfig(image_size=model.image_size)
    companions.attach(model, extras)
    model.source = str(name_or_path) if str(name_or_path) == str(model_dir) else f"{name_or_path} ({model_dir})"
    model.name_or_path = str(name_or_path)
    model.weights_dir = model_dir
    model.weights_files = weights_of(model_dir)  # hashed on demand (provenance of analyze's results), not at every load
    return model


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# what a pretrained backbone's weights fix (num_frames and image_size may change: VideoMAE's position
# embeddings are fixed sinusoids, made for any length)
_BACKBONE_SHAPE = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "patch_size",
                   "tubelet_size", "num_channels")


def from_backbone(
    backbone: str | os.PathLike = PUBLISHED_BACKBONE,
    *,
    resize_mode: str = "squash",
    **config_overrides: Any,
) -> ShotScopeModel:
    """A fresh two-head model whose VideoMAE backbone comes from a pretrained checkpoint."""
    from transformers import VideoMAEModel

    model_dir = resolve_model_dir(backbone)
    cfg_dict = read_config_dict(model_dir)
    clashes = [f"{key}={config_overrides[key]!r} (the backbone has {cfg_dict[key]!r})" for key in _BACKBONE_SHAPE
               if key in config_overrides and key in cfg_dict and config_overrides[key] != cfg_dict[key]]
    if clashes:
        raise ModelLoadError(f"{model_dir}: the backbone's weights fix its shape; drop the overrides "
                             f"{', '.join(clashes)}")
    config = config_from_dict(cfg_dict, **config_overrides)
    try:
        vmae = VideoMAEModel.from_pretrained(str(model_dir))
    except Exception as exc:
        raise ModelLoadError(f"{model_dir}: cannot load the VideoMAE backbone ({exc})") from exc
    model = ShotScopeModel(config)
    model.vmae.load_state_dict(vmae.state_dict())
    pre = PreprocessConfig.load(model_dir)  # its normalisation and shortest edge (the picture size: the model's)
    base = pre or PreprocessConfig(image_size=model.image_size)
    model.preprocess_config = PreprocessConfig(
        image_size=model.image_size, resize_mode=resize_mode, shortest_edge=base.shortest_edge,
        mean=base.mean, std=base.std, rescale_factor=base.rescale_factor,
    )
    model.source = f"backbone {backbone}"
    return model


def describe(model: ShotScopeModel) -> dict[str, Any]:
    """What `shotscope info` prints."""
    cfg = model.config
    pre = model.preprocess_config
    return {
        "source": model.source,
        "scale_labels": cfg.scale_labels,
        "movement_labels": cfg.movement_labels,
        "num_frames": cfg.num_frames,
        "image_size": model.image_size,
        "resize_mode": pre.resize_mode if pre else None,
        "hidden_size": cfg.hidden_size,
        "layers": cfg.num_hidden_layers,
        "parameters": sum(p.numel() for p in model.parameters()),
        **companions.described(model),
    }
