"""shotscope: shot scale and camera movement for every shot of a film."""

from __future__ import annotations

__version__ = "0.1.0"

from .analysis import AnalyzeSettings, FilmAnalysis, Shot, analyze
from .errors import DataError, ModelLoadError, ShotscopeError, VideoDecodeError
from .labels import MOVEMENT_LABELS, SCALE_LABELS
from .loading import PUBLISHED_BACKBONE, PUBLISHED_MODEL, from_backbone, load_model
from .modeling import ShotScopeConfig, ShotScopeModel, ShotScopeOutput
from .motion import estimate_movement
from .preprocessing import PreprocessConfig, preprocess
from .sampling import sample_frames
from .video import open_video
from .writers import write_outputs

__all__ = [
    "AnalyzeSettings",
    "FilmAnalysis",
    "Shot",
    "analyze",
    "estimate_movement",
    "open_video",
    "sample_frames",
    "write_outputs",
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
