"""Shared fixtures.

Tests that need the real Celeb-DF subset use the ``celebdf_mini`` fixture: it finds the data
at ``$ACGLAB_DATA`` or ``../shared/data/celebdf-mini``; when missing, the test fails under
``CI=true`` and is skipped (with the reason) elsewhere.
"""

from __future__ import annotations

import os

# Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning makes small
# torch operations tens of times slower. Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from pathlib import Path

import pytest

from acglab.paths import celebdf_mini_dir

ROOT = Path(__file__).resolve().parents[1]


def _require(path: Path | None, what: str) -> Path:
    if path is None:
        msg = f"{what} not found (set ACGLAB_DATA or place ../shared/data beside the checkout)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def celebdf_mini() -> Path:
    """The real Celeb-DF v2 subset (397 videos, 5 face crops each, one full frame each)."""
    return _require(celebdf_mini_dir(), "celebdf-mini")


@pytest.fixture(scope="session")
def landmark_predictor():
    """dlib's 68-point predictor; when it or its model package is missing the test fails under
    ``CI=true`` and is skipped (naming what is missing) elsewhere."""
    from acglab.faces.landmarks68 import LandmarkModelError, predictor

    try:
        return predictor()
    except LandmarkModelError as err:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(err))
        pytest.skip(str(err))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep generated caches out of the user's home during tests (one per session)."""
    monkeypatch.setenv("ACGLAB_CACHE", str(tmp_path_factory.getbasetemp() / "acglab-cache"))


@pytest.fixture
def one_torch_thread():
    """Tiny networks and OT problems run on one torch thread (no OpenMP spin-waiting on a busy
    machine); the thread count is restored afterwards for the other tests. Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
