"""Where acglab looks for data and keeps its caches.

- ``ACGLAB_DATA``: a dataset folder (or a folder holding ``celebdf-mini``) given by the user.
- ``ACGLAB_CACHE``: where generated material (the offline face set) is cached;
  default ``~/.cache/acglab``.
- A checkout of this project with ``../shared/data`` beside it uses that folder's real
  Celeb-DF subset by path (it is never copied).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def cache_dir() -> Path:
    """The cache folder (created on first use)."""
    d = Path(os.environ.get("ACGLAB_CACHE", Path.home() / ".cache" / "acglab")).expanduser()
    d.mkdir(parents=True, exist_ok=True)
    return d


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside a checkout of the project, if present."""
    for base in (REPO_DIR, Path.cwd(), *Path.cwd().parents):
        cand = base.parent / "shared" / "data"
        if cand.is_dir():
            return cand
    return None


def celebdf_mini_dir() -> Path | None:
    """The real Celeb-DF subset: ``$ACGLAB_DATA`` (itself or its ``celebdf-mini``), else
    ``../shared/data/celebdf-mini``; ``None`` when neither exists."""
    env = os.environ.get("ACGLAB_DATA")
    if env:
        p = Path(env).expanduser()
        for cand in (p, p / "celebdf-mini"):
            if (cand / "List_of_testing_videos.txt").is_file():
                return cand
    shared = shared_data_dir()
    if shared is not None and (shared / "celebdf-mini" / "List_of_testing_videos.txt").is_file():
        return shared / "celebdf-mini"
    return None
