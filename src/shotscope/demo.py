"""The offline demo: a generated film, a small model trained on synthetic clips (cached), one analysis."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .analysis.film import AnalyzeSettings, FilmAnalysis, analyze
from .files import cache_dir
from .outputs.writers import write_outputs

DEMO_SHOTS = [
    ("LS", "Static", 48), ("MS", "Push", 40), ("CS", "Static", 36), ("ECS", "Pull", 30), ("FS", "Motion", 44),
    ("LS", "Motion", 40), ("CS", "Push", 36), ("MS", "Static", 30), ("FS", "Pull", 40), ("ECS", "Static", 24),
    ("MS", "Motion", 44), ("LS", "Pull", 36),
]
TRAIN_OVERRIDES = ["train.epochs=12", "train.progress=true", "train.logging_steps=50"]


def truth_of(shot) -> tuple[str, str]:
    """The (scale, movement) the demo film was made with where ``shot`` has its middle frame."""
    middle, start = (shot.start_frame + shot.end_frame) // 2, 0
    for scale, movement, frames in DEMO_SHOTS:
        if middle < start + frames:
            return scale, movement
        start += frames
    return DEMO_SHOTS[-1][:2]


def demo_film(root: Path) -> Path:
    from .data.synthetic import make_film

    film = root / "demo-film.mp4"
    if not film.is_file():
        make_film(film, DEMO_SHOTS, width=640, height=360, fps=24)
    return film


def demo_model(root: Path, config: Path | None = None, progress: bool | None = None) -> Path:
    """Train (once) a tiny model on synthetic clips and fit its movement combiner."""
    from .data.manifest import read_manifest
    from .data.synthetic import SynthSettings, generate, split_manifest
    from .errors import ShotscopeError
    from .model.loading import load_model
    from .training.fusion import fit_fusion
    from .training.trainer import TINY_CONFIG, train

    model_dir = root / "demo-model" / "model"
    try:
        if load_model(model_dir).movement_fusion is not None:
            return model_dir
    except ShotscopeError:  # not trained yet, or its combiner is from another shotscope version
        pass
    manifest = generate(root / "demo-synth", 320, settings=SynthSettings(width=128, height=72, frames=16, fps=24),
                        progress=progress)
    train_csv, val_csv = split_manifest(manifest, 0.2)
    if not (model_dir / "model.safetensors").is_file():
        train(config or TINY_CONFIG, [f"output_dir={root / 'demo-model'}", f"data.train={train_csv}",
                                      f"data.val={val_csv}", *TRAIN_OVERRIDES], progress=progress)
    (model_dir / "movement_fusion.json").unlink(missing_ok=True)
    model = load_model(model_dir)
    records, _ = read_manifest(val_csv)
    fusion, scores = fit_fusion(model, records, progress=progress)
    fusion.save(model_dir)
    logging.getLogger(__name__).info(
        "demo model movement accuracy on validation clips: network %.2f, geometry %.2f, fused %.2f "
        "(cross-validated)", scores["model"], scores["geometry"], scores["fused"] or 0.0)
    return model_dir


def run_demo(out: str | os.PathLike = "demo-out", root: Path | None = None,
             progress: bool | None = None) -> tuple[FilmAnalysis, Path]:
    from .model.loading import load_model

    root = root or cache_dir() / "demo"
    root.mkdir(parents=True, exist_ok=True)
    film = demo_film(root)
    model = load_model(demo_model(root, progress=progress))
    result = analyze(film, model, settings=AnalyzeSettings(), progress=progress)  # fused: it carries a combiner
    files = write_outputs(result, Path(out))
    return result, files["report"]
