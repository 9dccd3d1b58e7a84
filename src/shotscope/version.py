"""The shotscope version (what provenance records and outputs name)."""

__version__ = "0.1.0"
