"""Frames -> model input, as batched torch operations; the settings travel with each model.

Three ways to make the square input a VideoMAE model takes:

- ``squash``: the whole frame resized to SxS (no crop). How the published multitask model
  is fed; keeps the whole composition, which shot scale depends on.
- ``letterbox``: the whole frame fitted inside SxS at its own aspect ratio, padded black.
- ``center_crop``: shortest edge resized to ``shortest_edge``, then an SxS centre crop
  (the Kinetics-style VideoMAE default; drops the edges of wide frames).

The numbers match transformers' ``VideoMAEImageProcessor`` for the same settings.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ModelLoadError
from ..files import atomic_write_text

ResizeMode = Literal["squash", "letterbox", "center_crop"]
RESIZE_MODES: tuple[str, ...] = ("squash", "letterbox", "center_crop")
PREPROCESSOR_FILE = "preprocessor_config.json"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class PreprocessConfig:
    """How frames become model input. Saved as an HF ``preprocessor_config.json``."""

    image_size: int = 224
    resize_mode: str = "squash"
    shortest_edge: int | None = None  # center_crop only; defaults to image_size
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    rescale_factor: float = 1 / 255

    def __post_init__(self) -> None:
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(f"resize_mode must be one of {RESIZE_MODES}, got {self.resize_mode!r}")
        for name in ("image_size", "shortest_edge"):
            value = getattr(self, name)
            if value is None and name == "shortest_edge":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 8192:
                raise ValueError(f"{name} must be a whole number of pixels (1-8192), got {value!r}")
        for name in ("mean", "std"):
            values = getattr(self, name)
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) != 3:
                raise ValueError(f"image_{name} must be three numbers (R, G, B), got {values!r}")
            values = tuple(float(v) for v in values)
            if not all(math.isfinite(v) for v in values) or (name == "std" and min(values) <= 0):
                raise ValueError(f"image_{name} must be finite{' and > 0' if name == 'std' else ''}, got {values}")
            setattr(self, name, values)
        if not (isinstance(self.rescale_factor, (int, float)) and math.isfinite(self.rescale_factor)
                and self.rescale_factor > 0):
            raise ValueError(f"rescale_factor must be a number > 0, got {self.rescale_factor!r}")

    # --- HF preprocessor_config.json round trip -------------------------------------
    def to_hf_dict(self) -> dict:
        crop = self.resize_mode == "center_crop"
        size = (
            {"shortest_edge": self.shortest_edge or self.image_size}
            if crop
            else {"height": self.image_size, "width": self.image_size}
        )
        return {
            "image_processor_type": "VideoMAEImageProcessor",
            "do_resize": True,
            "size": size,
            "resample": 2,
            "do_center_crop": crop,
            "crop_size": {"height": self.image_size, "width": self.image_size},
            "do_rescale": True,
            "rescale_factor": self.rescale_factor,
            "do_normalize": True,
            "image_mean": list(self.mean),
            "image_std": list(self.std),
            "shotscope_resize_mode": self.resize_mode,
        }

    @classmethod
    def from_hf_dict(cls, d: dict, image_size: int | None = None) -> PreprocessConfig:
        """Read an HF preprocessor config. Without a shotscope mode, center crop off means squash."""
        if not isinstance(d, dict) or not isinstance(d.get("size") or {}, dict) \
                or not isinstance(d.get("crop_size") or {}, dict):
            raise ValueError("expected a JSON object with 'size' and 'crop_size' objects")
        size = d.get("size") or {}
        crop_size = d.get("crop_size") or {}
        crop = bool(d.get("do_center_crop", True))
        mode = d.get("shotscope_resize_mode") or ("center_crop" if crop else "squash")
        if mode == "center_crop":
            side = crop_size.get("height") or image_size or 224
        else:
            side = image_size or size.get("height") or size.get("shortest_edge") or 224
        return cls(
            image_size=side if isinstance(side, int) else int(side) if isinstance(side, float) and side.is_integer() else side,
            resize_mode=mode,
            shortest_edge=size.get("shortest_edge") if mode == "center_crop" else None,
            mean=tuple(d.get("image_mean", (0.5, 0.5, 0.5))),
            std=tuple(d.get("image_std", (0.5, 0.5, 0.5))),
            rescale_factor=float(d.get("rescale_factor", 1 / 255)),
        )

    def save(self, directory: str | os.PathLike) -> Path:
        path = Path(directory) / PREPROCESSOR_FILE
        atomic_write_text(path, json.dumps(self.to_hf_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike, image_size: int | None = None) -> PreprocessConfig | None:
        path = Path(directory) / PREPROCESSOR_FILE
        if not path.is_file():
            return None
        try:
            return cls.from_hf_dict(json.loads(path.read_text(encoding="utf-8-sig")), image_size=image_size)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise ModelLoadError(f"{path}: not a valid preprocessor config ({exc})") from None


# --- tensor operations --------------------------------------------------------------------


def to_chw(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 frames (..., H, W, 3) -> a (..., 3, H, W) view (channels-last in memory, no copy)."""
    t = torch.as_tensor(frames)
    if t.ndim < 3 or t.shape[-1] != 3:
        raise ValueError(f"expected frames shaped (..., H, W, 3), got {tuple(t.shape)}")
    return t.movedim(-1, -3)


