"""The typed errors shotscope raises; each message names the file and the reason."""

from __future__ import annotations

import os


class ShotscopeError(Exception):
    """Base class of every error shotscope raises on purpose."""


class ModelLoadError(ShotscopeError):
    """A model could not be found, fetched or read."""


class VideoDecodeError(ShotscopeError):
    """A video file could not be opened or decoded."""

    def __init__(self, path: object, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self):  # travels between processes (Ray workers, multiprocessing) intact
        return type(self), (self.path, self.reason)


class DataError(ShotscopeError):
    """A label file, manifest or dataset tree is wrong; the message says where."""


class ArchiveUnavailable(DataError):
    """The archive database cannot be read or written as asked (a full disk, a read-only file or
    medium, a damaged database); the message names the file and what to do."""


class ShotscopeWarning(UserWarning):
    """Something about the user's data worth knowing (damage met while decoding, frames repeated)."""


def describe_failure(exc: BaseException, item: str | os.PathLike) -> str:
    """One line for an input that failed, naming it: shotscope's own message as it is, an OS
    error by its reason and file, anything else with its type."""
    if isinstance(exc, ShotscopeError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f" ({exc.filename})" if exc.filename else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text if str(item) in text else f"{item}: {text}"
