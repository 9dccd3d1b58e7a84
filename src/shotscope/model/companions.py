"""Files a saved model folder may carry beside its weights for the stages above the network (the
label sources' movement combiner). The network only keeps them: each is registered by its owner
(see ``shotscope/__init__.py``) with the attribute it is kept in, its file name and how to read it
(checked as it is read; None when the folder has none), and written by its own ``save(folder)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Companion:
    attribute: str
    filename: str
    load: Callable[[Path], Any]


COMPANIONS: dict[str, Companion] = {}


def register(attribute: str, filename: str, load: Callable[[Path], Any]) -> None:
    COMPANIONS[attribute] = Companion(attribute, filename, load)


def filenames() -> list[str]:
    return [c.filename for c in COMPANIONS.values()]


def load_all(folder: Path | None) -> dict[str, Any]:
    """Each companion as read from ``folder`` (None for every one without a folder)."""
    return {c.attribute: (c.load(folder) if folder is not None else None) for c in COMPANIONS.values()}


def attach(model: Any, values: dict[str, Any] | None = None) -> None:
    """Set the companions' attributes on ``model`` (None where not given)."""
    for c in COMPANIONS.values():
        setattr(model, c.attribute, (values or {}).get(c.attribute))


def save_all(model: Any, folder: Path) -> None:
    for c in COMPANIONS.values():
        value = getattr(model, c.attribute, None)
        if value is not None:
            value.save(folder)


def described(model: Any) -> dict[str, bool]:
    """Which companions the model carries (for ``shotscope info``)."""
    return {c.attribute: getattr(model, c.attribute, None) is not None for c in COMPANIONS.values()}
