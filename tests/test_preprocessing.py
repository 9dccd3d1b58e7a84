"""Preprocessing matches transformers' VideoMAE image processor; modes, settings and augmentations."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from transformers.models.videomae.image_processing_pil_videomae import VideoMAEImageProcessorPil

from shotscope.model.preprocessing import (
    AugmentConfig,
    PreprocessConfig,
    augment_clip,
    preprocess,
    reverse_movement_label,
)
from shotscope.video.sampling import sample_frames

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


@pytest.mark.parametrize("mode", ["squash", "center_crop", "letterbox"])
def test_batched_input_keeps_leading_dims(mode):
    frames = np.random.default_rng(0).integers(0, 255, (2, 3, 40, 60, 3), dtype=np.uint8)
    cfg = PreprocessConfig(image_size=32, resize_mode=mode)
    out = preprocess(frames, cfg)
    assert out.shape == (2, 3, 3, 32, 32) and out.dtype == torch.float32
    np.testing.assert_allclose(out[1], preprocess(frames[1], cfg), atol=1e-6)


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


# --- letterbox and crops, exactly ------------------------------------------------------------------

def _rows_and_cols(out: torch.Tensor) -> tuple[list[int], list[int]]:
    """Rows and columns of a letterboxed frame that hold picture (the input is all >= 1)."""
    mask = out.abs().sum(dim=tuple(range(out.ndim - 2))) > 0
    return torch.nonzero(mask.any(1)).ravel().tolist(), torch.nonzero(mask.any(0)).ravel().tolist()


@pytest.mark.parametrize(("h", "w", "rows", "cols"), [
    (10, 20, [2, 3, 4, 5], list(range(8))),  # 4 rows of picture, 2 + 2 of bars
    (10, 30, [2, 3, 4], list(range(8))),  # 3 rows: bars of 2 above and 3 below
    (30, 10, list(range(8)), [2, 3, 4]),  # pillarbox: 2 left, 3 right
    (1, 100, [3], list(range(8))),  # a sliver keeps one row
    (100, 1, list(range(8)), [3]),  # ... or one column
    (8, 8, list(range(8)), list(range(8))),
])
def test_letterbox_places_the_picture_in_the_middle(h, w, rows, cols):
    from shotscope.model.preprocessing import letterbox, resize

    x = torch.rand(2, 3, h, w) + 1.0
    out = letterbox(x, 8)
    assert out.shape == (2, 3, 8, 8)
    assert _rows_and_cols(out) == (rows, cols)
    inner = out[..., rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    torch.testing.assert_close(inner, resize(x, len(rows), len(cols)))
    single = letterbox(x[0], 8)  # one frame (3, H, W)
    torch.testing.assert_close(single, out[0])


class ScriptedRng:
    """Stands for numpy's Generator: returns the values given, records what it was asked."""

    def __init__(self, uniforms=(), integers=(), randoms=()):
        self.uniforms, self.integers_, self.randoms = list(uniforms), list(integers), list(randoms)
        self.calls: list[tuple] = []

    def uniform(self, low, high):
        self.calls.append(("uniform", low, high))
        return self.uniforms.pop(0)

    def integers(self, low, high):
        self.calls.append(("integers", low, high))
        return self.integers_.pop(0)

    def random(self):
        self.calls.append(("random",))
        return self.randoms.pop(0)


def test_random_resized_crop_takes_the_drawn_box():
    import math

    from shotscope.model.preprocessing import random_resized_crop, resize

    x = torch.rand(3, 3, 20, 30)
    # area 0.6 of 600 px = 360, aspect 1.6 -> 24 x 15 px; top 2 of 0..5, left 4 of 0..6
    rng = ScriptedRng(uniforms=[0.6, math.log(1.6)], integers=[2, 4])
    out = random_resized_crop(x, rng, (0.5, 0.9), (0.75, 1.8))
    assert rng.calls == [("uniform", 0.5, 0.9), ("uniform", math.log(0.75), math.log(1.8)),
                         ("integers", 0, 20 - 15 + 1), ("integers", 0, 30 - 24 + 1)]
    torch.testing.assert_close(out, resize(x[..., 2:17, 4:28], 20, 30))
    # the whole frame is a valid box (no retry), a one-pixel box too
    rng = ScriptedRng(uniforms=[1.0, math.log(1.5)], integers=[0, 0])
    torch.testing.assert_close(random_resized_crop(x, rng, (0.5, 1.0), (1.0, 2.0)), x)
    assert [c[0] for c in rng.calls] == ["uniform", "uniform", "integers", "integers"]
    rng = ScriptedRng(uniforms=[1 / 600, 0.0], integers=[7, 9])
    out = random_resized_crop(x, rng, (0.0, 1.0), (1.0, 1.0))
    torch.testing.assert_close(out, x[..., 7:8, 9:10].expand_as(out))


