"""Shared fixtures: tiny VideoMAE configs, and the real footage beside the project when present."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REAL_VIDEO_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "real-video"

TINY = dict(
    image_size=32,
    patch_size=16,
    num_frames=4,
    tubelet_size=2,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
)


@pytest.fixture(scope="session", autouse=True)
def people_models():
    """MediaPipe's pose and face models for the scale from people: where ``make install`` put them
    (fetched here, from the mediapipe wheel, where a bare pytest runs without them). Named for the
    whole session, so a test's own cache (:func:`user_cache`) keeps them."""
    from shotscope.sources.pose_models import fetch_people_models, models_dir

    folder = models_dir()
    fetch_people_models(folder)
    os.environ["SHOTSCOPE_PEOPLE_MODELS"] = str(folder)
    return folder


@pytest.fixture
def user_cache(tmp_path, monkeypatch):
    """The user's shotscope cache (converted networks, the precision probe's record) in a folder of
    the test's own."""
    monkeypatch.setenv("SHOTSCOPE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def random_clips(model, n: int = 6, seed: int = 0) -> list:
    """``n`` clips of random pixels of one view each, (1, T, 48, 64, 3) uint8, for ``model``'s frames."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (1, model.num_frames, 48, 64, 3), dtype=np.uint8) for _ in range(n)]


class Terminal(io.StringIO):
    """A stream that says it is a terminal: where progress bars show unless told otherwise."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def tiny_config():
    from shotscope import ShotScopeConfig

    return ShotScopeConfig(**TINY)


@pytest.fixture
def tiny_model(tiny_config):
    import torch

    from shotscope import PreprocessConfig, ShotScopeModel

    torch.manual_seed(0)
    model = ShotScopeModel(tiny_config).eval()
    model.preprocess_config = PreprocessConfig(image_size=tiny_config.image_size)
    return model


def real_video(name: str) -> Path:
    """A file from ../shared/fixtures/real-video; the test skips when it is absent."""
    path = REAL_VIDEO_DIR / name
    if not path.is_file():
        pytest.skip(f"real-video fixture {name} not present")
    return path


@pytest.fixture
def movieshots_tree(tmp_path):
    """A MovieShots folder of four labelled shots (one file missing) and its split file."""
    import json

    from .videos import index_video

    root = tmp_path / "movieshots"
    labels = {
        "tt0000001": {
            "0001": {"scale": {"label": "CS", "value": 4}, "movement": {"label": "Push", "value": 0}},
            "0002": {"movement": {"label": "Multi_movement", "value": 9}},
            "0003": {"scale": {"label": "LS", "value": 1}, "movement": {"label": "Static", "value": 1}},
        },
        "tt0000002": {"0010": {"scale": {"label": "ECS", "value": 0}, "movement": {"label": "Pull", "value": 2}}},
    }
    split = {"train": {"tt0000001": ["0001", "0002", "0003"], "tt0000002": ["0010"]}, "val": {}, "test": {}}
    root.mkdir()
    (root / "v1_full_trailer.json").write_text(json.dumps(labels))
    (root / "v1_split_trailer.json").write_text(json.dumps(split))
    for imdb, shot in [("tt0000001", "0001"), ("tt0000001", "0002"), ("tt0000002", "0010")]:  # 0003 missing
        index_video(root / "trailer" / imdb / f"shot_{shot}.mp4", 6)
    return root


def reordered(model, scale_order: list[int], movement_order: list[int]):
    """The same network with its heads' rows and its label maps in another order: a model that
    answers the same, listing its labels differently (as a checkpoint of another maker may)."""
    import torch

    from shotscope import ShotScopeConfig, ShotScopeModel

    cfg = model.config.to_dict()
    cfg.update(scale_id2label={i: model.config.scale_labels[j] for i, j in enumerate(scale_order)},
               movement_id2label={i: model.config.movement_labels[j] for i, j in enumerate(movement_order)},
               scale_label2id=None, movement_label2id=None)
    other = ShotScopeModel(ShotScopeConfig(**{k: v for k, v in cfg.items() if k != "transformers_version"}))
    state = model.state_dict()
    with torch.no_grad():
        for head, order in (("scale_cf", scale_order), ("movement_cf", movement_order)):
            for part in ("weight", "bias"):
                state[f"{head}.{part}"] = state[f"{head}.{part}"][order]
    other.load_state_dict(state)
    other.preprocess_config = model.preprocess_config
    return other.eval()
