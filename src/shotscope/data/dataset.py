"""A torch Dataset of labelled clips -> model inputs (from the frame cache when it has the clip)."""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import ShotscopeWarning, VideoDecodeError
from ..model.preprocessing import (
    AugmentConfig,
    PreprocessConfig,
    augment_clip,
    normalize,
    resize_frames,
    to_chw,
)
from ..video.sampling import sample_frames
from .cache import load_cached, pick
from .records import ClipRecord


class ClipDataset(Dataset):
    """Items: ``pixel_values`` (T, 3, S, S), ``scale_labels``, ``movement_labels``."""

    def __init__(self, records: list[ClipRecord], num_frames: int, preprocess: PreprocessConfig, *,
                 augment: AugmentConfig | None = None, movement_id2label: dict[int, str] | None = None,
                 cache_dir: str | os.PathLike | None = None, seed: int = 0):
        if not records:
            raise ValueError("no clips to load")
        self.records = records
        self.num_frames = num_frames
        self.preprocess = preprocess
        self.augment = augment
        self.movement_id2label = movement_id2label or {0: "Static", 1: "Motion", 2: "Pull", 3: "Push"}
        self.cache_dir = cache_dir
        self.seed = seed
        self.epoch = 0  # set by the trainer at each epoch: augmentations depend on (seed, clip, epoch) only

    def __len__(self) -> int:
        return len(self.records)

    def frames(self, record: ClipRecord, rng: np.random.Generator | None) -> torch.Tensor:
        cached = load_cached(self.cache_dir, record)
        if cached is not None:
            return pick(cached, self.num_frames, rng)
        return torch.from_numpy(sample_frames(record.path, self.num_frames, record.start, record.end).frames[0])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = None
        if self.augment is not None:
            # the same in any worker process and after a resume: a resumed run sees the clips an
            # uninterrupted one would
            rng = np.random.default_rng([self.seed, i, self.epoch])
        record = self.records[i]
        try:
            frames = self.frames(record, rng)
        except VideoDecodeError as exc:
            warnings.warn(f"skipping {exc}", ShotscopeWarning, stacklevel=2)
            return self[(i + 1) % len(self)]
        movement = record.movement
        x = to_chw(frames)
        if self.augment is not None:
            x, movement = augment_clip(x, movement, rng, self.augment, self.movement_id2label)
        pixel_values = normalize(resize_frames(x, self.preprocess), self.preprocess)
        return {
            "pixel_values": pixel_values,
            "scale_labels": torch.tensor(record.scale),
            "movement_labels": torch.tensor(movement),
        }

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def label_counts(self, task: str, num_classes: int) -> np.ndarray:
        ids = np.array([getattr(r, task) for r in self.records])
        return np.bincount(ids[ids >= 0], minlength=num_classes)