def test_random_resized_crop_retries_boxes_that_do_not_fit_ten_times():
    import math

    from shotscope.model.preprocessing import random_resized_crop, resize

    x = torch.rand(2, 3, 20, 30)
    # an empty box (0 px wide), then one too tall (aspect 1/4: 8 x 33 px), then 12 x 12 at (1, 2)
    rng = ScriptedRng(uniforms=[0.0001, 0.0, 0.45, math.log(0.25), 0.24, 0.0], integers=[1, 2])
    out = random_resized_crop(x, rng, (0.0, 1.0), (0.25, 4.0))
    assert [c[0] for c in rng.calls].count("uniform") == 6 and rng.calls[-2:] == [("integers", 0, 9),
                                                                                  ("integers", 0, 19)]
    torch.testing.assert_close(out, resize(x[..., 1:13, 2:14], 20, 30))
    # nothing fits in ten tries: the clip as it is, and no eleventh try
    rng = ScriptedRng(uniforms=[4.0, 0.0] * 11)
    assert random_resized_crop(x, rng, (4.0, 4.0), (1.0, 1.0)) is x
    assert len(rng.calls) == 20 and len(rng.uniforms) == 2


def test_flip_and_reversal_happen_below_their_probability_only():
    x = torch.arange(2 * 3 * 2 * 4, dtype=torch.float32).reshape(2, 3, 2, 4)
    aug = AugmentConfig(random_resized_crop=False, hflip=0.5, time_reverse=0.25)
    ids = {0: "Static", 1: "Motion", 2: "Pull", 3: "Push"}
    out, label = augment_clip(x, 3, ScriptedRng(randoms=[0.5, 0.25]), aug, ids)  # at the probability: no
    assert torch.equal(out, x) and label == 3
    out, label = augment_clip(x, 3, ScriptedRng(randoms=[0.49, 0.24]), aug, ids)  # below: both
    assert torch.equal(out, x.flip(-1).flip(0)) and label == 2
    never = AugmentConfig(random_resized_crop=False, hflip=0.0, time_reverse=0.0)
    out, label = augment_clip(x, 2, ScriptedRng(randoms=[0.0, 0.0]), never, ids)
    assert torch.equal(out, x) and label == 2


@pytest.mark.parametrize("cfg", [PreprocessConfig(image_size=64),
                                 PreprocessConfig(image_size=64, resize_mode="center_crop", shortest_edge=80,
                                                  mean=(0.4, 0.5, 0.6), std=(0.2, 0.3, 0.4))])
def test_a_saved_config_gives_transformers_the_same_pixels(cfg, tmp_path):
    """preprocessor_config.json as written is what transformers' own processor reads: the same
    resize, crop, rescale and normalisation, so a model folder works outside shotscope too."""
    frames = _real_frames()[:2]
    cfg.save(tmp_path)
    hf = VideoMAEImageProcessorPil.from_pretrained(tmp_path)
    theirs = hf(list(frames), return_tensors="pt")["pixel_values"][0]
    torch.testing.assert_close(preprocess(frames, cfg), theirs, atol=0.03, rtol=0)


def test_plain_transformers_configs_read_as_transformers_means_them():
    crop = PreprocessConfig.from_hf_dict({"size": {"shortest_edge": 200}, "crop_size": {"height": 160, "width": 160}})
    assert (crop.resize_mode, crop.image_size, crop.shortest_edge) == ("center_crop", 160, 200)  # crop by default
    assert (crop.mean, crop.std, crop.rescale_factor) == ((0.5,) * 3, (0.5,) * 3, 1 / 255)
    assert PreprocessConfig.from_hf_dict({"size": {"shortest_edge": 200}}, image_size=96).image_size == 96
    assert PreprocessConfig.from_hf_dict({}).image_size == 224
    squash = PreprocessConfig.from_hf_dict({"do_center_crop": False, "size": {"height": 112, "width": 112},
                                            "image_mean": [0.1, 0.2, 0.3], "rescale_factor": 0.5})
    assert (squash.resize_mode, squash.image_size, squash.shortest_edge) == ("squash", 112, None)
    assert (squash.mean, squash.rescale_factor) == ((0.1, 0.2, 0.3), 0.5)
    assert PreprocessConfig.from_hf_dict({"do_center_crop": False, "size": {"shortest_edge": 128}}).image_size == 128
    assert PreprocessConfig.from_hf_dict({"do_center_crop": False, "size": {"height": 112.0}}).image_size == 112
    with pytest.raises(ValueError, match="^expected a JSON object with 'size' and 'crop_size' objects$"):
        PreprocessConfig.from_hf_dict({"do_center_crop": False, "size": [224]})


