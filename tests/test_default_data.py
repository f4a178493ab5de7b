"""Which dataset is used when none is named."""

from __future__ import annotations

import pytest

from acglab.data import load_dataset
from acglab.data.default import default_data
from acglab.errors import DataLayoutError


def test_env_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("ACGLAB_DATA", str(tmp_path))
    choice = default_data()
    assert choice.kind == "env" and choice.path == tmp_path


def test_env_must_be_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ACGLAB_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataLayoutError, match="ACGLAB_DATA"):
        default_data()


def test_offline_fallback_is_loadable(monkeypatch):
    monkeypatch.delenv("ACGLAB_DATA", raising=False)
    choice = default_data(prefer="offline")
    assert choice.kind == "offline" and "stand-in" in choice.description
    table = load_dataset(choice.path)
    s = table.summary()
    assert s["real_videos"] > 0 and s["fake_videos"] > 0


def test_real_subset_preferred(celebdf_mini, monkeypatch):
    monkeypatch.delenv("ACGLAB_DATA", raising=False)
    choice = default_data()
    assert choice.kind == "celebdf-mini" and choice.path == celebdf_mini
