"""Semantic face editing on photos (acglab.edit): parts from 68 landmarks, the four operations,
the blending band they stay inside, the `acglab edit` command and its refusals.

The tests use two full frames of the Celeb-DF subset and dlib's predictor: when either is
missing they fail under ``CI=true`` and are skipped (with the reason) elsewhere.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from scipy import ndimage

from acglab.cli import main
from acglab.edit import PARTS, PartError, changed_outside, delete_part, modify_part, part_mask, replace_part
from acglab.edit.geometric import band_pixels, check_compatible, edit_band, feathered, head_turn, synthesize_face
from acglab.faces.landmarks68 import LandmarkModelError
from acglab.faces.parts import inter_ocular, mask_bbox

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FRAMES = ("Celeb-real/id0_0001_000.jpg", "Celeb-real/id11_0006_000.jpg")


@pytest.fixture(scope="module")
def faces(celebdf_mini, landmark_predictor):
    from acglab.data.images import load_image
    from acglab.edit.faces import locate_face

    out = []
    for name in FRAMES:
        path = celebdf_mini / "frames" / name
        image = load_image(path)
        out.append((path, image, locate_face(image, str(path)).landmarks))
    return out


def test_every_part_has_a_region_inside_the_face(faces):
    _, image, lm = faces[0]
    masks = {p: part_mask(image.shape, lm, p) for p in PARTS}
    face = masks["face"].astype(bool)
    for part, m in masks.items():
        assert m.dtype == np.uint8 and m.shape == image.shape[:2] and m.any(), part
        inside = (m.astype(bool) & ndimage.binary_dilation(face, iterations=3)).sum() / m.sum()
        assert inside > 0.97, (part, inside)
    assert np.array_equal(masks["eyes"], masks["left_eye"] | masks["right_eye"])
    assert np.array_equal(masks["brows"], masks["left_brow"] | masks["right_brow"])
    assert not (masks["skin"] & (masks["eyes"] | masks["mouth"] | masks["brows"])).any()
    # each eye region holds its six landmarks and is smaller than a tenth of the face
    for part, idx in (("left_eye", range(36, 42)), ("right_eye", range(42, 48))):
        x, y = np.round(lm[list(idx)]).astype(int).T
        assert masks[part][y, x].all() and masks[part].sum() < 0.1 * face.sum()
    x0, y0, x1, y1 = mask_bbox(masks["mouth"])
    ys, xs = np.nonzero(masks["mouth"])
    assert (x0, y0, x1, y1) == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    with pytest.raises(PartError, match="left_eye, right_eye"):
        part_mask(image.shape, lm, "ear")
    with pytest.raises(PartError, match="68"):
        part_mask(image.shape, lm[:5], "eyes")


def test_feathered_mask_vanishes_beyond_the_band_and_changed_outside_counts_pixels():
    mask = np.zeros((80, 90), np.uint8)
    cv2.circle(mask, (40, 45), 12, 1, -1)
    for band in (1, 4, 9):
        soft = feathered(mask, band)
        distance = ndimage.distance_transform_edt(mask == 0)
        assert (soft[distance > band] == 0).all() and (soft[mask > 0] == 1).all()
        assert (edit_band(mask, band)[distance <= band - 0.5] == 1).all()
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    b = a.copy()
    b[5:10, 5:10, 1] = np.clip(b[5:10, 5:10, 1].astype(int) + 20, 0, 255).astype(np.uint8)
    band = np.zeros((30, 40), np.uint8)
    band[:, 20:] = 1
    moved = np.abs(a.astype(int) - b.astype(int)).max(2) > 8
    assert changed_outside(a, b, band) == pytest.approx(moved[:, :20].mean())


def test_identity_edits_change_nothing(faces):
    _, image, lm = faces[0]
    same = replace_part(image, lm, image, lm, "mouth", color=False)
    assert np.abs(same.image.astype(int) - image.astype(int)).max() <= 1
    assert np.array_equal(modify_part(image, lm, "nose", amount=0.0).image, image)


@pytest.mark.parametrize("op", ["replace", "replace-poisson", "delete", "modify", "recolour", "synthesize"])
def test_each_operation_changes_the_part_and_nothing_beyond_the_band(faces, op):
    _, image, lm = faces[0]
    _, other, other_lm = faces[1]
    if op == "replace":
        result = replace_part(image, lm, other, other_lm, "eyes")
    elif op == "replace-poisson":
        result = replace_part(image, lm, other, other_lm, "mouth", method="poisson")
    elif op == "delete":
        result = delete_part(image, lm, "brows")
    elif op == "modify":
        result = modify_part(image, lm, "nose", amount=0.3, dx=0.05)
    elif op == "recolour":
        result = modify_part(image, lm, "mouth", hue=90)
    else:
        result = synthesize_face(image, lm, [(other, other_lm, "eyes"), (other, other_lm, "mouth")])
    diff = np.abs(result.image.astype(int) - image.astype(int)).max(2)
    inside = result.mask.astype(bool)
    assert diff[inside].mean() > 5, op  # the part did change
    assert (diff[result.band == 0] == 0).all() and result.changed_outside == 0.0
    assert result.band.sum() <= (result.mask.sum() + 1) * 12  # the band is a margin, not the image
    record = result.summary()
    assert record["op"] in ("replace", "delete", "modify", "synthesize") and len(record["bbox"]) == 4
    json.dumps(record)


def test_faces_too_different_are_refused_with_a_reason(faces):
    _, image, lm = faces[0]
    small = (lm - lm.mean(0)) / 5 + lm.mean(0)
    with pytest.raises(PartError, match="in size"):
        check_compatible(lm, small)
    turned = lm.copy()
    turned[30] += np.array([0.6 * inter_ocular(lm), 0.0])
    assert head_turn(turned) > head_turn(lm) + 0.5
    with pytest.raises(PartError, match="turned"):
        replace_part(image, lm, image, turned, "mouth")
    with pytest.raises(PartError, match="nothing to fill"):
        delete_part(image, lm, "face")
    with pytest.raises(PartError, match="between 0.2x and 3x"):
        modify_part(image, lm, "mouth", amount=5)
    assert band_pixels(lm, 0.12) == max(1, round(0.12 * inter_ocular(lm)))


def test_cli_edits_and_reports(faces, tmp_path, capsys):
    (path, image, _), (other, _, _) = faces
    out = tmp_path / "edited.png"
    assert (
        main(
            ["edit", str(path), "--op", "replace", "--part", "mouth", "--with", str(other), "--out", str(out), "--json"]
        )
        == 0
    )
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["op"] == "replace" and record["part"] == "mouth" and record["changed_outside"] == 0.0
    assert out.is_file()
    for op in (
        ["--op", "delete", "--part", "brows"],
        ["--op", "modify", "--part", "nose", "--amount", "0.2"],
        ["--op", "synthesize", "--with", str(other), "--part", "eyes,mouth"],
    ):
        target = tmp_path / f"{op[1]}.png"
        assert main(["edit", str(path), *op, "--out", str(target)]) == 0 and target.is_file(), op


def test_cli_refuses_bad_input_with_one_line_and_writes_nothing(faces, tmp_path, capsys):
    from acglab.data.images import save_image

    path = faces[0][0]
    out = tmp_path / "never.png"
    assert main(["edit", str(path), "--op", "delete", "--part", "ear", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "left_eye" in err[0]
    blank = tmp_path / "blank.png"
    save_image(blank, np.full((200, 200, 3), 128, np.uint8))
    assert main(["edit", str(blank), "--op", "delete", "--part", "mouth", "--out", str(out)]) != 0
    assert "no face" in capsys.readouterr().err
    tiny = tmp_path / "tiny.png"
    save_image(tiny, cv2.resize(faces[0][1], (94, 50)))
    assert main(["edit", str(tiny), "--op", "delete", "--part", "mouth", "--out", str(out)]) != 0
    assert "face" in capsys.readouterr().err
    assert main(["edit", str(path), "--op", "replace", "--part", "mouth", "--out", str(out)]) == 2
    assert "--with" in capsys.readouterr().err
    assert not out.exists()


def test_edit_explorer_follows_its_widgets(faces):
    from acglab.viz.edit_widgets import edit_explorer, latent_edit_explorer, parts_figure

    path, image, lm = faces[0]
    _, other, other_lm = faces[1]
    x0, y0 = np.floor(lm.min(0) - 20).astype(int)
    x1, y1 = np.ceil(lm.max(0) + 20).astype(int)
    box = (max(0, x0), max(0, y0), x1, y1)
    assert len(parts_figure(image, lm, box).data) > 8
    calls = []

    def analyse(face):
        calls.append(face.shape)
        return float(face.mean() / 255), np.zeros((8, 8))

    explorer = edit_explorer(image, lm, box, [("other", other, other_lm)], analyse=analyse)
    first = np.array(explorer.figure.data[0].z).copy()
    assert "P(fake)" in explorer.readout.value and "0.00%" in explorer.readout.value
    explorer.sliders["part"].value = "eyes"
    assert not np.array_equal(first, np.array(explorer.figure.data[0].z))
    explorer.sliders["op"].value = "modify"
    explorer.sliders["hue"].value = 90.0
    assert "modify eyes" in explorer.readout.value
    explorer.sliders["op"].value = "delete"
    explorer.sliders["part"].value = "face"
    assert "refused" in explorer.readout.value
    assert len(calls) >= 4

    from acglab.edit.latent import pca_directions, spread_along
    from acglab.models.latent import build_latent_model

    model = build_latent_model({"model": "vae", "channels": 3, "img_size": 16, "latent_dim": 4})
    codes = np.random.default_rng(0).normal(size=(30, 4))
    dirs = pca_directions(codes, 2)
    latent = latent_edit_explorer(model, codes[0], dirs, [spread_along(codes, u)[1] for u in dirs.vectors], steps=5)
    strip = np.array(latent.figure.data[0].z).copy()
    assert strip.shape == (16, 5 * 17 - 1, 3)
    latent.sliders["direction"].value = 1
    assert not np.array_equal(strip, np.array(latent.figure.data[0].z)) and "PC2" in latent.readout.value


def test_edit_scores_apply_each_named_edit_and_mark_refusals(faces):
    from acglab.edit.geometric import SCORED_EDITS, apply_edit, compatible, edit_scores
    from acglab.viz.edit_widgets import pictures_figure

    (_, image, lm), (_, other, other_lm) = faces
    box = (0, 0, image.shape[1], image.shape[0])
    seen = []

    def analyse(face):
        seen.append(face.copy())
        return float(face.mean()) / 255, None

    table = edit_scores([(image, lm, box, other, other_lm)], analyse)
    assert list(table) == ["original", *SCORED_EDITS] and all(len(v) == 1 for v in table.values())
    assert table["original"][0] == pytest.approx(image.mean() / 255)
    expected = apply_edit(image, lm, "delete", "brows").image
    assert table["delete brows"][0] == pytest.approx(expected.mean() / 255)
    turned = lm.copy()
    turned[30] += np.array([0.6 * inter_ocular(lm), 0.0])
    assert compatible(lm, other_lm) and not compatible(lm, turned)
    refused = edit_scores([(image, lm, box, image, turned)], analyse, {"replace mouth": ("replace", "mouth", {})})
    assert np.isnan(refused["replace mouth"][0])
    with pytest.raises(PartError, match="replace, delete or modify"):
        apply_edit(image, lm, "synthesize", "eyes")
    assert len(pictures_figure([image[:50, :80], image[:30, :30]], ["a", "b"]).data) == 2


def test_cli_writes_a_labelled_edit_set_that_the_data_layer_reads(faces, tmp_path, capsys):
    import shutil

    from acglab.data.images import save_image
    from acglab.data.layouts import load_dataset

    folder = tmp_path / "photos"
    folder.mkdir()
    for path, _, _ in faces:
        shutil.copy(path, folder / path.name)
    save_image(folder / "blank.png", np.full((120, 120, 3), 90, np.uint8))
    out = tmp_path / "set"
    assert main(["edit", str(folder), "--op", "delete", "--part", "brows", "--out-dir", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["written"] == 2 and list(summary["skipped"]) == [str(folder / "blank.png")]
    table = load_dataset(out)
    assert sorted(s.is_real for s in table) == [False, False, True, True]
    record = json.loads((out / "edits.json").read_text())["records"][0]
    assert record["changed_outside"] == 0.0 and record["op"] == "delete"
    fake = sorted((out / "fake").iterdir())[0]
    before = fake.stat().st_mtime_ns
    assert main(["edit", str(folder), "--op", "delete", "--part", "brows", "--out-dir", str(out)]) == 0
    assert fake.stat().st_mtime_ns == before  # kept: an interrupted run continues
    assert main(["edit", str(folder), "--op", "replace", "--part", "mouth", "--out-dir", str(out / "r")]) == 0
    assert "written" in capsys.readouterr().out


def test_cli_names_the_missing_landmark_package(faces, tmp_path, capsys, monkeypatch):
    from acglab.faces import landmarks68 as lm68

    def missing():
        raise LandmarkModelError(f"dlib's 68-point predictor is not installed: {lm68.INSTALL}")

    monkeypatch.setattr(lm68, "predictor", missing)
    out = tmp_path / "x.png"
    assert main(["edit", str(faces[0][0]), "--op", "delete", "--part", "mouth", "--out", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "face-recognition-models" in err[0] and not out.exists()