def test_time_reversal_follows_the_checkpoint_label_order():
    swaps = AugmentConfig().reversible_movements
    assert [reverse_movement_label(i, {0: "Push", 1: "Pull", 2: "Static"}, swaps) for i in range(3)] == [1, 0, 2]
    # a label the swaps do not name keeps itself
    assert reverse_movement_label(1, {0: "Push", 1: "Tilt", 2: "Pull"}, swaps) == 1
    assert reverse_movement_label(0, {0: "Push", 1: "Tilt", 2: "Pull"}, swaps) == 2


def test_center_crop_takes_the_middle_and_pads_what_is_too_small():
    from shotscope.model.preprocessing import center_crop

    x = torch.rand(2, 3, 11, 12) + 1.0
    torch.testing.assert_close(center_crop(x, 8), x[..., 1:9, 2:10])  # (11 - 8) / 2 -> 1, (12 - 8) / 2 -> 2
    small = torch.rand(3, 5, 3) + 1.0  # one frame smaller than the crop both ways: zeros around it
    out = center_crop(small, 8)
    assert out.shape == (3, 8, 8)
    assert _rows_and_cols(out) == ([1, 2, 3, 4, 5], [2, 3, 4])  # 3 rows of padding: 1 above, 2 below
    torch.testing.assert_close(out[:, 1:6, 2:5], small)
    wide = torch.rand(1, 3, 4, 20) + 1.0  # too short only
    out = center_crop(wide, 8)
    assert _rows_and_cols(out) == ([2, 3, 4, 5], list(range(8)))
    torch.testing.assert_close(out[..., 2:6, :], wide[..., 6:14])
    assert center_crop(x[..., :8, :8], 8).shape == (2, 3, 8, 8)


def test_short_side_sizes_as_transformers_computes_them():
    from shotscope.model.preprocessing import shortest_edge_size

    assert shortest_edge_size(100, 200, 50) == (50, 100)  # landscape: height is the short side
    assert shortest_edge_size(200, 100, 50) == (100, 50)  # portrait
    assert shortest_edge_size(90, 90, 30) == (30, 30)
    assert shortest_edge_size(100, 333, 64) == (64, 213)  # the long side rounded down


def test_frames_must_be_height_width_and_three_channels():
    from shotscope.model.preprocessing import resize, to_chw

    one = np.zeros((4, 6, 3), np.uint8)
    assert to_chw(one).shape == (3, 4, 6)  # one frame
    assert to_chw(np.zeros((2, 5, 4, 6, 3), np.uint8)).shape == (2, 5, 3, 4, 6)
    for bad in (np.zeros((4, 6), np.uint8), np.zeros((2, 4, 6, 4), np.uint8), np.zeros((3, 6), np.uint8)):
        with pytest.raises(ValueError, match="^" + re.escape(f"expected frames shaped (..., H, W, 3), got {bad.shape}") + "$"):
            to_chw(bad)
    x = torch.rand(2, 3, 4, 6)
    assert resize(x, 4, 6) is x  # already that size: untouched


def test_settings_are_checked_with_the_reason():
    assert PreprocessConfig(image_size=1).image_size == 1
    assert PreprocessConfig(image_size=8192, shortest_edge=8192).shortest_edge == 8192
    for bad in (0, 8193, True, 2.0, None, "224"):
        with pytest.raises(ValueError, match=rf"^image_size must be a whole number of pixels \(1-8192\), got {re.escape(repr(bad))}$"):
            PreprocessConfig(image_size=bad)
    with pytest.raises(ValueError, match=r"^shortest_edge must be a whole number of pixels \(1-8192\), got 0$"):
        PreprocessConfig(shortest_edge=0)
    cfg = PreprocessConfig(mean=[0, 0.5, 1], std=np.array([0.25, 0.5, 1.0]))
    assert cfg.mean == (0.0, 0.5, 1.0) and cfg.std == (0.25, 0.5, 1.0)
    assert all(type(v) is float for v in cfg.mean + cfg.std)
    for bad in ((0.5, 0.5), "abc", 3, (1, 2, 3, 4)):
        with pytest.raises(ValueError, match=rf"^image_mean must be three numbers \(R, G, B\), got {re.escape(repr(bad))}$"):
            PreprocessConfig(mean=bad)
    with pytest.raises(ValueError, match=r"^image_mean must be finite, got \(0.5, inf, 0.5\)$"):
        PreprocessConfig(mean=(0.5, float("inf"), 0.5))
    for bad in ((0.5, 0.0, 0.5), (0.5, -0.1, 0.5), (0.5, float("nan"), 0.5)):
        with pytest.raises(ValueError, match=r"^image_std must be finite and > 0, got "):
            PreprocessConfig(std=bad)
    assert PreprocessConfig(mean=(-1.0, 0.0, 2.0)).mean == (-1.0, 0.0, 2.0)  # any finite mean
    for bad in (0, -1.0, float("nan"), float("inf"), "1/255", None):
        with pytest.raises(ValueError, match=rf"^rescale_factor must be a number > 0, got {re.escape(repr(bad))}$"):
            PreprocessConfig(rescale_factor=bad)
    assert PreprocessConfig(rescale_factor=1).rescale_factor == 1


