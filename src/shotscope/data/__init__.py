"""Datasets: MovieShots, manifests of people's own clips, synthetic clips, and a frame cache."""

from __future__ import annotations

from .manifest import read_manifest, write_manifest
from .movieshots import read_movieshots
from .records import ClipRecord, LoadReport

__all__ = ["ClipRecord", "LoadReport", "read_manifest", "read_movieshots", "write_manifest"]
