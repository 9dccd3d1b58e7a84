"""shotscope: shot scale and camera movement for every shot of a film.

The public names load on first use (PEP 562), so ``import shotscope`` and the command line
start fast; torch and transformers load with the first name that needs them. Touching
``shotscope.ShotScopeModel`` (or calling :func:`load_model`) also registers the model with
transformers' Auto classes.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "AnalyzeSettings": "analysis", "FilmAnalysis": "analysis", "Shot": "analysis", "analyze": "analysis",
    "DataError": "errors", "ModelLoadError": "errors", "ShotscopeError": "errors", "VideoDecodeError": "errors",
    "ShotscopeWarning": "errors",
    "MOVEMENT_LABELS": "labels", "SCALE_LABELS": "labels",
    "PUBLISHED_BACKBONE": "loading", "PUBLISHED_MODEL": "loading", "from_backbone": "loading", "load_model": "loading",
    "ShotScopeConfig": "modeling", "ShotScopeModel": "modeling", "ShotScopeOutput": "modeling",
    "estimate_movement": "motion",
    "PreprocessConfig": "preprocessing", "preprocess": "preprocessing",
    "sample_frames": "sampling",
    "open_video": "video",
    "write_outputs": "writers",
    "analyze_many": "batch",
    "Archive": "archive",
    "predict_records": "evaluation",
}

__all__ = [
    "Archive",
    "AnalyzeSettings",
    "DataError",
    "FilmAnalysis",
    "MOVEMENT_LABELS",
    "ModelLoadError",
    "PUBLISHED_BACKBONE",
    "PUBLISHED_MODEL",
    "PreprocessConfig",
    "SCALE_LABELS",
    "Shot",
    "ShotScopeConfig",
    "ShotScopeModel",
    "ShotScopeOutput",
    "ShotscopeError",
    "ShotscopeWarning",
    "VideoDecodeError",
    "analyze",
    "analyze_many",
    "estimate_movement",
    "from_backbone",
    "load_model",
    "open_video",
    "predict_records",
    "preprocess",
    "sample_frames",
    "write_outputs",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shotscope' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs: the names as if imported eagerly
    from .analysis import AnalyzeSettings, FilmAnalysis, Shot, analyze
    from .archive import Archive
    from .batch import analyze_many
    from .errors import DataError, ModelLoadError, ShotscopeError, ShotscopeWarning, VideoDecodeError
    from .evaluation import predict_records
    from .labels import MOVEMENT_LABELS, SCALE_LABELS
    from .loading import PUBLISHED_BACKBONE, PUBLISHED_MODEL, from_backbone, load_model
    from .modeling import ShotScopeConfig, ShotScopeModel, ShotScopeOutput
    from .motion import estimate_movement
    from .preprocessing import PreprocessConfig, preprocess
    from .sampling import sample_frames
    from .video import open_video
    from .writers import write_outputs
