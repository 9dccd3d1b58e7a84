"""Subcommands beyond ``info``; each one parses arguments and calls the library."""

from __future__ import annotations
