"""A pytest plugin for mutation runs: run a mutant's tests fastest first (durations from mutmut's stats).

mutmut runs each mutant's tests with -x, so a killed mutant costs the time to its first failing test.
Loaded by tools/mutation.py through PYTEST_ADDOPTS; without recorded durations the order is pytest's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def pytest_collection_modifyitems(items: list) -> None:
    stats = Path(os.environ.get("SHOTSCOPE_MUTATION_STATS", ""))
    if not stats.is_file():
        return
    try:
        durations = json.loads(stats.read_text(encoding="utf-8")).get("duration_by_test", {})
    except (OSError, ValueError):
        return
    if durations:
        items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
