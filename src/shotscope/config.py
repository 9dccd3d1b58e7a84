"""YAML configs with defaults and ``key.sub=value`` overrides; the resolved config is saved with outputs."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import yaml

from .errors import DataError
from .files import atomic_write_text


def deep_merge(base: dict, update: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_overrides(cfg: dict, overrides: list[str]) -> dict:
    """``train.epochs=3 model.config.hidden_size=64``; values are parsed as YAML."""
    cfg = copy.deepcopy(cfg)
    for item in overrides:
        if "=" not in item:
            raise DataError(f"override {item!r}: expected key=value")
        key, raw = item.split("=", 1)
        node = cfg
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise DataError(f"override {item!r}: {part} is not a section")
        node[parts[-1]] = yaml.safe_load(raw)
    return cfg


def load_config(path: str | os.PathLike | None, defaults: dict, overrides: list[str] | None = None) -> dict:
    cfg = copy.deepcopy(defaults)
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as exc:
            raise DataError(f"{path}: cannot read config ({exc.strerror or exc})") from None
        except yaml.YAMLError as exc:
            raise DataError(f"{path}: not valid YAML ({exc})") from None
        unknown = set(loaded) - set(defaults)
        if unknown:
            raise DataError(f"{path}: unknown sections {sorted(unknown)} (known: {sorted(defaults)})")
        cfg = deep_merge(cfg, loaded)
    return apply_overrides(cfg, overrides or [])


def save_config(cfg: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    atomic_write_text(path, yaml.safe_dump(cfg, sort_keys=False))
    return path
