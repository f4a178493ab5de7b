"""Dataset layouts: the real Celeb-DF subset and synthetic folders of every supported layout.

Expected values are computed independently of the loaders: from the folder listing, the list
file and the naming rules written out here.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from acglab.data.layouts import LAYOUTS, detect_layout, layout_module, load_dataset, official_partition
from acglab.data.layouts import detect as detect_module
from acglab.data.samples import FAKE, REAL
from acglab.errors import AcglabError, DataLayoutError


def touch(root: Path, *relpaths: str) -> None:
    """Create empty files (indexing lists files, it never opens them)."""
    for rel in relpaths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


# --- Celeb-DF: the real subset --------------------------------------------------------------
@pytest.mark.data
def test_celebdf_mini_index_counts(celebdf_mini):
    table = load_dataset(celebdf_mini)
    summary = table.summary()
    assert (summary["videos"], summary["frames"]) == (397, 1985)
    assert (summary["real_videos"], summary["fake_videos"]) == (145, 252)
    # independent count: the face files on disk, and the list file's labels
    files = [p for p in (celebdf_mini / "faces").rglob("*.jpg")]
    assert len(table) == len(files)
    lines = (celebdf_mini / "List_of_testing_videos.txt").read_text().split("\n")
    listed = dict(line.split()[::-1] for line in lines if line.strip())
    assert {v + ".mp4": str(lab) for v, lab in table.video_labels().items()} == listed
    assert detect_layout(celebdf_mini) == "celebdf"
    assert table.datasets == ["celebdf-v2"]


@pytest.mark.data
def test_celebdf_mini_identities_and_frames(celebdf_mini):
    table = load_dataset(celebdf_mini)
    for s in table:
        name = s.video.split("/", 1)[1]
        assert Path(s.path).name == f"{name}_{s.frame:03d}.jpg"
        if s.category == "Celeb-synthesis":
            a, b, _ = name.split("_")
            assert s.identities == (a, b) and s.label == FAKE
        elif s.category == "Celeb-real":
            assert s.identities == (name.split("_")[0],) and s.label == REAL
        else:
            assert s.identities == (s.video,) and s.label == REAL
    frames = {}
    for s in table:
        frames.setdefault(s.video, set()).add(s.frame)
    assert all(f == {0, 1, 2, 3, 4} for f in frames.values())


@pytest.mark.data
def test_celebdf_mini_faces_folder_given_directly(celebdf_mini):
    direct = load_dataset(celebdf_mini / "faces")
    assert direct.summary()["videos"] == 397
    partition, notes = official_partition(celebdf_mini / "faces", direct)
    assert set(partition.values()) == {"test"} and len(partition) == 397 and notes == []


# --- Celeb-DF: synthetic folders ------------------------------------------------------------
CELEB_VIDEOS = [
    "Celeb-real/id0_0000.mp4",
    "Celeb-real/id0_0001.mp4",
    "Celeb-real/id1_0000.mp4",
    "Celeb-real/id2_0003.mp4",
    "Celeb-synthesis/id0_id1_0000.mp4",
    "Celeb-synthesis/id1_id0_0000.mp4",
    "Celeb-synthesis/id2_id0_0003.mp4",
    "Celeb-synthesis/id0_id2_0001.mp4",
    "YouTube-real/00000.mp4",
    "YouTube-real/00007.mp4",
]


@pytest.fixture
def celebdf_videos(tmp_path) -> Path:
    touch(tmp_path, *CELEB_VIDEOS)
    (tmp_path / "List_of_testing_videos.txt").write_text(
        "1 Celeb-real/id2_0003.mp4\n0 Celeb-synthesis/id2_id0_0003.mp4\n1 YouTube-real/00007.mp4\n"
        "1 YouTube-real/00099.mp4\n"
    )
    return tmp_path


def test_celebdf_video_layout(celebdf_videos):
    table = load_dataset(celebdf_videos)
    assert detect_layout(celebdf_videos) == "celebdf"
    assert sorted(table.videos) == sorted(v[:-4] for v in CELEB_VIDEOS)
    assert all(s.frame is None for s in table)
    s = next(s for s in table if s.video == "Celeb-synthesis/id2_id0_0003")
    assert (s.target, s.source, s.label) == ("id2", "id0", FAKE)
    assert table.summary()["frames"] == 0


def test_celebdf_official_partition(celebdf_videos):
    partition, notes = official_partition(celebdf_videos)
    listed = {"Celeb-real/id2_0003", "Celeb-synthesis/id2_id0_0003", "YouTube-real/00007"}
    assert {v for v, p in partition.items() if p == "test"} == listed
    assert {v for v, p in partition.items() if p == "train"} == {v[:-4] for v in CELEB_VIDEOS} - listed
    assert len(notes) == 1 and notes[0].startswith("1 of the 4")


def test_celebdf_media_subfolders_prefer_frames(tmp_path):
    for c, name in (("Celeb-real", "id0_0000"), ("Celeb-synthesis", "id0_id1_0000"), ("YouTube-real", "00001")):
        touch(tmp_path, f"{c}/videos/{name}.mp4", f"{c}/frames/{name}/000.png", f"{c}/frames/{name}/010.png")
    table = load_dataset(tmp_path)
    assert len(table.videos) == 3 and len(table) == 6
    assert sorted({s.frame for s in table}) == [0, 10]
    assert all("/frames/" in s.path for s in table)


def test_celebdf_missing_category_is_named(celebdf_videos):
    for f in (celebdf_videos / "Celeb-synthesis").iterdir():
        f.unlink()
    (celebdf_videos / "Celeb-synthesis").rmdir()
    with pytest.raises(DataLayoutError, match=r"lacks Celeb-synthesis/") as err:
        load_dataset(celebdf_videos)
    assert "\n" not in str(err.value)


def test_celebdf_bad_name_and_bad_list(celebdf_videos):
    touch(celebdf_videos, "Celeb-real/holiday.mp4")
    with pytest.raises(DataLayoutError, match=r"Celeb-real/holiday"):
        load_dataset(celebdf_videos)
    (celebdf_videos / "Celeb-real" / "holiday.mp4").unlink()
    (celebdf_videos / "List_of_testing_videos.txt").write_text("1 Celeb-real/id2_0003.mp4\n0 Celeb-real/id0_0000.mp4\n")
    with pytest.raises(DataLayoutError, match=r"List_of_testing_videos.txt:2: label 0 contradicts"):
        official_partition(celebdf_videos)


# --- WildDeepfake ---------------------------------------------------------------------------
def wdf_tree(root: Path) -> dict[str, tuple[int, str, list[int]]]:
    """Extracted archives ``<part>/<N>/<real|fake>/<seq>/<k>.png``; returns video -> (label, group, frames)."""
    expected = {}
    spec = {
        "real_train": [("0", "3", [1, 5]), ("0", "4", [2]), ("1", "9", [0, 1, 2])],
        "fake_train": [("2", "7", [10, 11])],
        "real_test": [("5", "1", [4])],
        "fake_test": [("6", "2", [3, 8]), ("6", "5", [7])],
    }
    for part, seqs in spec.items():
        label_folder = part.split("_")[0]
        for n, seq, frames in seqs:
            touch(root, *(f"{part}/{n}/{label_folder}/{seq}/{k}.png" for k in frames))
            expected[f"{part}/{n}/{seq}"] = (REAL if label_folder == "real" else FAKE, f"{part}/{n}", frames)
    return expected


@pytest.mark.parametrize("nested", [False, True])
def test_wilddeepfake_layout(tmp_path, nested):
    base = tmp_path / "deepfake_in_the_wild" if nested else tmp_path
    expected = wdf_tree(base)
    touch(base, "real_train/0.tar.gz")  # archives left beside extracted folders are ignored
    table = load_dataset(tmp_path)
    assert detect_layout(tmp_path) == "wilddeepfake"
    assert set(table.videos) == set(expected)
    for s in table:
        label, group, frames = expected[s.video]
        assert (s.label, s.identities, s.dataset) == (label, (group,), "wilddeepfake")
        assert s.frame in frames and Path(s.path).name == f"{s.frame}.png"
    partition, _ = official_partition(tmp_path, table)
    assert partition == {v: ("test" if "_test/" in v else "train") for v in expected}


def test_wilddeepfake_missing_part_and_unextracted(tmp_path):
    wdf_tree(tmp_path)
    for p in sorted((tmp_path / "fake_test").rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (tmp_path / "fake_test").rmdir()
    with pytest.raises(DataLayoutError, match=r"lacks fake_test/"):
        load_dataset(tmp_path)
    touch(tmp_path, "fake_test/0.tar.gz", "fake_test/1.tar.gz")
    with pytest.raises(DataLayoutError, match=r"2 archives but no extracted frames"):
        load_dataset(tmp_path)


# --- FaceForensics++ ------------------------------------------------------------------------
FF_ORIGINALS = ["000", "003", "001", "002", "004", "005"]
FF_FAKES = ["000_003", "003_000", "001_002", "002_001", "004_005", "005_004"]


def ffpp_tree(root: Path, media: str = "videos", comp: str = "c23") -> None:
    for name in FF_ORIGINALS:
        rel = f"original_sequences/youtube/{comp}/{media}/{name}"
        touch(root, *([rel + ".mp4"] if media == "videos" else [f"{rel}/0000.png", f"{rel}/0001.png"]))
    for method in ("Deepfakes", "FaceSwap"):
        for name in FF_FAKES:
            rel = f"manipulated_sequences/{method}/{comp}/{media}/{name}"
            touch(root, *([rel + ".mp4"] if media == "videos" else [f"{rel}/0000.png", f"{rel}/0001.png"]))
    (root / "train.json").write_text(json.dumps([["000", "003"]]))
    (root / "val.json").write_text(json.dumps([["001", "002"]]))
    (root / "test.json").write_text(json.dumps([["004", "005"]]))


@pytest.mark.parametrize("media", ["videos", "images"])
def test_ffpp_layout_and_official_split(tmp_path, media):
    ffpp_tree(tmp_path, media)
    table = load_dataset(tmp_path)
    assert detect_layout(tmp_path) == "faceforensics"
    assert len(table.videos) == len(FF_ORIGINALS) + 2 * len(FF_FAKES)
    assert table.summary()["frames"] == (0 if media == "videos" else 2 * len(table.videos))
    fake = next(s for s in table if s.video == "Deepfakes/000_003")
    assert (fake.target, fake.source, fake.label) == ("youtube/000", "youtube/003", FAKE)
    real = next(s for s in table if s.video == "youtube/003")
    assert (real.identities, real.label) == (("youtube/003",), REAL)
    partition, notes = official_partition(tmp_path, table)
    part_of_id = {"000": "train", "003": "train", "001": "val", "002": "val", "004": "test", "005": "test"}
    for v in table.videos:
        ids = re.findall(r"\d{3}", v.split("/", 1)[1])
        assert partition[v] == part_of_id[ids[0]] == part_of_id[ids[-1]]
    assert notes == []


def test_ffpp_compression_choice_and_errors(tmp_path):
    ffpp_tree(tmp_path, comp="c40")
    assert all("/c40/" in s.path for s in load_dataset(tmp_path))
    with pytest.raises(DataLayoutError, match=r"lacks c23/"):
        load_dataset(tmp_path, compression="c23")
    (tmp_path / "test.json").unlink()
    with pytest.raises(DataLayoutError, match=r"lacks test.json"):
        official_partition(tmp_path)
    (tmp_path / "val.json").write_text('{"not": "pairs"}')
    (tmp_path / "test.json").write_text("[]")
    with pytest.raises(DataLayoutError, match=r"val.json is not a list"):
        official_partition(tmp_path)


def test_ffpp_partial_layout(tmp_path):
    touch(tmp_path, "original_sequences/youtube/c23/videos/000.mp4")
    with pytest.raises(DataLayoutError, match=r"lacks manipulated_sequences/"):
        load_dataset(tmp_path)


# --- generic real/ fake/ ------------------------------------------------------------------------
def test_generic_layout(tmp_path):
    root = tmp_path / "myset"
    touch(root, "real/a.mp4", "real/b.mp4", "fake/clip1/0001.jpg", "fake/clip1/0002.jpg", "fake/single.png")
    table = load_dataset(root)
    assert detect_layout(root) == "generic"
    assert sorted(table.videos) == ["fake/clip1", "fake/single", "real/a", "real/b"]
    assert table.video_labels() == {"real/a": REAL, "real/b": REAL, "fake/clip1": FAKE, "fake/single": FAKE}
    assert all(s.identities == (s.video,) and s.dataset == "myset" for s in table)
    assert sorted(s.frame for s in table if s.video == "fake/clip1") == [1, 2]
    with pytest.raises(DataLayoutError, match=r"no train/ val/ test/"):
        official_partition(root, table)


def test_generic_parts_and_missing_label(tmp_path):
    touch(tmp_path, "train/real/a.mp4", "train/fake/b.mp4", "test/real/c.mp4", "test/fake/d.mp4")
    partition, _ = official_partition(tmp_path)
    assert partition == {"train/real/a": "train", "train/fake/b": "train", "test/real/c": "test", "test/fake/d": "test"}
    other = tmp_path / "other"
    touch(other, "real/a.mp4")  # one class: loads (evaluation reports ACC only)
    assert set(load_dataset(other).labels) == {REAL}


# --- detection ------------------------------------------------------------------------------
def test_detection_errors(tmp_path):
    with pytest.raises(DataLayoutError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
    touch(tmp_path, "file.txt")
    with pytest.raises(DataLayoutError, match="is not a folder"):
        load_dataset(tmp_path / "file.txt")
    with pytest.raises(DataLayoutError, match="no known dataset layout"):
        detect_layout(tmp_path)
    assert issubclass(DataLayoutError, AcglabError)


def test_offline_layout_is_tried_first_and_optional(tmp_path, monkeypatch):
    assert list(LAYOUTS)[0] == "offline"
    monkeypatch.setitem(detect_module.LAYOUTS, "offline", "acglab.data.layouts.not_installed")
    assert layout_module("offline") is None
    touch(tmp_path, "real/a.mp4", "fake/b.mp4")
    assert detect_layout(tmp_path) == "generic"
    with pytest.raises(DataLayoutError, match="unknown dataset layout"):
        layout_module("nope")


def test_indexing_lists_files_without_opening_them(tmp_path):
    touch(tmp_path, *CELEB_VIDEOS)
    for rel in CELEB_VIDEOS:
        os.chmod(tmp_path / rel, 0)  # unreadable files still index
    assert len(load_dataset(tmp_path).videos) == len(CELEB_VIDEOS)