def test_the_saved_file_states_every_setting_and_loads_back(tmp_path):
    """Readers other than this transformers (older versions, other tools) may default otherwise:
    the file says each step and its value; people read it, so it is indented."""
    cfg = PreprocessConfig(image_size=64, rescale_factor=1 / 127.5)
    text = cfg.save(tmp_path).read_text()
    data = json.loads(text)
    assert {k: data[k] for k in ("do_resize", "resample", "do_rescale", "rescale_factor", "do_normalize",
                                 "do_center_crop")} == {"do_resize": True, "resample": 2, "do_rescale": True,
                                                        "rescale_factor": 1 / 127.5, "do_normalize": True,
                                                        "do_center_crop": False}
    assert data["size"] == {"height": 64, "width": 64} and data["crop_size"] == {"height": 64, "width": 64}
    assert text.startswith('{\n  "image_processor_type": "VideoMAEImageProcessor",\n  "do_resize": true,')
    assert PreprocessConfig.load(tmp_path) == cfg
    hf = VideoMAEImageProcessorPil.from_pretrained(tmp_path)
    frames = _real_frames()[:1]
    torch.testing.assert_close(preprocess(frames, cfg), hf(list(frames), return_tensors="pt")["pixel_values"][0],
                               atol=0.06, rtol=0)  # twice the usual 0.03: the pixels are scaled twice as much
    # a BOM, and the model's own input size for a file that gives none
    (tmp_path / "preprocessor_config.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"do_center_crop": False}).encode())
    assert PreprocessConfig.load(tmp_path, image_size=96).image_size == 96
    assert PreprocessConfig.load(tmp_path).image_size == 224
    assert PreprocessConfig.load(tmp_path / "nowhere") is None
    (tmp_path / "preprocessor_config.json").write_text('{"image_mean": [1, 2]}')
    from shotscope import ModelLoadError

    with pytest.raises(ModelLoadError, match=r"preprocessor_config.json: not a valid preprocessor config "
                                             r"\(image_mean must be three numbers"):
        PreprocessConfig.load(tmp_path)


def test_odd_sizes_in_transformers_configs():
    assert PreprocessConfig.from_hf_dict({"crop_size": {"height": 160.0}}).image_size == 160
    with pytest.raises(ValueError, match="image_size must be a whole number"):
        PreprocessConfig.from_hf_dict({"crop_size": {"height": 160.5}})
    with pytest.raises(ValueError, match="image_size must be a whole number"):
        PreprocessConfig.from_hf_dict({"crop_size": {"height": "160"}})
    assert PreprocessConfig.from_hf_dict({"do_center_crop": False, "size": {"shortest_edge": 128}}).shortest_edge is None


def test_random_resized_crop_refuses_boxes_empty_one_way():
    import math

    from shotscope.model.preprocessing import random_resized_crop, resize

    x = torch.rand(2, 3, 20, 30)
    # 1 px of area at aspect 1/10 is 0 x 3 px, at 10 it is 3 x 0 px: both tried again
    rng = ScriptedRng(uniforms=[1 / 600, math.log(0.1), 1 / 600, math.log(10.0), 0.24, 0.0], integers=[1, 2])
    out = random_resized_crop(x, rng, (0.0, 1.0), (0.1, 10.0))
    assert [c[0] for c in rng.calls] == ["uniform"] * 6 + ["integers"] * 2
    torch.testing.assert_close(out, resize(x[..., 1:13, 2:14], 20, 30))
