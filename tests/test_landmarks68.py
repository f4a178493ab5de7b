"""dlib's 68-point landmarks (checked against MTCNN on a real photo) and Self-Blended Images
built on them (SBI's convex-hull mask, checked against scipy's hull on synthetic landmarks).

The tests that run the predictor need ``dlib-bin`` and ``face-recognition-models``: when missing
they fail under ``CI=true`` and are skipped (with the reason) elsewhere.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np
import pytest
from scipy import ndimage
from synthetic_faces import hull_pixels, smooth_image, synthetic68

from acglab.errors import AcglabError, ImageError
from acglab.faces import landmarks68 as lm68
from acglab.faces.landmarks68 import LandmarkModelError, detect_box, five_from_68, landmarks68, predictor
from acglab.synth import SelfBlendAugment, face_hull_mask, random_face_mask, self_blend
from acglab.synth.inputs import as_landmarks
from acglab.synth.masks import FOREHEAD, draw_forehead, face_scale, forehead_points


@pytest.fixture(scope="module")
def astronaut_face():
    """scikit-image's astronaut photo cut to her head and shoulders (one face, about 90 px)."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:300, 100:350])


# --- the predictor on a real face ---------------------------------------------------------------


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.usefixtures("landmark_predictor")
def test_landmarks_on_a_real_face_agree_with_mtcnn(astronaut_face):
    from acglab.faces import detect_faces

    img = astronaut_face
    h, w = img.shape[:2]
    pts = landmarks68(img)
    assert pts.shape == (68, 2) and pts.dtype == np.float32 and np.isfinite(pts).all()
    assert (
        (pts[:, 0] >= 0).all() and (pts[:, 0] <= w - 1).all() and (pts[:, 1] >= 0).all() and (pts[:, 1] <= h - 1).all()
    )
    five = five_from_68(pts)
    assert five.shape == (5, 2) and five.dtype == np.float32
    left_eye, right_eye, nose, mouth_left, mouth_right = five
    assert left_eye[0] < nose[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
    assert pts[8, 1] > nose[1] and pts[17:27, 1].max() < nose[1]  # chin below, brows above the nose

    # an independent detector (MTCNN, another network and training set) places the same points
    face = detect_faces(img, min_face_size=40)[0]
    iod = float(np.linalg.norm(face.landmarks[1] - face.landmarks[0]))
    err = np.linalg.norm(five - face.landmarks, axis=1) / iod
    assert err[:2].max() < 0.10, err  # eye centres
    assert err.max() < 0.15, err  # nose tip and mouth corners
    # given MTCNN's box instead of dlib's own detection, the eyes barely move
    boxed = five_from_68(landmarks68(img, box=face.box))
    assert (np.linalg.norm(boxed[:2] - five[:2], axis=1) / iod).max() < 0.10


@pytest.mark.usefixtures("landmark_predictor")
def test_largest_face_is_used_and_no_face_falls_back_to_the_whole_image(astronaut_face):
    box = detect_box(astronaut_face)
    assert box is not None
    x0, y0, x1, y1 = box
    assert np.allclose(landmarks68(astronaut_face), landmarks68(astronaut_face, box=box))
    blank = np.full((120, 100, 3), 128, np.uint8)  # no face: the predictor runs on the whole image
    assert detect_box(blank) is None
    pts = landmarks68(blank)
    assert pts.shape == (68, 2) and np.array_equal(pts, landmarks68(blank, box=(0, 0, 100, 120)))
    assert (pts >= 0).all() and (pts[:, 0] <= 99).all() and (pts[:, 1] <= 119).all()
    gray = landmarks68(blank[:, :, 0])  # (H, W) gray is replicated to RGB
    assert np.array_equal(gray, pts)


@pytest.mark.usefixtures("landmark_predictor")
def test_bad_images_and_boxes_are_rejected():
    with pytest.raises(ImageError, match=r"\(H, W, 3\) uint8"):
        landmarks68(np.zeros((32, 32, 4), np.uint8))
    with pytest.raises(ImageError, match="uint8"):
        landmarks68(np.zeros((32, 32, 3), np.float32))
    img = np.full((32, 32, 3), 100, np.uint8)
    for box in [(10, 10, 5, 20), (0, 0, np.nan, 10), (1, 2, 3)]:
        with pytest.raises(ValueError, match="box"):
            landmarks68(img, box=box)


@pytest.mark.parametrize("missing", ["dlib", "face_recognition_models"])
def test_missing_packages_give_one_line_naming_them(monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # import and find_spec now see no such package
    assert importlib.util.find_spec(missing) is None
    predictor.cache_clear()
    lm68.face_detector.cache_clear()
    try:
        for call in (predictor, lambda: landmarks68(np.zeros((32, 32, 3), np.uint8))):
            with pytest.raises(LandmarkModelError, match=r"pip install dlib-bin face-recognition-models") as info:
                call()
            assert isinstance(info.value, AcglabError)
            message = str(info.value)
            assert "\n" not in message and "acglab[weights]" in message
        # the loader of the missing part says which one it is
        with pytest.raises(LandmarkModelError) as info:
            lm68._dlib() if missing == "dlib" else lm68.predictor_path()
        assert ("dlib" if missing == "dlib" else "face-recognition-models") in str(info.value).split(":")[0]
    finally:  # the next test loads the real ones again
        predictor.cache_clear()
        lm68.face_detector.cache_clear()


def test_five_from_68_is_the_eye_centres_nose_tip_and_mouth_corners():
    pts = synthetic68()
    five = five_from_68(pts)
    expected = [pts[36:42].mean(0), pts[42:48].mean(0), pts[30], pts[48], pts[54]]
    np.testing.assert_allclose(five, expected, atol=1e-4)
    np.testing.assert_allclose(five[:2], [[96 - 13, 90 - 12], [96 + 13, 90 - 12]], atol=1e-4)  # the drawn eyes
    with pytest.raises(ValueError, match=r"\(68, 2\)"):
        five_from_68(pts[:67])


# --- SBI with 68 points -------------------------------------------------------------------------


def test_68_point_hull_mask_is_the_convex_hull_and_the_forehead_extends_it_up():
    pts = synthetic68()
    shape = (192, 192)
    base = face_hull_mask(shape, pts).astype(bool)
    inside = hull_pixels(pts, shape)
    boundary = ndimage.binary_dilation(inside) & ~ndimage.binary_erosion(inside)
    assert not ((base != inside) & ~boundary).any()  # only pixels on the outline may differ
    tall = face_hull_mask(shape, pts, forehead=0.3).astype(bool)
    assert (tall >= base).all()
    reach = np.linalg.norm(pts[17:27].mean(0) - pts[8])  # brows to chin
    rows = np.flatnonzero(base.any(axis=1)), np.flatnonzero(tall.any(axis=1))
    assert abs((rows[0][0] - rows[1][0]) - 0.3 * reach) <= 1.5  # the top moves up by 0.3 of it
    assert rows[0][-1] == rows[1][-1]  # the chin stays
    np.testing.assert_allclose(forehead_points(pts, 0.0)[68:], pts[17:27])
    with pytest.raises(ValueError, match="forehead"):
        face_hull_mask(shape, five_from_68(pts), forehead=0.2)
    with pytest.raises(ValueError, match="outline"):
        face_hull_mask(shape, pts, brow=0.5)


def test_forehead_is_extended_half_of_the_time_by_up_to_its_range():
    rng = np.random.default_rng(0)
    draws = np.array([draw_forehead(rng) for _ in range(400)])
    assert 150 <= (draws == 0).sum() <= 250  # Binomial(400, 1/2)
    assert draws.min() >= FOREHEAD[0] and draws.max() <= FOREHEAD[1] and draws.max() > 0.25


def test_self_blend_with_68_points_stays_inside_the_hull_and_is_seeded():
    img, pts = smooth_image(1), synthetic68()
    h, w = img.shape[:2]
    s = face_scale(pts)
    assert s == pytest.approx(face_scale(five_from_68(pts)), rel=1e-6)
    # the farthest the mask can reach beyond the extended hull: the random similarity (scale
    # 0.95..1/0.95 about the centre, shift 3 % / 1.5 %), deformation 0.08 s, dilation 0.1 s,
    # blur 4 sigma with sigma <= 0.12 s, and a pixel of rounding
    region = forehead_points(pts, FOREHEAD[1])
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    reach = (1 / 0.95 - 1) * np.linalg.norm(region - centre, axis=1).max() + np.hypot(0.03 * w, 0.015 * h)
    margin = reach + (0.08 + 0.1 + 4 * 0.12) * s + 2
    far = ndimage.distance_transform_edt(~hull_pixels(region, (h, w))) > margin
    assert far.mean() > 0.3
    masks = []
    for seed in range(8):
        fake, mask = self_blend(img, pts, np.random.default_rng(seed))
        assert fake.shape == img.shape and fake.dtype == np.uint8 and mask.shape == (h, w) and mask.dtype == np.float32
        assert 0 <= mask.min() and mask.max() <= 1 and mask[int(pts[30, 1]), int(pts[30, 0])] > 0
        assert (mask[far] == 0).all()
        outside = mask == 0
        assert np.array_equal(fake[outside], img[outside])
        changed = np.any(fake != img, axis=2)
        assert changed.any() and not (changed & outside).any()
        again, mask2 = self_blend(img, pts, np.random.default_rng(seed))
        assert np.array_equal(again, fake) and np.array_equal(mask2, mask)
        masks.append(mask)
    assert not np.array_equal(masks[0], masks[1])


def test_68_points_work_in_random_masks_and_the_augmentation():
    img, pts = smooth_image(2), synthetic68()
    a = random_face_mask(img.shape, pts, np.random.default_rng(3), kind="hull")
    b = random_face_mask(img.shape, pts, np.random.default_rng(3), kind="hull")
    assert np.array_equal(a, b) and a[int(pts[30, 1]), int(pts[30, 0])] > 0.5
    ellipse = random_face_mask(img.shape, pts, np.random.default_rng(3), kind="ellipse")
    assert ellipse[int(pts[30, 1]), int(pts[30, 0])] > 0.5
    out, label, mask = SelfBlendAugment(p=1.0)(img, pts, np.random.default_rng(0))
    assert label == 0 and mask.any() and not np.array_equal(out, img)
    out, label, mask = SelfBlendAugment(p=0.0)(img, pts, np.random.default_rng(0))
    assert label == 1 and out is img and not mask.any()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p[:67], r"\(5, 2\) .*or \(68, 2\)"),
        (lambda p: p + [0, 150], "point 0 of 68 lies outside"),
        (lambda p: np.where(np.arange(136).reshape(68, 2) == 7, np.nan, p), "NaN"),
        (lambda p: np.tile(p[36:37], (68, 1)), "degenerate"),
    ],
)
def test_bad_68_point_landmarks_raise_image_error(change, message):
    img = smooth_image(3)
    with pytest.raises(ImageError, match=message):
        self_blend(img, change(synthetic68()), np.random.default_rng(0))
    with pytest.raises(ImageError, match=message):
        as_landmarks(change(synthetic68()), img.shape, allow68=True)


