"""Lazy attributes for packages whose members import heavy libraries (torch, timm).

A package lists ``{name: module}`` and gets a module ``__getattr__`` (PEP 562) that imports the
module on first use of the name and caches the value in the package namespace::

    _LAZY = {"train": "acglab.train.loop"}
    __all__ = sorted(_LAZY)
    __getattr__ = lazy_getattr(__name__, _LAZY, globals())
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_getattr(package: str, table: dict[str, str], namespace: dict) -> Callable[[str], object]:
    """A module-level ``__getattr__`` for ``package`` serving the names in ``table`` lazily."""

    def __getattr__(name: str):
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
