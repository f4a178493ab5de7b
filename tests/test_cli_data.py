"""``acglab data index | split | check-split`` through ``acglab.cli.main`` and one real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from acglab.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def small_celebdf(tmp_path) -> Path:
    """A Celeb-DF video folder: 6 targets with real and fake videos, 4 YouTube-real videos."""
    root = tmp_path / "celebdf"
    names = [f"Celeb-real/id{i}_{k:04d}" for i in range(6) for k in range(2)]
    names += [f"Celeb-synthesis/id{i}_id{(i + 1) % 6}_{k:04d}" for i in range(6) for k in range(3)]
    names += [f"YouTube-real/{k:05d}" for k in range(4)]
    for n in names:
        (root / n).parent.mkdir(parents=True, exist_ok=True)
        (root / f"{n}.mp4").write_bytes(b"")
    (root / "List_of_testing_videos.txt").write_text("1 Celeb-real/id0_0000.mp4\n0 Celeb-synthesis/id0_id1_0000.mp4\n")
    return root


# --- index ------------------------------------------------------------------------------------
@pytest.mark.data
def test_index_json_on_celebdf_mini(capsys, celebdf_mini):
    code, out, err = run(capsys, "data", "index", str(celebdf_mini), "--json")
    assert code == 0 and err == ""
    summary = json.loads(out)
    assert {k: summary[k] for k in ("videos", "frames", "real_videos", "fake_videos")} == {
        "videos": 397,
        "frames": 1985,
        "real_videos": 145,
        "fake_videos": 252,
    }
    assert summary["dataset"] == "celebdf-v2" and summary["layout"] == "celebdf"


def test_index_table(capsys, small_celebdf):
    code, out, _ = run(capsys, "data", "index", str(small_celebdf))
    assert code == 0
    assert "videos" in out and "34 (16 real, 18 fake)" in out and "Celeb-synthesis" in out


def test_index_missing_category_is_one_line(capsys, small_celebdf):
    for f in (small_celebdf / "YouTube-real").iterdir():
        f.unlink()
    (small_celebdf / "YouTube-real").rmdir()
    code, out, err = run(capsys, "data", "index", str(small_celebdf))
    assert code == 2 and out == ""
    assert err.startswith("acglab: error: ") and "YouTube-real/" in err and err.count("\n") == 1


# --- split and check-split ---------------------------------------------------------------------
@pytest.mark.data
@pytest.mark.parametrize("by", ["target", "identity"])
def test_split_and_check_on_celebdf_mini(capsys, celebdf_mini, tmp_path, by):
    out_file = tmp_path / f"{by}.json"
    code, out, _ = run(
        capsys,
        "data",
        "split",
        str(celebdf_mini),
        "--by",
        by,
        "--test-fraction",
        "0.2",
        "--val-fraction",
        "0.1",
        "--seed",
        "0",
        "--out",
        str(out_file),
    )
    assert code == 0 and out.count("\n") == 1
    data = json.loads(out_file.read_text())
    counts = {p: len(data[p]) for p in ("train", "val", "test")}
    for p, n in counts.items():
        assert f"{p} {n} (" in out
    dropped = len(data.get("dropped", []))
    assert f"dropped {dropped}" in out and sum(counts.values()) + dropped == 397
    assert ("dropped" in data) == (by == "identity")
    assert data["meta"]["by"] == by and data["meta"]["seed"] == 0
    code, out, _ = run(capsys, "data", "check-split", str(out_file), "--data", str(celebdf_mini), "--json")
    report = json.loads(out)
    assert code == 0 and report["passed"] and not report["shared_targets"] and not report["shared_videos"]
    assert bool(report["warnings"]) == (by == "target")  # target splits still share source identities


def test_leaky_split_exits_1(capsys, small_celebdf, tmp_path):
    out_file = tmp_path / "video.json"
    code, _, _ = run(
        capsys, "data", "split", str(small_celebdf), "--by", "video", "--seed", "3", "--out", str(out_file)
    )
    assert code == 0
    data = json.loads(out_file.read_text())
    data["train"].append(data["test"][0])  # one video on two sides
    out_file.write_text(json.dumps(data))
    code, out, _ = run(capsys, "data", "check-split", str(out_file), "--data", str(small_celebdf))
    assert code == 1
    assert "LEAK: train/test: 1 shared video " in out and out.splitlines()[-1].startswith("leaky")


def test_check_split_unknown_videos(capsys, small_celebdf, tmp_path):
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": ["Celeb-real/id0_0000", "Celeb-real/id77_0001"], "val": [], "test": ["x/y"]}))
    code, out, err = run(capsys, "data", "check-split", str(split), "--data", str(small_celebdf))
    assert code == 2 and out == ""
    assert err == (
        "acglab: error: split names 2 videos this dataset does not have (Celeb-real/id77_0001, x/y); "
        "was it made for another dataset?\n"
    )


def test_official_split_and_bad_fraction_writes_nothing(capsys, small_celebdf, tmp_path):
    out_file = tmp_path / "official.json"
    code, out, _ = run(
        capsys, "data", "split", str(small_celebdf), "--by", "official", "--val-fraction", "0.2", "--out", str(out_file)
    )
    data = json.loads(out_file.read_text())
    assert code == 0 and sorted(data["test"]) == ["Celeb-real/id0_0000", "Celeb-synthesis/id0_id1_0000"]
    assert data["val"] and "by official" in out
    bad = tmp_path / "bad.json"
    code, _, err = run(
        capsys,
        "data",
        "split",
        str(small_celebdf),
        "--test-fraction",
        "0.9",
        "--val-fraction",
        "0.2",
        "--out",
        str(bad),
    )
    assert code == 2 and "below 1" in err and not bad.exists()


def test_subprocess_user_error_has_no_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "acglab.cli", "data", "index", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [f"acglab: error: dataset folder {tmp_path / 'missing'} does not exist"]
