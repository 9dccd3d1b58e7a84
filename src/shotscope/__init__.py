"""shotscope: shot scale and camera movement for every shot of a film.

The public names load on first use (PEP 562), so ``import shotscope`` and the command line
start fast; torch and transformers load with the first name that needs them. Touching
``shotscope.ShotScopeModel`` (or calling :func:`load_model`) also registers the model with
transformers' Auto classes.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .version import __version__

# OpenVINO's converter and NNCF send usage statistics to Google Analytics by default once the
# openvino-telemetry package is installed (NNCF requires it): an archive's machine should not
# report on its work, and offline the processes they fork to send keep Python from exiting. Both
# fall back to their own stubs where the package cannot be imported; this makes it so, unless
# something imported it before shotscope.
sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]


FUSION_FILE = "movement_fusion.json"  # shotscope.sources.fusion.FUSION_FILE


def _register_companions() -> None:
    """The label sources' movement combiner travels with a saved model: read (and checked) with it,
    written beside it. Wired here, at the top, so that the network's package knows no stage above it."""
    from .model.companions import register

    def load_fusion(folder):
        from .sources.fusion import MovementFusion  # here: `import shotscope` stays light

        return MovementFusion.load(folder)

    register("movement_fusion", FUSION_FILE, load_fusion)


_register_companions()

_EXPORTS = {
    "AnalyzeSettings": "analysis.film", "FilmAnalysis": "analysis.film", "Shot": "analysis.film", "analyze": "analysis.film",
    "DataError": "errors", "ModelLoadError": "errors", "ShotscopeError": "errors", "VideoDecodeError": "errors",
    "ShotscopeWarning": "errors",
    "MOVEMENT_LABELS": "labels", "SCALE_LABELS": "labels",
    "PUBLISHED_BACKBONE": "model.loading", "PUBLISHED_MODEL": "model.loading", "from_backbone": "model.loading", "load_model": "model.loading",
    "ShotScopeConfig": "model.modeling", "ShotScopeModel": "model.modeling", "ShotScopeOutput": "model.modeling",
    "estimate_movement": "sources.geometry", "estimate_scale": "sources.people",
    "fetch_people_models": "sources.pose_models",
    "PreprocessConfig": "model.preprocessing", "preprocess": "model.preprocessing",
    "sample_frames": "video.sampling",
    "open_video": "video.decode",
    "write_outputs": "outputs.writers",
    "analyze_many": "runs.batch",
    "Archive": "archive.database",
    "predict_records": "training.evaluation",
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
    "estimate_scale",
    "fetch_people_models",
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
    from .analysis.film import AnalyzeSettings, FilmAnalysis, Shot, analyze
    from .archive.database import Archive
    from .errors import DataError, ModelLoadError, ShotscopeError, ShotscopeWarning, VideoDecodeError
    from .labels import MOVEMENT_LABELS, SCALE_LABELS
    from .model.loading import PUBLISHED_BACKBONE, PUBLISHED_MODEL, from_backbone, load_model
    from .model.modeling import ShotScopeConfig, ShotScopeModel, ShotScopeOutput
    from .model.preprocessing import PreprocessConfig, preprocess
    from .outputs.writers import write_outputs
    from .runs.batch import analyze_many
    from .sources.geometry import estimate_movement
    from .sources.people import estimate_scale
    from .sources.pose_models import fetch_people_models
    from .training.evaluation import predict_records
    from .video.decode import open_video
    from .video.sampling import sample_frames