def resize(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Antialiased bilinear resize (as PIL's); uint8 input stays uint8 and takes torch's fast path."""
    if x.shape[-2:] == (height, width):
        return x
    lead = x.shape[:-3]
    flat = x.reshape(-1, *x.shape[-3:])
    if flat.dtype == torch.uint8:
        flat = flat.contiguous(memory_format=torch.channels_last)
    out = F.interpolate(flat, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return out.reshape(*lead, *out.shape[-3:])


def shortest_edge_size(height: int, width: int, shortest: int) -> tuple[int, int]:
    """Output (h, w) with the short side ``shortest``, as transformers computes it."""
    short, long = (width, height) if width <= height else (height, width)
    new_long = int(shortest * long / short)
    return (new_long, shortest) if width <= height else (shortest, new_long)


def center_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    if h < size or w < size:
        pad_w, pad_h = max(size - w, 0), max(size - h, 0)
        x = F.pad(x, (pad_w // 2, (pad_w + 1) // 2, pad_h // 2, (pad_h + 1) // 2))
        h, w = x.shape[-2:]
    top, left = int((h - size) / 2.0), int((w - size) / 2.0)
    return x[..., top : top + size, left : left + size]


def letterbox(x: torch.Tensor, size: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    x = resize(x, nh, nw)
    pad_w, pad_h = size - nw, size - nh
    return F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))


def resize_frames(x: torch.Tensor, cfg: PreprocessConfig) -> torch.Tensor:
    """Geometry only: float (..., 3, H, W) -> (..., 3, S, S) by the config's mode."""
    s = cfg.image_size
    if cfg.resize_mode == "squash":
        return resize(x, s, s)
    if cfg.resize_mode == "letterbox":
        return letterbox(x, s)
    h, w = x.shape[-2:]
    nh, nw = shortest_edge_size(h, w, cfg.shortest_edge or s)
    return center_crop(resize(x, nh, nw), s)


def normalize(x: torch.Tensor, cfg: PreprocessConfig) -> torch.Tensor:
    """0..255 pixels (uint8 or float) -> rescaled, normalised float32 (contiguous)."""
    scale = torch.tensor([cfg.rescale_factor / s for s in cfg.std]).view(3, 1, 1)
    shift = torch.tensor([m / s for m, s in zip(cfg.mean, cfg.std, strict=True)]).view(3, 1, 1)
    return (x.float() * scale - shift).contiguous()


def preprocess(frames: np.ndarray | torch.Tensor, cfg: PreprocessConfig) -> torch.Tensor:
    """uint8 frames (T, H, W, 3) or (N, T, H, W, 3) -> normalised float (.., T, 3, S, S)."""
    return normalize(resize_frames(to_chw(frames), cfg), cfg)


# --- training augmentations ---------------------------------------------------------------


@dataclass
class AugmentConfig:
    """Training-time augmentations. Time reversal swaps Push <-> Pull and keeps the rest."""

    random_resized_crop: bool = True
    crop_area: tuple[float, float] = (0.7, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    hflip: float = 0.5
    time_reverse: float = 0.5
    reversible_movements: dict[str, str] = field(
        default_factory=lambda: {"Push": "Pull", "Pull": "Push", "Static": "Static", "Motion": "Motion"}
    )


def reverse_movement_label(label: int, id2label: dict[int, str], swaps: dict[str, str]) -> int:
    """The movement label of the clip played backwards (-100 stays -100)."""
    if label < 0:
        return label
    name = swaps.get(id2label[label], id2label[label])
    return {v: k for k, v in id2label.items()}[name]


def random_resized_crop(
    x: torch.Tensor, rng: np.random.Generator, area: tuple[float, float], ratio: tuple[float, float]
) -> torch.Tensor:
    """The same random crop on every frame of a clip (T, 3, H, W); output keeps H, W."""
    h, w = x.shape[-2:]
    for _ in range(10):
        target = h * w * rng.uniform(*area)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        cw, ch = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            return resize(x[..., top : top + ch, left : left + cw], h, w)
    return x


def augment_clip(
    frames: torch.Tensor,
    movement_label: int,
    rng: np.random.Generator,
    aug: AugmentConfig,
    movement_id2label: dict[int, str],
) -> tuple[torch.Tensor, int]:
    """Augment one clip (T, 3, H, W) in the 0..255 range; returns frames and the new movement label."""
    if aug.random_resized_crop:
        frames = random_resized_crop(frames, rng, aug.crop_area, aug.crop_ratio)
    if rng.random() < aug.hflip:
        frames = frames.flip(-1)
    if rng.random() < aug.time_reverse:
        frames = frames.flip(0)
        movement_label = reverse_movement_label(movement_label, movement_id2label, aug.reversible_movements)
    return frames, movement_label


def input_side(model: Any) -> int:
    """Short side the sampled frames need so the model's resize only ever shrinks them."""
    pre = model.preprocess_config
    if pre is not None and pre.resize_mode == "center_crop":
        return pre.shortest_edge or pre.image_size
    return pre.image_size if pre is not None else model.image_size
