"""Face detection, cropping and agreement with the published Celeb-DF crops (acglab.faces)."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data

from acglab.data.crop_agreement import celebdf_frame_pairs, crop_agreement
from acglab.errors import AcglabError, ImageError, NoFaceError
from acglab.faces import (
    DEFAULT_MARGIN,
    Face,
    best_face,
    crop_box,
    crop_face,
    detect_faces,
    detector,
    find_face,
    largest_face,
    side_margins,
)
from acglab.faces.agreement import PUBLISHED_ENLARGEMENT, box_iou, locate_crop, shrink_box

#: hand-annotated on skimage's astronaut image (512 x 512): face box and eye centres, in pixels
ASTRONAUT_FACE = (177.0, 70.0, 275.0, 175.0)
ASTRONAUT_EYES = np.array([[202.0, 102.0], [245.0, 102.0]])


@pytest.fixture(scope="module")
def astronaut():
    return skimage.data.astronaut()


@pytest.fixture(scope="module")
def astronaut_faces(astronaut):
    return detect_faces(astronaut)


def _face(box, score):
    return Face(box=box, score=score, landmarks=np.zeros((5, 2), np.float32))


# --- detection -------------------------------------------------------------------------


def test_detects_the_annotated_face(astronaut_faces):
    assert len(astronaut_faces) == 1
    face = astronaut_faces[0]
    assert isinstance(face.box, tuple) and len(face.box) == 4 and all(isinstance(v, float) for v in face.box)
    assert 0.9 <= face.score <= 1.0
    assert box_iou(face.box, ASTRONAUT_FACE) >= 0.6
    assert face.landmarks.shape == (5, 2) and face.landmarks.dtype == np.float32
    assert np.abs(face.landmarks[:2] - ASTRONAUT_EYES).max() <= 10


def test_landmark_order_is_eyes_nose_mouth_left_to_right(astronaut_faces):
    (lx, ly), (rx, ry), (nx, ny), (mlx, mly), (mrx, mry) = astronaut_faces[0].landmarks
    assert lx < nx < rx and mlx < mrx
    assert max(ly, ry) < ny < min(mly, mry)
    x0, y0, x1, y1 = astronaut_faces[0].box
    assert (astronaut_faces[0].landmarks[:, 0] > x0).all() and (astronaut_faces[0].landmarks[:, 0] < x1).all()
    assert (astronaut_faces[0].landmarks[:, 1] > y0).all() and (astronaut_faces[0].landmarks[:, 1] < y1).all()


def test_mirrored_image_gives_mirrored_face(astronaut, astronaut_faces):
    width = astronaut.shape[1]
    mirrored = detect_faces(np.ascontiguousarray(astronaut[:, ::-1]))
    assert len(mirrored) == 1
    x0, y0, x1, y1 = astronaut_faces[0].box
    assert box_iou(mirrored[0].box, (width - x1, y0, width - x0, y1)) >= 0.85
    # the left eye of the mirrored image is the mirrored right eye
    assert abs(mirrored[0].landmarks[0, 0] - (width - astronaut_faces[0].landmarks[1, 0])) <= 6


def test_grayscale_input_finds_the_same_face(astronaut, astronaut_faces):
    gray = (astronaut.astype(float) @ [0.299, 0.587, 0.114]).round().astype(np.uint8)
    faces = detect_faces(gray)
    assert faces and box_iou(faces[0].box, astronaut_faces[0].box) >= 0.8


@pytest.mark.parametrize(
    "image",
    [np.full((200, 300, 3), 128, np.uint8), skimage.data.chelsea(), np.zeros((8, 8, 3), np.uint8)],
    ids=["flat-gray", "cat", "tiny"],
)
def test_no_face_gives_empty_list_and_find_face_raises(image):
    assert detect_faces(image) == []
    with pytest.raises(NoFaceError, match="no face found in test image"):
        find_face(image, what="test image")


@pytest.mark.parametrize("side, min_face_size", [(30, 100), (60, 100), (99, 100), (11, 20)])
def test_image_smaller_than_the_smallest_face_has_no_face(side, min_face_size):
    image = np.full((side, side + 5, 3), 128, np.uint8)
    assert detect_faces(image, min_face_size=min_face_size) == []


def test_bad_image_arrays_raise_image_error():
    with pytest.raises(ImageError):
        detect_faces(np.zeros((20, 20, 4), np.uint8))
    with pytest.raises(ImageError):
        detect_faces(np.zeros((20, 20, 3), np.float32))


def test_detector_is_built_once_per_setting():
    assert detector() is detector()
    assert detector("cpu", 40) is not detector("cpu", 20)


def test_unusable_device_is_a_user_error():
    with pytest.raises(AcglabError, match="device"):
        detector("no-such-device")


def test_best_and_largest_face_pick_by_score_and_area():
    small_sure = _face((0.0, 0.0, 10.0, 10.0), 0.99)
    big_unsure = _face((0.0, 0.0, 50.0, 40.0), 0.80)
    assert best_face([big_unsure, small_sure]) is small_sure
    assert largest_face([small_sure, big_unsure]) is big_unsure
    assert big_unsure.area == 2000.0 and big_unsure.center == (25.0, 20.0)
    for pick in (best_face, largest_face):
        with pytest.raises(NoFaceError):
            pick([])
    with pytest.raises(ValueError):
        find_face(np.zeros((50, 50, 3), np.uint8), choose="first")


# --- cropping --------------------------------------------------------------------------


def test_side_margins_forms():
    assert side_margins(0.2) == (0.2, 0.2, 0.2, 0.2)
    assert side_margins((0.1, 0.3)) == (0.1, 0.3, 0.1, 0.3)
    assert side_margins([0.1, 0.2, 0.3, 0.4]) == (0.1, 0.2, 0.3, 0.4)
    for bad in ((0.1, 0.2, 0.3), -0.5, float("nan")):
        with pytest.raises(ValueError):
            side_margins(bad)


def test_crop_box_equals_companion_code_scale_rule():
    """A uniform margin m equals enlarging the box by 1 + 2m about its centre, then truncating."""
    rng = np.random.default_rng(3)
    scale = 1.3
    mismatches = 0
    for _ in range(200):
        x0, y0 = rng.uniform(60, 300, size=2)
        w, h = rng.uniform(20, 150, size=2)
        box = (x0, y0, x0 + w, y0 + h)
        expected = tuple(
            int(v)
            for v in (
                x0 - w * (scale - 1) / 2,
                y0 - h * (scale - 1) / 2,
                x0 + w + w * (scale - 1) / 2,
                y0 + h + h * (scale - 1) / 2,
            )
        )
        got = crop_box(box, (1000, 1000), margin=(scale - 1) / 2)
        assert all(abs(a - b) <= 1 for a, b in zip(got, expected))
        mismatches += sum(a != b for a, b in zip(got, expected))
    assert mismatches <= 8  # only floating-point rounding right at an integer may differ


def test_crop_box_clips_to_the_image_and_uses_each_side_margin():
    assert crop_box((10, 20, 110, 220), (300, 400), margin=(0.1, 0.2, 0.3, 0.4)) == (0, 0, 140, 300)
    assert crop_box((100, 100, 200, 150), (300, 400), margin=(0.1, 0.2, 0.3, 0.4)) == (90, 90, 230, 170)
    assert crop_box((-50, -50, 500, 500), (300, 400), margin=0.5) == (0, 0, 400, 300)
    with pytest.raises(ImageError):
        crop_box((500, 500, 600, 600), (300, 400), margin=0.1)


def test_crop_face_cuts_the_crop_box_and_resizes(astronaut, astronaut_faces):
    face = astronaut_faces[0]
    x0, y0, x1, y1 = crop_box(face.box, astronaut.shape, DEFAULT_MARGIN)
    crop = crop_face(astronaut, face)
    np.testing.assert_array_equal(crop, astronaut[y0:y1, x0:x1])
    crop[:] = 0
    assert astronaut[y0:y1, x0:x1].any()  # a copy, not a view
    assert crop_face(astronaut, face.box, size=64).shape == (64, 64, 3)
    assert crop_face(astronaut, face, size=(30, 40)).shape == (40, 30, 3)


# --- agreement measures ------------------------------------------------------------------


def test_box_iou_matches_pixel_counting():
    rng = np.random.default_rng(4)
    for _ in range(100):
        a = np.sort(rng.integers(0, 40, size=(2, 2)), axis=0).T.reshape(-1)[[0, 2, 1, 3]]
        b = np.sort(rng.integers(0, 40, size=(2, 2)), axis=0).T.reshape(-1)[[0, 2, 1, 3]]
        ma, mb = np.zeros((40, 40), bool), np.zeros((40, 40), bool)
        ma[a[1] : a[3], a[0] : a[2]] = True
        mb[b[1] : b[3], b[0] : b[2]] = True
        union = (ma | mb).sum()
        expected = (ma & mb).sum() / union if union else 0.0
        assert box_iou(tuple(a), tuple(b)) == pytest.approx(expected)


def test_shrink_box_undoes_an_enlargement():
    box = (10.0, 20.0, 110.0, 160.0)
    w, h = 100.0, 140.0
    enlarged = (10 - 0.15 * w, 20 - 0.15 * h, 110 + 0.15 * w, 160 + 0.15 * h)
    assert shrink_box(enlarged, PUBLISHED_ENLARGEMENT) == pytest.approx(box)


def test_locate_crop_finds_a_cut_and_a_resized_cut():
    import cv2

    rng = np.random.default_rng(5)
    frame = cv2.GaussianBlur(rng.integers(0, 256, size=(240, 320, 3), dtype=np.uint8), (5, 5), 0)
    cut = frame[50:130, 100:170]
    found = locate_crop(frame, cut)
    assert found.box == (100.0, 50.0, 170.0, 130.0) and found.score > 0.99 and found.scale == 1.0
    shrunk = cv2.resize(cut, (56, 64), interpolation=cv2.INTER_AREA)  # scale 0.8
    found = locate_crop(frame, shrunk)
    assert found.scale == pytest.approx(0.8, abs=0.05)
    assert np.abs(np.array(found.box) - [100, 50, 170, 130]).max() <= 4


# --- agreement with the published Celeb-DF v2 crops ----------------------------------------


@pytest.mark.data
@pytest.mark.slow
def test_same_face_as_published_celebdf_crops(celebdf_mini):
    """MTCNN + our margin against the published crops on all full frames of celebdf-mini."""
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))
    pairs = celebdf_frame_pairs(celebdf_mini)
    assert len(pairs) >= 300
    report = crop_agreement(pairs, progress=False)
    print(f"\ncelebdf-mini agreement: {report.summary()}")
    assert min(f.match_score for f in report.frames) > 0.9  # every published crop was located
    assert report.agreement >= 0.95
    assert report.mean_crop_iou >= 0.85
