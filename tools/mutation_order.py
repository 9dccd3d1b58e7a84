"""A pytest plugin for mutation runs, loaded by tools/mutation.py through PYTEST_ADDOPTS.

- Each mutant's tests run fastest first (durations from mutmut's stats): mutmut runs them with -x, so
  a killed mutant costs the time to its first failing test. Without recorded durations the order is
  pytest's.
- A lean pass (``--lean N``) leaves out the slowest tests named in SHOTSCOPE_MUTATION_LEAVE_OUT (node id
  substrings, comma-separated); its survivors are then re-tested with more tests (``--survivors``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def pytest_collection_modifyitems(config, items: list) -> None:
    leave_out = [s for s in os.environ.get("SHOTSCOPE_MUTATION_LEAVE_OUT", "").split(",") if s]
    # only while a mutant is tested: mutmut's own runs (its map of which tests reach what, the clean and the
    # forced-fail runs) see every test, so a later full pass still knows the tests left out here
    if leave_out and "__mutmut_" in os.environ.get("MUTANT_UNDER_TEST", ""):
        dropped = [item for item in items if any(s in item.nodeid for s in leave_out)]
        if dropped and len(dropped) < len(items):  # a mutant only those tests reach keeps them
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if item not in dropped]
    stats = Path(os.environ.get("SHOTSCOPE_MUTATION_STATS", ""))
    if not stats.is_file():
        return
    try:
        durations = json.loads(stats.read_text(encoding="utf-8")).get("duration_by_test", {})
    except (OSError, ValueError):
        return
    if durations:
        items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
