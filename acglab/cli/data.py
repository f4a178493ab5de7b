"""``acglab data ...``: index, split, check-split, extract, fetch.

Each sub-command's arguments and handler live in the module that owns the feature
(``acglab.cli.data_<name>``), which exposes ``register(subparsers)``.
"""

from __future__ import annotations

import importlib

SUBCOMMAND_MODULES = [
    "acglab.cli.data_index",
    "acglab.cli.data_split",
    "acglab.cli.data_extract",
    "acglab.cli.data_fetch",
]


def register(sub) -> None:
    p = sub.add_parser("data", help="index, split, check, extract and fetch face-forgery data")
    data_sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    data_sub.required = True
    for name in SUBCOMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
            continue
        mod.register(data_sub)
