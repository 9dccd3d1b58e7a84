"""The Jinja2 environment shared by the web app's pages and each film's report.html (autoescape on)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from ..labels import MOVEMENT_DESCRIPTIONS, MOVEMENT_LABELS, SCALE_DESCRIPTIONS, SCALE_LABELS
from ..timecodes import timecode
from . import charts

HERE = Path(__file__).parent


def environment() -> jinja2.Environment:
    """A new environment (each app adds its own globals: CSRF token, read-only)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)  # no blank lines for each row's tags
    env.globals.update(clock=charts.clock, timecode=timecode, probability_bar=charts.probability_bar, SCALE_LABELS=SCALE_LABELS, MOVEMENT_LABELS=MOVEMENT_LABELS,
                       COLOURS=charts.COLOURS, DESCRIPTIONS={"scale": SCALE_DESCRIPTIONS,
                                                             "movement": MOVEMENT_DESCRIPTIONS})
    env.filters["name"] = lambda p: Path(str(p)).name
    return env


def static_text(name: str) -> str:
    """A file of static/ (the report inlines the app's CSS and script, to stay one file)."""
    return (HERE / "static" / name).read_text(encoding="utf-8")
