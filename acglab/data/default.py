"""Which dataset a notebook or a quick run uses when none is named.

Order: ``$ACGLAB_DATA`` (any supported layout), else the real Celeb-DF subset beside a checkout
(``../shared/data/celebdf-mini``), else the offline face set built from images that installed
packages ship (:func:`acglab.data.offline.offline_faces`, a teaching stand-in). The choice is
returned with a one-line description so notebooks can say which data they show.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from acglab.errors import DataLayoutError
from acglab.paths import celebdf_mini_dir


@dataclass(frozen=True)
class DataChoice:
    """A dataset folder and why it was chosen (``kind``: ``"env"``, ``"celebdf-mini"``, ``"offline"``)."""

    path: Path
    kind: str
    description: str


def default_data(prefer: str | None = None) -> DataChoice:
    """The dataset to use when the user named none (see the module docstring).

    ``prefer="offline"`` skips the real data (e.g. for a lecture without it).
    """
    if prefer not in (None, "offline"):
        raise ValueError(f"prefer must be None or 'offline', got {prefer!r}")
    if prefer is None:
        env = os.environ.get("ACGLAB_DATA")
        if env:
            path = Path(env).expanduser()
            if not path.is_dir():
                raise DataLayoutError(f"ACGLAB_DATA={env} is not a folder; point it at a dataset root")
            mini = celebdf_mini_dir()
            if mini is not None and mini.parent == path.resolve():
                path = mini
            return DataChoice(path, "env", f"dataset from ACGLAB_DATA: {path}")
        mini = celebdf_mini_dir()
        if mini is not None:
            return DataChoice(mini, "celebdf-mini", f"real Celeb-DF v2 subset at {mini}")
    from acglab.data.offline import offline_faces

    path = offline_faces(progress=False)
    return DataChoice(
        path, "offline", "offline face set (teaching stand-in generated from package sample images; not a benchmark)"
    )
