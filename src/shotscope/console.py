"""What a run says and where: notices and warnings on stderr (results alone on stdout), library
chatter only when asked (``-v``), progress bars only on a terminal (or when asked).

Imports nothing heavy: the command line calls :func:`configure` before any library loads.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

from .errors import ShotscopeWarning

QUIET, NORMAL, VERBOSE, DEBUG = -1, 0, 1, 2
_LOGGERS_WE_OWN = ("shotscope",)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """One line per warning, no source line: ``shotscope: warning: <message>``."""
    name = "" if issubclass(category, ShotscopeWarning) else f" ({category.__name__})"
    print(f"shotscope: warning{name}: {message}", file=file or sys.stderr)


def configure(verbosity: int = NORMAL) -> None:
    """Set up logging and warnings for a command-line run.

    - quiet (-q): errors only; normal: shotscope's notices and warnings about the user's data;
      verbose (-v): also other libraries' warnings and logs; -vv: debug details.
    Environment variables tell transformers and huggingface_hub to keep quiet before they load.
    """
    if verbosity < VERBOSE:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    level = {QUIET: logging.ERROR, NORMAL: logging.INFO, VERBOSE: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if verbosity < VERBOSE else logging.INFO if verbosity == VERBOSE else logging.DEBUG)
    for name in _LOGGERS_WE_OWN:
        logging.getLogger(name).setLevel(level)
    warnings.showwarning = _show_warning
    if verbosity >= VERBOSE:
        warnings.simplefilter("default")
    else:
        warnings.simplefilter("ignore")
        if verbosity > QUIET:
            warnings.simplefilter("default", ShotscopeWarning)
    if verbosity < VERBOSE and "transformers" in sys.modules:
        quiet_transformers()


def quiet_transformers() -> None:
    """transformers' own loggers and bars, once it is imported (a no-op with -v)."""
    if logging.getLogger("shotscope").getEffectiveLevel() < logging.INFO:
        return
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except Exception:  # pragma: no cover - an older transformers
        pass


def progress_choice(quiet: bool, forced: bool) -> bool | None:
    """tqdm's three-way choice: True (forced), False (quiet), None (a bar only on a terminal)."""
    if quiet:
        return False
    return True if forced else None


def no_bar(progress: bool | None) -> bool | None:
    """tqdm's ``disable``: None shows a bar only on a terminal; True/False force it."""
    return None if progress is None else not progress