@pytest.mark.usefixtures("landmark_predictor")
def test_self_blend_on_a_real_face_with_dlib_landmarks(astronaut_face):
    pts = landmarks68(astronaut_face)
    fake, mask = self_blend(astronaut_face, pts, np.random.default_rng(0))
    outside = mask == 0
    assert outside.any() and mask.max() > 0
    assert np.array_equal(fake[outside], astronaut_face[outside])
    nose = np.rint(pts[30]).astype(int)
    assert mask[nose[1], nose[0]] > 0


@pytest.mark.usefixtures("landmark_predictor")
def test_training_landmark_cache_keeps_68_points_apart_from_5(tmp_path, monkeypatch, astronaut_face):
    """``face_landmarks(points=68)`` detects with MTCNN's box and dlib's predictor, caches the 68
    points in a file of their own (the 5-point cache is untouched) and gives the same points back."""
    from acglab.data import REAL, Sample, SampleTable
    from acglab.data.images import save_image
    from acglab.faces import detect_faces
    from acglab.train import landmarks as tl

    monkeypatch.setenv("ACGLAB_CACHE", str(tmp_path / "cache"))
    path = str(tmp_path / "faces" / "a.png")
    os.makedirs(os.path.dirname(path))
    save_image(path, astronaut_face)
    table = SampleTable([Sample(path, REAL, "c/a", ("a",), "c", "a", 0)])
    found = tl.face_landmarks(table, root=tmp_path / "faces", progress=False, points=68)
    box = detect_faces(astronaut_face, min_face_size=tl.CROP_MIN_FACE_SIZE)[0].box
    np.testing.assert_allclose(found[path], landmarks68(astronaut_face, box=box), atol=0.01)
    assert tl.cache_file(tmp_path / "faces", 68).is_file() and not tl.cache_file(tmp_path / "faces", 5).exists()
    calls = []
    again = tl.face_landmarks(
        table, root=tmp_path / "faces", progress=False, points=68, detect=lambda p: calls.append(p)
    )
    assert calls == [] and np.array_equal(again[path], found[path])
    with pytest.raises(AcglabError, match="landmark points"):
        tl.face_landmarks(table, root=tmp_path / "faces", progress=False, points=7)
