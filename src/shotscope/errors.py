"""The typed errors shotscope raises; each message names the file and the reason."""

from __future__ import annotations


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


class ShotscopeWarning(UserWarning):
    """Something about the user's data worth knowing (damage met while decoding, frames repeated)."""
