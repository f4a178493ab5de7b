"""Video frame sampling and reading (acglab.data.video) and face extraction (acglab.data.extract)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import skimage.data

from acglab.cli import main as cli_main
from acglab.data.extract import CORRUPT_IMAGE, NO_FACE, SKIPPED_NAME, UNDECODABLE_VIDEO, extract_faces
from acglab.data.images import load_image, save_image
from acglab.data.layouts import load_dataset
from acglab.data.video import count_frames, read_frames, sample_frame_indices
from acglab.errors import DataLayoutError, ImageError
from acglab.faces import FRAME_MIN_FACE_SIZE, crop_face, find_face
from acglab.faces.agreement import box_iou, locate_crop

CODECS = {".avi": "MJPG", ".mp4": "mp4v"}


def write_video(path, frames_rgb, fps=10):
    """Write RGB frames with OpenCV (MJPG in .avi, mp4v in .mp4)."""
    h, w = frames_rgb[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*CODECS[path.suffix]), fps, (w, h))
    assert writer.isOpened()
    for f in frames_rgb:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def gray_levels_video(path, n=20):
    """Frame i is a flat image of gray level 10 * i."""
    return write_video(path, [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(n)])


def face_frames(n, size=256):
    """``n`` frames of the astronaut photograph (a face), shifted by a few pixels each."""
    face = cv2.resize(skimage.data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    return [np.ascontiguousarray(np.roll(face, 2 * i, axis=1)) for i in range(n)]


# --- frame sampling and reading ---------------------------------------------------------


def test_sample_frame_indices_closed_form():
    for n_total in range(0, 50):
        for n in range(0, 60):
            got = sample_frame_indices(n_total, n)
            if n == 0 or n_total == 0:
                expected = []
            elif n >= n_total:
                expected = list(range(n_total))
            else:
                expected = [int(v) for v in np.floor(np.arange(n) * n_total / n + 1e-9)]
            assert got == expected, (n_total, n)
            assert len(set(got)) == len(got) == min(n, n_total)
            if len(got) > 1:
                gaps = np.diff(got)
                assert gaps.min() >= n_total // max(n, 1) and gaps.max() - gaps.min() <= 1
    assert sample_frame_indices(300, 5) == [0, 60, 120, 180, 240]
    with pytest.raises(ValueError):
        sample_frame_indices(-1, 3)


@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_read_frames_returns_the_wanted_frames(tmp_path, suffix):
    path = gray_levels_video(tmp_path / f"levels{suffix}", n=20)
    assert count_frames(path) == 20
    frames = read_frames(path, 5)
    assert [i for i, _ in frames] == sample_frame_indices(20, 5) == [0, 4, 8, 12, 16]
    for index, image in frames:
        assert image.shape == (48, 64, 3) and image.dtype == np.uint8
        assert abs(float(image.mean()) - 10 * index) < 4  # lossy codec
    assert [i for i, _ in read_frames(path, 50)] == list(range(20))


def test_read_frames_gives_rgb_order(tmp_path):
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 200
    ((_, image),) = read_frames(write_video(tmp_path / "red.avi", [red] * 3), 1)
    assert image[..., 0].mean() > 150 and image[..., 2].mean() < 50


def test_undecodable_videos_raise_image_error(tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(4096))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for path in (garbage, empty, tmp_path / "missing.mp4"):
        with pytest.raises(ImageError) as err:
            read_frames(path, 3)
        assert str(path) in str(err.value) and "\n" not in str(err.value)


# --- extraction ---------------------------------------------------------------------------


@pytest.fixture
def celebdf_videos(tmp_path):
    """A tiny Celeb-DF video layout: three face videos, a garbage video and a video without a face."""
    root = tmp_path / "celebdf"
    for c in ("Celeb-real", "Celeb-synthesis", "YouTube-real"):
        (root / c).mkdir(parents=True)
    write_video(root / "Celeb-real" / "id0_0001.mp4", face_frames(8))
    write_video(root / "Celeb-synthesis" / "id0_id1_0001.mp4", face_frames(6)[::-1])
    (root / "Celeb-synthesis" / "id0_id1_0002.mp4").write_bytes(os.urandom(2048))
    write_video(root / "Celeb-real" / "id0_0002.mp4", [np.full((96, 128, 3), 128, np.uint8)] * 4)
    write_video(root / "YouTube-real" / "00001.mp4", face_frames(4, size=200))
    (root / "List_of_testing_videos.txt").write_text(
        "1 Celeb-real/id0_0001.mp4\n0 Celeb-synthesis/id0_id1_0001.mp4\n1 YouTube-real/00001.mp4\n"
    )
    return root


def test_extract_videos_writes_crops_skips_bad_items_and_resumes(tmp_path, celebdf_videos):
    out = tmp_path / "faces"
    summary = extract_faces(celebdf_videos, out, frames=2, progress=False)
    assert summary.videos == 5 and summary.frames_written == 6
    assert summary.reason_counts() == {NO_FACE: 2, UNDECODABLE_VIDEO: 1}
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg"))
    assert written == [
        "Celeb-real/id0_0001_000.jpg",
        "Celeb-real/id0_0001_001.jpg",
        "Celeb-synthesis/id0_id1_0001_000.jpg",
        "Celeb-synthesis/id0_id1_0001_001.jpg",
        "YouTube-real/00001_000.jpg",
        "YouTube-real/00001_001.jpg",
    ]
    skipped = json.loads((out / SKIPPED_NAME).read_text())
    assert {(s["video"], s["reason"]) for s in skipped} == {
        ("Celeb-real/id0_0002", NO_FACE),
        ("Celeb-synthesis/id0_id1_0002", UNDECODABLE_VIDEO),
    }
    assert (out / "List_of_testing_videos.txt").read_text() == (
        celebdf_videos / "List_of_testing_videos.txt"
    ).read_text()
    assert not [p for p in out.rglob(".*")]  # no temporary files left

    # crop k is the face of frame sample_frame_indices(8, 2)[k], cut with the default margin
    frames = dict(read_frames(celebdf_videos / "Celeb-real" / "id0_0001.mp4", 2))
    frame = frames[sample_frame_indices(8, 2)[1]]
    expected = crop_face(frame, find_face(frame, min_face_size=FRAME_MIN_FACE_SIZE))
    got = load_image(out / "Celeb-real" / "id0_0001_001.jpg")
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected.astype(int)).mean() < 3  # JPEG round trip

    # the output is a loadable Celeb-DF frames layout with the same video ids
    table = load_dataset(out)
    assert table.videos == ["Celeb-real/id0_0001", "Celeb-synthesis/id0_id1_0001", "YouTube-real/00001"]
    assert sorted(s.frame for s in table) == [0, 0, 0, 1, 1, 1]

    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")}
    again = extract_faces(celebdf_videos, out, frames=2, progress=False)
    assert again.frames_written == 0 and again.videos_complete_before == 3 and again.frames_present == 6
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")} == mtimes

    (out / "Celeb-real" / "id0_0001_001.jpg").unlink()
    refill = extract_faces(celebdf_videos, out, frames=2, progress=False)
    assert refill.frames_written == 1 and refill.frames_present == 5


def test_extract_frames_layout_skips_corrupt_and_faceless_images(tmp_path):
    root = tmp_path / "frames"
    real, fake = root / "Celeb-real", root / "Celeb-synthesis"
    for k, image in enumerate(face_frames(4, size=200)):
        save_image(real / f"id0_0001_{k:03d}.jpg", image)
    (real / "id0_0002_000.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    (real / "id0_0003_000.jpg").write_bytes(b"")
    save_image(fake / "id0_id1_0001_000.png", skimage.data.chelsea())
    save_image(root / "YouTube-real" / "00001_000.jpg", face_frames(1, size=160)[0])
    out = tmp_path / "out"
    summary = extract_faces(root, out, frames=2, size=64, progress=False)
    assert summary.frames_written == 3
    assert summary.reason_counts() == {CORRUPT_IMAGE: 2, NO_FACE: 1}
    assert load_image(out / "Celeb-real" / "id0_0001_001.jpg").shape == (64, 64, 3)
    skipped = {s.path.rsplit("/", 1)[1]: s.reason for s in summary.skipped}
    assert skipped == {
        "id0_0002_000.jpg": CORRUPT_IMAGE,
        "id0_0003_000.jpg": CORRUPT_IMAGE,
        "id0_id1_0001_000.png": NO_FACE,
    }
    # frames 000 and 002 of id0_0001 are the two taken (evenly spaced over four)
    taken = load_image(out / "Celeb-real" / "id0_0001_001.jpg")
    source = load_image(real / "id0_0001_002.jpg")
    assert (
        np.abs(
            taken.astype(int)
            - crop_face(source, find_face(source, min_face_size=FRAME_MIN_FACE_SIZE), size=64).astype(int)
        ).mean()
        < 4
    )


def test_extract_generic_layout_keeps_video_ids(tmp_path):
    root = tmp_path / "generic"
    (root / "real").mkdir(parents=True)
    write_video(root / "real" / "clip1.avi", face_frames(5))
    for k, image in enumerate(face_frames(3)):
        save_image(root / "fake" / "clip2" / f"{k}.png", image)
    out = tmp_path / "out"
    summary = extract_faces(root, out, frames=2, progress=False)
    assert summary.frames_written == 4 and not summary.skipped
    assert (out / "real" / "clip1" / "000.jpg").is_file() and (out / "fake" / "clip2" / "001.jpg").is_file()
    assert sorted(load_dataset(out).videos) == sorted(load_dataset(root).videos) == ["fake/clip2", "real/clip1"]


@pytest.mark.data
def test_extract_real_celebdf_frames_matches_published_crops(tmp_path, celebdf_mini):
    """End to end on three real Celeb-DF frames (linked, not copied): same crops as published."""
    root = tmp_path / "mini"
    names = []
    for category in ("Celeb-real", "Celeb-synthesis", "YouTube-real"):
        first = sorted((celebdf_mini / "frames" / category).glob("*_000.jpg"))[0]
        names.append(f"{category}/{first.name[: -len('_000.jpg')]}")
    for name in names:
        src = celebdf_mini / "frames" / f"{name}_000.jpg"
        (root / "frames" / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(src, root / "frames" / f"{name}_000.jpg")
    out = tmp_path / "out"
    summary = extract_faces(root, out, frames=1, progress=False)
    assert summary.frames_written == 3 and not summary.skipped
    for name in names:
        frame = load_image(celebdf_mini / "frames" / f"{name}_000.jpg")
        ours = locate_crop(frame, load_image(out / f"{name}_000.jpg"))
        published = locate_crop(frame, load_image(celebdf_mini / "faces" / f"{name}_000.jpg"))
        assert ours.score > 0.95 and published.score > 0.95
        assert box_iou(ours.box, published.box) >= 0.75, name


# --- command line -------------------------------------------------------------------------


def test_cli_extract_prints_summary(tmp_path, celebdf_videos, capsys):
    out = tmp_path / "cli-out"
    rc = cli_main(
        [
            "data",
            "extract",
            str(celebdf_videos),
            "--out",
            str(out),
            "--frames",
            "1",
            "--margin",
            "0.15,0.17",
            "--no-progress",
        ]
    )
    assert rc == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("5 videos: 3 face crops written")
    assert "1 no-face" in line and "1 undecodable-video" in line and SKIPPED_NAME in line


@pytest.mark.parametrize("make_root", ["missing", "empty", "no-layout", "partial"])
def test_cli_bad_root_is_one_error_line_and_writes_nothing(tmp_path, capsys, make_root):
    root = tmp_path / "root"
    if make_root != "missing":
        root.mkdir()
    if make_root == "no-layout":
        (root / "notes.txt").write_text("hello")
    if make_root == "partial":
        (root / "Celeb-real").mkdir()
        write_video(root / "Celeb-real" / "id0_0001.mp4", face_frames(2, size=64))
    out = tmp_path / "out"
    rc = cli_main(["data", "extract", str(root), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("acglab: error: ") and "\n" not in err and "Traceback" not in err
    assert not out.exists()


def test_cli_rejects_output_that_is_a_file_or_the_root(tmp_path, celebdf_videos, capsys):
    as_file = tmp_path / "file"
    as_file.write_text("x")
    assert cli_main(["data", "extract", str(celebdf_videos), "--out", str(as_file)]) == 2
    assert cli_main(["data", "extract", str(celebdf_videos), "--out", str(celebdf_videos)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(e.startswith("acglab: error: ") for e in errors)
    assert as_file.read_text() == "x" and not list(celebdf_videos.rglob("*.jpg"))


def test_cli_bad_root_in_a_fresh_process_has_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "acglab.cli", "data", "extract", str(tmp_path / "nope"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("acglab: error: ")
    assert not (tmp_path / "o").exists()


def test_bad_margin_and_frames_fail_before_writing(tmp_path, celebdf_videos):
    with pytest.raises(ValueError):
        extract_faces(celebdf_videos, tmp_path / "o", frames=0)
    with pytest.raises(ValueError):
        extract_faces(celebdf_videos, tmp_path / "o", margin=(0.1, 0.2, 0.3))
    with pytest.raises(DataLayoutError):
        extract_faces(tmp_path / "nowhere", tmp_path / "o")
    assert not (tmp_path / "o").exists()
