"""One labelled clip (or a time range inside a longer video), and what loading skipped."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..labels import IGNORE_INDEX, MOVEMENT_LABELS, SCALE_LABELS


@dataclass(frozen=True)
class ClipRecord:
    """A clip and its labels as ids (``IGNORE_INDEX`` when that task is not labelled)."""

    path: str
    scale: int = IGNORE_INDEX
    movement: int = IGNORE_INDEX
    start: float | None = None
    end: float | None = None
    key: str = ""  # e.g. "tt0000001/0007" for MovieShots

    @property
    def scale_label(self) -> str | None:
        return SCALE_LABELS[self.scale] if self.scale >= 0 else None

    @property
    def movement_label(self) -> str | None:
        return MOVEMENT_LABELS[self.movement] if self.movement >= 0 else None


@dataclass
class LoadReport:
    """What a reader kept and what it skipped, with the first few reasons."""

    kept: int = 0
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)
    max_reasons: int = 10

    def skip(self, reason: str) -> None:
        self.skipped += 1
        if len(self.reasons) < self.max_reasons:
            self.reasons.append(reason)

    def summary(self) -> str:
        text = f"{self.kept} clips kept, {self.skipped} skipped"
        if self.reasons:
            more = "" if self.skipped <= len(self.reasons) else f" (and {self.skipped - len(self.reasons)} more)"
            text += ": " + "; ".join(self.reasons) + more
        return text
