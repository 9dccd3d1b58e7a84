"""``shotscope`` entry point: wires the subcommands that ``commands`` defines, sets up output,
and turns every failure into one line on stderr and an exit code:

0 all done; 1 some inputs failed (the others finished); 2 usage or configuration error
(nothing ran); 130 interrupted. ``-v`` adds the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..errors import ArchiveUnavailable, ShotscopeError
from ..version import __version__
from .commands import COMMANDS

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help (unless the help says it, or there is none);
    examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" in text or action.default in (None, False, argparse.SUPPRESS)
                or not action.option_strings or action.dest in ("help", "version")):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """argparse's parser, saying what was probably meant when a command or option is mistyped."""

    def error(self, message: str):  # noqa: D102 - argparse's
        import difflib
        import re

        hint = ""
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = re.findall(r"'?([\w.-]+)'?", choice.group(2))
            close = difflib.get_close_matches(choice.group(1), options, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]}?)" if close else ""
        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        if unknown and unknown.group(1).startswith("--"):
            parsers = [self] + [q for a in self._actions if isinstance(a, argparse._SubParsersAction)
                                for q in a.choices.values()]
            options = sorted({o for q in parsers for a in q._actions for o in a.option_strings if o.startswith("--")})
            close = difflib.get_close_matches(unknown.group(1).split("=")[0], options, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
        super().error(message + hint)


def _common_options() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    g = common.add_argument_group("output")
    g.add_argument("-q", "--quiet", action="store_true", help="errors only: no notices, warnings or progress bars")
    g.add_argument("-v", "--verbose", action="count", default=0,
                   help="more detail: other libraries' warnings and logs; -vv adds debug output and tracebacks")
    g.add_argument("--progress", action="store_true",
                   help="show progress bars even when stderr is not a terminal")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="shotscope", formatter_class=_HelpFormatter,
        description="Shot scale (ECS, CS, MS, FS, LS) and camera movement (Static, Motion, Pull, Push) per shot.",
        epilog="exit codes: 0 all done, 1 some inputs failed (the others finished), 2 usage or configuration "
               "error (nothing ran)\n`shotscope COMMAND --help` shows a command's options and examples.")
    parser.add_argument("--version", action="version", version=f"shotscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = _common_options()
    for command in COMMANDS:
        p = sub.add_parser(command.name, aliases=list(command.aliases), help=command.help, description=command.help[0].upper() + command.help[1:] + ".",
                           epilog="examples:\n" + command.examples if command.examples else None,
                           parents=[common], formatter_class=_HelpFormatter)
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    return parser


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from ..console import QUIET, configure

    verbosity = QUIET if args.quiet else args.verbose
    configure(verbosity)
    log = logging.getLogger("shotscope")
    try:
        return int(args.run(args) or 0)
    except ArchiveUnavailable as exc:  # a full disk, a read-only medium, a damaged database: the command failed
        print(f"shotscope: error: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    except ShotscopeError as exc:
        print(f"shotscope: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("shotscope: interrupted (finished results are kept; run the command again to go on)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # stdout closed early (`| head`): not an error of ours
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:  # a write that failed (disk full, read-only, permissions)
        print(f"shotscope: error: {_one_line(exc)}", file=sys.stderr)
        log.debug("where it happened:", exc_info=True)
        return EXIT_SOME_FAILED
    except Exception as exc:  # a bug: one line, the traceback with -vv
        print(f"shotscope: unexpected error: {type(exc).__name__}: {_one_line(exc)} "
              "(run again with -vv for the traceback, and please report it)", file=sys.stderr)
        log.debug("traceback:", exc_info=True)
        return EXIT_SOME_FAILED


if __name__ == "__main__":
    sys.exit(main())
