"""Preprocessing matches transformers' VideoMAE image processor; modes, settings and augmentations."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers.models.videomae.image_processing_pil_videomae import VideoMAEImageProcessorPil

from shotscope.preprocessing import (
    AugmentConfig,
    PreprocessConfig,
    augment_clip,
    preprocess,
    reverse_movement_label,
)
from shotscope.sampling import sample_frames

from .conftest import REAL_VIDEO_DIR


def _real_frames() -> np.ndarray:
    """Real frames: the shared footage when present, else photographs shipped with scikit-image."""
    path = REAL_VIDEO_DIR / "testvideo.mp4"
    if path.is_file():
        return sample_frames(path, 8).frames[0]
    from skimage import data
    from skimage.transform import resize

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    return np.stack([(resize(p, (360, 640)) * 255).astype(np.uint8) for p in photos])


@pytest.mark.parametrize(
    "mode,hf_kwargs",
    [
        ("center_crop", dict(size={"shortest_edge": 224}, do_center_crop=True, crop_size={"height": 224, "width": 224})),
        ("squash", dict(size={"height": 224, "width": 224}, do_center_crop=False)),
    ],
)
def test_matches_transformers_videomae_processor(mode, hf_kwargs):
    frames = _real_frames()
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    hf = VideoMAEImageProcessorPil(image_mean=list(mean), image_std=list(std), **hf_kwargs)
    ref = hf(list(frames), return_tensors="pt")["pixel_values"][0]
    ours = preprocess(frames, PreprocessConfig(image_size=224, resize_mode=mode, mean=mean, std=std))
    assert ours.shape == ref.shape == (len(frames), 3, 224, 224)
    diff = (ours - ref).abs()
    assert diff.mean() <= 0.02 and diff.max() < 0.1


def test_letterbox_keeps_the_whole_frame_at_its_aspect():
    frame = np.full((1, 100, 240, 3), 255, np.uint8)  # 2.4:1 white frame
    cfg = PreprocessConfig(image_size=48, resize_mode="letterbox", mean=(0, 0, 0), std=(1, 1, 1))
    out = preprocess(frame, cfg)[0, 0]
    rows = (out > 0.5).any(dim=1)
    assert out.shape == (48, 48)
    assert rows.sum().item() == 20  # 48 / 2.4
    assert not rows[:14].any() and not rows[-14:].any()
    assert (out[14:34] > 0.99).all()


def test_center_crop_drops_the_edges_and_squash_keeps_them():
    frame = np.zeros((1, 100, 300, 3), np.uint8)
    frame[:, :, :40] = 255  # something at the left edge
    crop = preprocess(frame, PreprocessConfig(image_size=50, resize_mode="center_crop", mean=(0,) * 3, std=(1,) * 3))
    squash = preprocess(frame, PreprocessConfig(image_size=50, resize_mode="squash", mean=(0,) * 3, std=(1,) * 3))
    assert crop.max() == 0
    assert squash[..., :6].min() > 0.9


def test_batched_input_keeps_leading_dims():
    frames = np.random.default_rng(0).integers(0, 255, (2, 3, 40, 60, 3), dtype=np.uint8)
    out = preprocess(frames, PreprocessConfig(image_size=32))
    assert out.shape == (2, 3, 3, 32, 32) and out.dtype == torch.float32
    np.testing.assert_allclose(out[1], preprocess(frames[1], PreprocessConfig(image_size=32)))


def test_settings_round_trip_as_hf_preprocessor_config(tmp_path):
    cfg = PreprocessConfig(image_size=160, resize_mode="letterbox", mean=(0.5,) * 3, std=(0.5,) * 3)
    cfg.save(tmp_path)
    raw = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert raw["image_processor_type"] == "VideoMAEImageProcessor" and raw["do_center_crop"] is False
    assert PreprocessConfig.load(tmp_path) == cfg
    crop = PreprocessConfig(image_size=224, resize_mode="center_crop", shortest_edge=256)
    crop.save(tmp_path)
    assert PreprocessConfig.load(tmp_path) == crop
    # a plain VideoMAE preprocessor config (no shotscope key): crop on -> center_crop
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(
        {"do_center_crop": True, "size": {"shortest_edge": 224}, "crop_size": {"height": 224, "width": 224}}))
    plain = PreprocessConfig.load(tmp_path)
    assert plain.resize_mode == "center_crop" and plain.mean == (0.5, 0.5, 0.5)
    with pytest.raises(ValueError, match="resize_mode"):
        PreprocessConfig(resize_mode="stretch")


def test_time_reversal_swaps_push_and_pull_only():
    id2label = {0: "Static", 1: "Motion", 2: "Pull", 3: "Push"}
    swaps = AugmentConfig().reversible_movements
    assert [reverse_movement_label(i, id2label, swaps) for i in range(4)] == [0, 1, 3, 2]
    assert reverse_movement_label(-100, id2label, swaps) == -100


def test_augment_clip_reverses_frames_with_the_label():
    clip = torch.arange(4, dtype=torch.float32).view(4, 1, 1, 1).expand(4, 3, 8, 8).clone()
    id2label = {0: "Static", 1: "Motion", 2: "Pull", 3: "Push"}
    aug = AugmentConfig(random_resized_crop=False, hflip=0.0, time_reverse=1.0)
    out, label = augment_clip(clip, 3, np.random.default_rng(0), aug, id2label)
    assert label == 2 and out[:, 0, 0, 0].tolist() == [3, 2, 1, 0]
    keep = AugmentConfig(random_resized_crop=False, hflip=1.0, time_reverse=0.0)
    ramp = torch.arange(8, dtype=torch.float32).expand(2, 3, 8, 8)
    out, label = augment_clip(ramp, 3, np.random.default_rng(0), keep, id2label)
    assert label == 3 and out[0, 0, 0].tolist() == list(range(7, -1, -1))
    crop = AugmentConfig(random_resized_crop=True, crop_area=(0.5, 0.6), hflip=0.0, time_reverse=0.0)
    out, _ = augment_clip(ramp, 1, np.random.default_rng(1), crop, id2label)
    assert out.shape == ramp.shape and not torch.equal(out, ramp)
