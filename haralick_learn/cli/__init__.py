"""The ``haralick-learn`` command.

Exit codes: 0 success, 1 runtime error (one line on standard error, e.g. an
unreadable image), 2 usage error (argparse's message and usage).

The commands live in ``images`` (featurize, similar, index, evaluate, demo),
``regions`` and ``maps``; what they share in ``common``.
"""

import argparse
import sys
import warnings

from . import images, maps, regions
from .common import CommandError, available_memory

__all__ = ["available_memory", "build_parser", "main"]


def build_parser():
    """The parser of the ``haralick-learn`` command and of each of its commands."""
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="haralick-learn",
        description="Haralick texture features for scikit-learn: classify images, "
        "find similar ones.",
        epilog="Run 'haralick-learn COMMAND --help' for a command's options. Exit codes: "
        "0 success, 1 runtime error, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    # in this order in the help's list of commands
    images.add_commands(commands)
    regions.add_commands(commands)
    maps.add_commands(commands)
    return parser


def main(argv=None):
    """Entry point of the ``haralick-learn`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)

    def one_line_warning(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"haralick-learn {args.command}: warning: {text}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = one_line_warning
            return args.func(args)
    except (CommandError, OSError, ValueError, TypeError, IndexError, MemoryError,
            OverflowError, ImportError) as exc:  # ImportError: an optional package not installed
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"haralick-learn {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"haralick-learn {args.command}: interrupted", file=sys.stderr)
        return 130
