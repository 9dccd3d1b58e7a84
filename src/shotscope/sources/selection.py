"""Which label source answers each task: the same rule for analyze, predict and evaluate."""

from __future__ import annotations

from typing import Any

from ..errors import DataError

MOVEMENT_SOURCES = ("auto", "model", "geometry", "fused")
SCALE_SOURCES = ("auto", "model", "people", "none")
# who finds the people for the scale from people: auto = MediaPipe's models where fetched, else OpenCV's
PEOPLE_DETECTORS = ("auto", "mediapipe", "opencv")


def resolve_movement(model: Any | None, choice: str = "auto") -> str:
    """The movement source for this model: ``auto`` is fused when the model carries a fitted
    combiner, the network otherwise, geometry without a model. The same rule for analyze,
    predict and evaluate. Raises DataError for a choice the model cannot serve."""
    if choice not in MOVEMENT_SOURCES:
        raise DataError(f"movement must be one of {', '.join(MOVEMENT_SOURCES)}, got {choice!r}")
    if choice == "auto":
        return "geometry" if model is None else "fused" if model.movement_fusion is not None else "model"
    if model is None and choice != "geometry":
        raise DataError(f"movement {choice!r} needs a model; without one use movement 'geometry'")
    if choice == "fused" and model.movement_fusion is None:
        raise DataError("movement 'fused' needs a model with a fitted movement combiner (shotscope fit-fusion)")
    return choice



def resolve_scale(model: Any | None, choice: str = "auto") -> str:
    """The scale source for this model: ``auto`` is the network when there is one, the people in the
    frame without one; ``none`` leaves scale empty. Raises DataError for a choice the model cannot serve."""
    if choice not in SCALE_SOURCES:
        raise DataError(f"scale must be one of {', '.join(SCALE_SOURCES)}, got {choice!r}")
    if choice == "auto":
        return "people" if model is None else "model"
    if model is None and choice == "model":
        raise DataError("scale 'model' needs a model; without one use scale 'people'")
    return choice


def model_input_side(model: Any | None) -> int:
    """Short side of the frames to sample for ``model`` (its input size; the geometric estimate's
    without a model)."""
    from ..model.preprocessing import input_side
    from .geometry import GEOMETRY_SIDE

    return GEOMETRY_SIDE if model is None else input_side(model)
