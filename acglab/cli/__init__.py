"""The ``acglab`` command line.

Each command group lives in its own module exposing ``register(subparsers)``; a command's
handler receives the parsed ``argparse.Namespace`` and returns an exit code. Errors a user can
cause (:class:`acglab.errors.AcglabError`) are printed as one line, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from acglab.errors import AcglabError

#: modules that register top-level commands, in help order
COMMAND_MODULES = [
    "acglab.cli.data",
    "acglab.cli.train",
    "acglab.cli.eval",
    "acglab.cli.explain",
    "acglab.cli.latent",
    "acglab.cli.edit",
    "acglab.cli.analyze",
]


def build_parser() -> argparse.ArgumentParser:
    from acglab import __version__

    parser = argparse.ArgumentParser(prog="acglab", description="The geometry of deepfakes: data, OT, ACG detector.")
    parser.add_argument("--version", action="version", version=f"acglab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AcglabError as err:
        print(f"acglab: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("acglab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
