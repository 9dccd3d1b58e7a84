"""The two MovieShots taxonomies, in the id order the published checkpoint uses."""

from __future__ import annotations

SCALE_LABELS: tuple[str, ...] = ("ECS", "CS", "MS", "FS", "LS")
MOVEMENT_LABELS: tuple[str, ...] = ("Static", "Motion", "Pull", "Push")
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
