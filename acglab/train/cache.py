"""Run folders keyed by what a run trains: the same settings on the same data find the same
folder, so a notebook run twice (or a class restarting its kernel) resumes or reuses a finished
run instead of training again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def run_key(config, data_root, extra: str = "") -> str:
    """A short hash of a training config (a :class:`~acglab.train.presets.TrainConfig`), the
    resolved data folder and ``extra`` (e.g. the split)."""
    blob = json.dumps(
        {"config": config.to_dict(), "data": str(Path(data_root).resolve()), "extra": extra}, sort_keys=True
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def cached_run_dir(config, data_root, name: str, extra: str = "", root=None) -> Path:
    """``root/<name>-<run_key>`` (default root: the acglab cache's ``detectors`` folder)."""
    from acglab.paths import cache_dir

    return Path(root or cache_dir() / "detectors") / f"{name}-{run_key(config, data_root, extra)}"
