"""The two MovieShots taxonomies, in the id order the published checkpoint uses."""

from __future__ import annotations

SCALE_LABELS: tuple[str, ...] = ("ECS", "CS", "MS", "FS", "LS")
MOVEMENT_LABELS: tuple[str, ...] = ("Static", "Motion", "Pull", "Push")
TASKS: tuple[str, ...] = ("scale", "movement")
IGNORE_INDEX = -100

SCALE_DESCRIPTIONS = {
    "ECS": "extreme close-up: a detail, an eye or a mouth",
    "CS": "close-up: a face, a hand, a small object",
    "MS": "medium shot: a figure from the knees or waist up",
    "FS": "full shot: barely the whole body",
    "LS": "long shot: the subject small in a wide view",
}
MOVEMENT_DESCRIPTIONS = {
    "Static": "the camera is fixed; the subject may move",
    "Motion": "the camera moves or rotates (pan, tilt, tracking, handheld)",
    "Pull": "zoom out / the camera pulls away from the subject",
    "Push": "zoom in / the camera pushes toward the subject",
}

# Labels found in MovieShots files that map onto the four movement classes.
MOVEMENT_ALIASES = {"Multi_movement": "Motion"}


def labels_for(task: str) -> tuple[str, ...]:
    """The label names of ``task`` ("scale" or "movement") in id order."""
    if task == "scale":
        return SCALE_LABELS
    if task == "movement":
        return MOVEMENT_LABELS
    raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")


def label2id(labels: tuple[str, ...] | list[str]) -> dict[str, int]:
    return {name: i for i, name in enumerate(labels)}


def id2label(labels: tuple[str, ...] | list[str]) -> dict[int, str]:
    return dict(enumerate(labels))
