"""shotscope: shot scale and camera movement for every shot of a film."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import DataError, ModelLoadError, ShotscopeError, VideoDecodeError
from .labels import MOVEMENT_LABELS, SCALE_LABELS
from .loading import PUBLISHED_BACKBONE, PUBLISHED_MODEL, from_backbone, load_model
from .modeling import ShotScopeConfig, ShotScopeModel, ShotScopeOutput
from .preprocessing import PreprocessConfig, preprocess

__all__ = [
    "MOVEMENT_LABELS",
    "PUBLISHED_BACKBONE",
    "PUBLISHED_MODEL",
    "SCALE_LABELS",
    "DataError",
    "ModelLoadError",
    "PreprocessConfig",
    "ShotScopeConfig",
    "ShotScopeModel",
    "ShotScopeOutput",
    "ShotscopeError",
    "VideoDecodeError",
    "__version__",
    "from_backbone",
    "load_model",
    "preprocess",
]
