"""The offline face set: built in the isolated test cache, checked file by file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

import acglab.data.offline as offline
from acglab.data.layouts import offline as layout
from acglab.data.samples import FAKE, REAL
from acglab.errors import DataLayoutError


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The default set, built once in the same isolated cache tests/conftest.py points ACGLAB_CACHE to."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACGLAB_CACHE", str(tmp_path_factory.getbasetemp() / "acglab-cache"))
        return offline.offline_faces(progress=False)


def _read_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB) if img.ndim == 3 else img


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_built_in_the_cache_with_marker_and_manifest(built):
    assert built == Path(os.environ["ACGLAB_CACHE"]) / "offline-faces"
    marker = (built / layout.MARKER_NAME).read_text()
    assert "NOT A BENCHMARK" in marker and "teaching stand-in" in marker.lower()
    assert layout.looks_like(built)
    assert not list(built.parent.glob(".offline-faces.*"))  # no temporary folder left behind


def test_counts_labels_and_sizes(built):
    table = layout.load(built)
    n, frames = offline.DEFAULT_N_PER_CATEGORY, offline.DEFAULT_FRAMES
    summary = table.summary()
    assert summary["categories"] == {"offline-real": n, "offline-sbi": n, "offline-swap": n}
    assert summary["real_videos"] == n >= 60 and summary["fake_videos"] == 2 * n
    assert summary["frames"] == len(table) == 3 * n * frames
    assert summary["dataset"] == "offline-faces"
    on_disk = sorted(p for c in layout.CATEGORY_LABELS for p in (built / c).iterdir())
    assert len(on_disk) == len(table)
    for s in table:
        assert s.label == (REAL if s.category == "offline-real" else FAKE)
        assert s.video.startswith(s.category + "/") and Path(s.path).is_file()
        assert Path(s.path).name == f"{s.video.split('/', 1)[1]}_{s.frame}.png"
    img = _read_rgb(Path(table[0].path))
    assert img.shape == (offline.DEFAULT_SIZE, offline.DEFAULT_SIZE, 3) and img.dtype == np.uint8
    identities = {s.target for s in table.where(category="offline-real")}
    assert {"astronaut", "grace-hopper"} <= identities and len(identities) >= 60


def test_identities_follow_the_target_and_source_videos(built):
    manifest = json.loads((built / layout.MANIFEST_NAME).read_text())
    videos = manifest["videos"]
    real_identity = {v: e["identities"][0] for v, e in videos.items() if e["category"] == "offline-real"}
    for video, entry in videos.items():
        ids = entry["identities"]
        if entry["category"] == "offline-real":
            assert len(ids) == 1 and video.split("/", 1)[1].startswith(ids[0] + "_")
            continue
        target_video = entry["frames"][0]["target_file"].rsplit("_", 1)[0]
        assert ids[0] == real_identity[target_video]
        if entry["category"] == "offline-swap":
            source_video = entry["frames"][0]["source_file"].rsplit("_", 1)[0]
            assert len(ids) == 2 and ids[1] == real_identity[source_video] and ids[0] != ids[1]
            assert video == f"offline-swap/{ids[0]}_{ids[1]}_{target_video.rsplit('_', 1)[1]}"
        else:
            assert ids == [real_identity[target_video]] and video.split("/", 1)[1] == target_video.split("/", 1)[1]
    table = layout.load(built)
    assert table.video_identities() == {v: tuple(e["identities"]) for v, e in videos.items()}


def test_fakes_differ_from_their_targets_only_inside_the_mask(built):
    manifest = json.loads((built / layout.MANIFEST_NAME).read_text())
    checked = 0
    for entry in manifest["videos"].values():
        for f in entry["frames"]:
            if entry["category"] == "offline-real":
                continue
            fake, target = _read_rgb(built / f["file"]), _read_rgb(built / f["target_file"])
            mask = _read_rgb(built / f["mask_file"])
            assert mask.shape == fake.shape[:2]
            changed = np.any(fake != target, axis=2)
            assert changed.any(), f["file"]
            assert not (changed & (mask == 0)).any(), f["file"]
            assert (mask == 0).any()
            checked += 1
    assert checked == 2 * offline.DEFAULT_N_PER_CATEGORY * offline.DEFAULT_FRAMES


def test_landmarks_lie_on_the_face(built):
    marks = layout.frame_landmarks(built)
    table = layout.load(built)
    assert set(marks) == {s.path for s in table}
    size = offline.DEFAULT_SIZE
    for lm in marks.values():
        assert lm.shape == (5, 2) and (lm >= 0).all() and (lm <= size - 1).all()
        assert lm[0, 0] < lm[1, 0] and lm[3, 0] < lm[4, 0]  # left before right
        assert max(lm[0, 1], lm[1, 1]) < lm[2, 1] < min(lm[3, 1], lm[4, 1])  # eyes, nose, mouth


def test_second_call_does_not_rebuild(built, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("ACGLAB_CACHE", str(tmp_path_factory.getbasetemp() / "acglab-cache"))
    stamp = (built / layout.MANIFEST_NAME).stat().st_mtime_ns

    def refuse(*args, **kwargs):
        raise AssertionError("rebuilt")

    monkeypatch.setattr(offline, "build_offline_faces", refuse)
    assert offline.offline_faces(progress=False) == built
    assert (built / layout.MANIFEST_NAME).stat().st_mtime_ns == stamp


def test_build_is_deterministic(built, tmp_path):
    again = offline.offline_faces(tmp_path / "again", progress=False)
    assert _digests(again) == _digests(built)
    other_seed = offline.offline_faces(
        tmp_path / "seed1", n_per_category=4, frames_per_video=1, size=48, seed=1, progress=False
    )
    twin = offline.offline_faces(
        tmp_path / "seed1-twin", n_per_category=4, frames_per_video=1, size=48, seed=1, progress=False
    )
    assert _digests(other_seed) == _digests(twin)
    assert len(_digests(twin)) == 3 * 4 + 2 * 4 + 2  # images, masks, marker and manifest


def test_other_parameters_replace_a_set_and_foreign_folders_are_refused(tmp_path):
    root = tmp_path / "set"
    offline.offline_faces(root, n_per_category=3, frames_per_video=1, size=40, progress=False)
    assert layout.load(root).summary()["videos"] == 9
    offline.offline_faces(root, n_per_category=2, frames_per_video=2, size=40, progress=False)
    summary = layout.load(root).summary()
    assert summary["videos"] == 6 and summary["frames"] == 12
    assert not list(tmp_path.glob(".set.*"))
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "me.jpg").write_bytes(b"x")
    with pytest.raises(DataLayoutError, match="not an offline face set"):
        offline.offline_faces(foreign, n_per_category=2, size=40, progress=False)
    assert sorted(os.listdir(foreign)) == ["me.jpg"]
    with pytest.raises(ValueError, match="n_per_category"):
        offline.offline_faces(tmp_path / "bad", n_per_category=1)


def test_damaged_sets_raise_layout_errors(tmp_path):
    root = offline.offline_faces(tmp_path / "set", n_per_category=2, frames_per_video=1, size=40, progress=False)
    with pytest.raises(DataLayoutError, match="no official partition; use --by target or --by identity"):
        layout.official_partition(root, layout.load(root))
    victim = next((root / "offline-sbi").iterdir())
    victim.unlink()
    with pytest.raises(DataLayoutError, match="lacks 1 files"):
        layout.load(root)
    (root / layout.MANIFEST_NAME).write_text("{not json")
    with pytest.raises(DataLayoutError, match="not valid JSON"):
        layout.load(root)
    (root / layout.MANIFEST_NAME).unlink()
    with pytest.raises(DataLayoutError, match="lacks manifest.json"):
        layout.load(root)


def test_tint_keeps_luminance():
    grey = np.random.default_rng(0).random((25, 25)) * 0.8
    rgb = offline.tint_grey(grey, np.random.default_rng(1)).astype(np.float64)
    luminance = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]) / 255
    unclipped = (rgb < 255).all(axis=2)
    assert np.abs(luminance - grey)[unclipped].max() <= 0.5 / 255 + 1e-9
    assert (rgb[..., 0] >= rgb[..., 2]).all()  # warm, not grey


def _detect_landmarks(image: np.ndarray) -> np.ndarray:
    """Five landmarks of the most confident face, with the project's detector when present."""
    try:
        from acglab.faces import detect_faces
    except ImportError:
        try:
            from acglab.faces.detect import detect_faces
        except ImportError:
            detect_faces = None
    if detect_faces is None:
        MTCNN = pytest.importorskip("facenet_pytorch").MTCNN
        from PIL import Image

        _, probs, marks = MTCNN(keep_all=True, device="cpu", min_face_size=60).detect(
            Image.fromarray(image), landmarks=True
        )
        assert marks is not None
        return np.asarray(marks[int(np.argmax(probs))], dtype=np.float64)
    faces = detect_faces(image, min_face_size=60)
    assert faces
    return np.asarray(max(faces, key=lambda f: f.score).landmarks, dtype=np.float64)


def test_recorded_landmarks_match_the_face_detector():
    lfw, astronaut, hopper = offline._package_images()
    for name, image in (("astronaut", astronaut), ("grace-hopper", hopper)):
        recorded = offline.PORTRAIT_LANDMARKS[name]
        eye_mouth = np.linalg.norm(recorded[:2].mean(axis=0) - recorded[3:].mean(axis=0))
        assert np.abs(_detect_landmarks(image) - recorded).max() < 0.05 * eye_mouth, name
    side = 160
    mean = cv2.resize(lfw.mean(axis=0), (side, side), interpolation=cv2.INTER_CUBIC)
    mean_rgb = np.repeat(np.clip(np.rint(mean * 255), 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
    measured = (_detect_landmarks(mean_rgb) + 0.5) * offline.LFW_SIZE / side - 0.5
    assert np.abs(measured - offline.LFW_LANDMARKS).max() < 1.0
