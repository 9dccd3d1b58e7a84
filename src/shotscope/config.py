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
        if not all(parts):
            raise DataError(f"override {item!r}: expected key.sub=value")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise DataError(f"override {item!r}: {part} is not a section")
        node[parts[-1]] = yaml.safe_load(raw)
    return cfg


PACKAGED_CONFIGS = Path(__file__).resolve().parent / "configs"


def named_configs() -> list[str]:
    """The configs shipped in the package (``--config NAME``)."""
    return sorted(p.stem for p in PACKAGED_CONFIGS.glob("*.yaml"))


def resolve_config_path(path: str | os.PathLike) -> Path:
    """A YAML file, or the name of a config shipped in the package (``movieshots``, ``tiny-synthetic``)."""
    p = Path(path)
    if p.is_file():
        return p
    packaged = PACKAGED_CONFIGS / f"{p.name.removesuffix('.yaml')}.yaml"
    if p.suffix in ("", ".yaml") and len(p.parts) <= 2 and packaged.is_file():
        return packaged
    if p.is_dir():
        raise DataError(f"{p}: is a directory, expected a YAML config file")
    raise DataError(f"{p}: no such config file (shipped configs: {', '.join(named_configs())})")


def load_config(path: str | os.PathLike | None, defaults: dict, overrides: list[str] | None = None) -> dict:
    cfg = copy.deepcopy(defaults)
    if path is not None:
        path = resolve_config_path(path)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        except OSError as exc:
            raise DataError(f"{path}: cannot read config ({exc.strerror or exc})") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(loaded, dict):
            raise DataError(f"{path}: expected sections of key: value pairs, got {type(loaded).__name__}")
        cfg = deep_merge(cfg, loaded)
    try:
        return apply_overrides(cfg, overrides or [])
    except yaml.YAMLError as exc:
        raise DataError(f"override: not a valid value ({exc})") from None


def save_config(cfg: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    atomic_write_text(path, yaml.safe_dump(cfg, sort_keys=False))
    return path


def validate_config(cfg: dict, defaults: dict, *, nullable: set[str] = frozenset(),
                    free: dict[str, set[str] | None] | None = None,
                    choices: dict[str, tuple] | None = None, minimum: dict[str, float] | None = None,
                    where: str = "config") -> None:
    """Every key known, every value of the default's type, in range and among the choices.

    ``free``: sections whose keys are checked against the given set (None: any key); ``nullable``:
    keys that may be null. Raises :class:`DataError` listing every problem, with a suggestion for
    misspelt keys."""
    import difflib

    free = free or {}
    choices = choices or {}
    minimum = minimum or {}
    problems: list[str] = []

    def walk(node: dict, base: dict, prefix: str) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if prefix.rstrip(".") in free:
                allowed = free[prefix.rstrip(".")]
                if allowed is not None and key not in allowed:
                    close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                    problems.append(f"unknown key {name}" + (f" (did you mean {prefix}{close[0]}?)" if close else ""))
                continue
            if key not in base:
                close = difflib.get_close_matches(str(key), [str(k) for k in base], n=1)
                problems.append(f"unknown key {name}" + (f" (did you mean {prefix}{close[0]}?)" if close else ""))
                continue
            default = base[key]
            if value is None:
                if default is not None and name not in nullable:
                    problems.append(f"{name}: must not be null")
                continue
            if isinstance(default, dict):
                if not isinstance(value, dict):
                    problems.append(f"{name}: expected a section (key: value pairs), got {value!r}")
                else:
                    walk(value, default, f"{name}.")
                continue
            kind = type(default) if default is not None else None
            ok = {
                bool: isinstance(value, bool),
                int: isinstance(value, int) and not isinstance(value, bool),
                float: isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
                and abs(value) != float("inf"),
                str: isinstance(value, str),
                list: isinstance(value, list),
                None: isinstance(value, (str, int, float)),
            }.get(kind, True)
            if not ok:
                expected = {bool: "true or false", int: "a whole number", float: "a finite number", str: "text",
                            list: "a list", None: "a value"}.get(kind, kind.__name__)
                problems.append(f"{name}: expected {expected}, got {value!r}")
                continue
            if name in choices and value not in choices[name]:
                problems.append(f"{name}: expected one of {', '.join(map(str, choices[name]))}, got {value!r}")
            if name in minimum and isinstance(value, (int, float)) and value < minimum[name]:
                problems.append(f"{name}: must be >= {minimum[name]}, got {value!r}")

    walk(cfg, defaults, "")
    if problems:
        raise DataError(f"{where}: " + "; ".join(problems))
