"""``shotscope`` entry point: one subcommand per library capability."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from .. import __version__
from ..errors import ShotscopeError

Handler = Callable[[argparse.Namespace], int]


def _cmd_info(args: argparse.Namespace) -> int:
    from ..loading import describe, load_model

    info = describe(load_model(args.model))
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    width = max(len(k) for k in info)
    for key, value in info.items():
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        elif key == "parameters":
            value = f"{value:,}"
        print(f"{key.replace('_', ' '):<{width}}  {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shotscope",
        description="Shot scale (ECS, CS, MS, FS, LS) and camera movement (Static, Motion, Pull, Push) per shot.",
    )
    parser.add_argument("--version", action="version", version=f"shotscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("info", help="describe a model: labels, frames, image size, parameters, source")
    p.add_argument("model", help="hub id or local model directory")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_cmd_info)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


# Other modules of the CLI add their subcommands here (kept apart so each stays small).
_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def main(argv: list[str] | None = None) -> int:
    from . import commands  # noqa: F401  (registers the remaining subcommands)

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ShotscopeError as exc:
        print(f"shotscope: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("shotscope: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
