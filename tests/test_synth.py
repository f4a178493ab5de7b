"""The forgery synthesizer, checked against independent computations (closed forms, scikit-image,
scipy) on small synthetic images."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.transform import SimilarityTransform

from acglab.errors import ImageError
from acglab.synth import (
    SelfBlendAugment,
    align_face,
    alpha_blend,
    face_ellipse_mask,
    face_hull_mask,
    face_swap,
    poisson_blend,
    random_face_mask,
    reinhard_transfer,
    self_blend,
    similarity_transform,
    transform_points,
)
from acglab.synth.jitter import downscale, jitter_colors, random_similarity, sharpen
from acglab.synth.masks import elastic_deform, erode_or_dilate, face_outline_points, soften

#: landmarks of a face filling a 64x64 image (left eye, right eye, nose, mouth left, mouth right)
LM64 = np.array([[20.0, 24.0], [43.0, 23.0], [31.5, 36.0], [22.5, 45.0], [41.5, 44.5]])


def smooth_image(seed: int, shape=(64, 64), lo=40, hi=215) -> np.ndarray:
    """A smooth random colour image with values well inside [0, 255] (no gamut clipping)."""
    rng = np.random.default_rng(seed)
    noise = rng.random((shape[0], shape[1], 3)).astype(np.float32)
    blurred = cv2.GaussianBlur(noise, (0, 0), 4)
    blurred = (blurred - blurred.min()) / (blurred.max() - blurred.min())
    return np.rint(lo + (hi - lo) * blurred).astype(np.uint8)


def blob_mask(shape=(64, 64), center=(32, 34), axes=(16, 20), sigma=3.0) -> np.ndarray:
    m = np.zeros(shape, np.float32)
    cv2.ellipse(m, center, axes, 0, 0, 360, 1.0, -1)
    return np.clip(cv2.GaussianBlur(m, (0, 0), sigma), 0, 1) if sigma > 0 else m


# --- blending -----------------------------------------------------------------------------------


def test_alpha_blend_matches_closed_form_and_keeps_target_outside_mask():
    src, tgt = smooth_image(1), smooth_image(2)
    mask = blob_mask()
    mask[mask < 0.05] = 0
    out = alpha_blend(src, tgt, mask)
    assert out.shape == tgt.shape and out.dtype == np.uint8
    a = mask.astype(np.float64)[:, :, None]
    closed = a * src + (1 - a) * tgt
    assert np.abs(out - closed).max() <= 0.5 + 1e-3
    outside = mask == 0
    assert outside.any() and np.array_equal(out[outside], tgt[outside])
    inside = mask == 1
    assert inside.any() and np.array_equal(out[inside], src[inside])


def test_poisson_blend_keeps_target_outside_and_reproduces_identical_images():
    src, tgt = smooth_image(3), smooth_image(4)
    mask = blob_mask(sigma=0) > 0.5
    out = poisson_blend(src, tgt, mask)
    assert out.shape == tgt.shape and out.dtype == np.uint8
    assert np.array_equal(out[~mask], tgt[~mask])
    assert not np.array_equal(out[mask], tgt[mask])
    same = poisson_blend(tgt, tgt, mask)  # gradients of the target itself: the target back
    assert np.abs(same.astype(int) - tgt).max() <= 2


def test_blend_rejects_mismatched_sizes_and_bad_arrays():
    src, tgt = smooth_image(1), smooth_image(2, shape=(48, 64))
    with pytest.raises(ImageError, match="sizes must match"):
        alpha_blend(src, tgt, np.zeros((48, 64)))
    with pytest.raises(ImageError, match="sizes must match"):
        alpha_blend(src, src, np.zeros((48, 64)))
    with pytest.raises(ImageError, match="uint8"):
        alpha_blend(src.astype(np.float32), src, np.zeros((64, 64)))
    with pytest.raises(ImageError, match=r"\[0, 1\]"):
        alpha_blend(src, src, np.full((64, 64), 2.0))
    with pytest.raises(ImageError, match="empty"):
        poisson_blend(src, src, np.zeros((64, 64)))


# --- colour -------------------------------------------------------------------------------------


def _lab_stats(image, region):
    lab = rgb2lab(image)[region]
    return lab.mean(axis=0), lab.std(axis=0)


def test_reinhard_transfer_matches_reference_lab_statistics():
    image = smooth_image(5, lo=60, hi=200)
    reference = (
        (smooth_image(6, shape=(80, 72), lo=90, hi=170).astype(np.int16) + [25, 0, -20]).clip(0, 255).astype(np.uint8)
    )
    region = blob_mask(sigma=0) > 0.5
    ref_region = np.zeros(reference.shape[:2], bool)
    ref_region[10:70, 8:60] = True
    out = reinhard_transfer(image, reference, region, ref_region)
    assert out.shape == image.shape and out.dtype == np.uint8
    mu_out, sd_out = _lab_stats(out, region)
    mu_ref, sd_ref = _lab_stats(reference, ref_region)
    mu_in, _ = _lab_stats(image, region)
    assert np.abs(mu_out - mu_ref).max() < 0.6  # rounding to uint8 only
    assert np.abs(sd_out - sd_ref).max() < 0.6
    assert np.abs(mu_in - mu_ref).max() > 5  # the statistics did move
    assert np.array_equal(out[~region], image[~region])


def test_reinhard_transfer_rejects_an_empty_region():
    img = smooth_image(1)
    with pytest.raises(ImageError, match="empty"):
        reinhard_transfer(img, img, np.zeros((64, 64), bool))


# --- alignment ----------------------------------------------------------------------------------


def _similarity(scale, degrees, tx, ty):
    c, s = scale * np.cos(np.radians(degrees)), scale * np.sin(np.radians(degrees))
    return np.array([[c, -s, tx], [s, c, ty]])


def test_similarity_transform_recovers_a_known_transform():
    known = _similarity(1.37, 12.0, -5.0, 8.5)
    src = LM64 * 1.5 + 3
    dst = transform_points(src, known)
    est = similarity_transform(src, dst)
    np.testing.assert_allclose(est, known, atol=1e-4)  # Levenberg-Marquardt stops near 1e-6
    np.testing.assert_allclose(transform_points(src, est), dst, atol=1e-4)


def test_similarity_transform_is_the_least_squares_fit_of_umeyama():
    rng = np.random.default_rng(0)
    src = LM64 + rng.normal(0, 0.5, LM64.shape)
    dst = transform_points(LM64, _similarity(0.8, -7.0, 10.0, 2.0)) + rng.normal(0, 1.0, LM64.shape)
    if hasattr(SimilarityTransform, "from_estimate"):  # scikit-image >= 0.26
        reference = SimilarityTransform.from_estimate(src, dst)
    else:
        reference = SimilarityTransform()
        reference.estimate(src, dst)
    assert reference
    np.testing.assert_allclose(similarity_transform(src, dst), reference.params[:2], atol=1e-4)


def test_align_face_maps_source_landmarks_onto_target_landmarks():
    target = smooth_image(7, shape=(64, 64))
    known = _similarity(1.6, 20.0, 12.0, -4.0)  # target -> source coordinates
    source = cv2.warpAffine(target, known, (140, 110), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)
    source_lm = transform_points(LM64, known)
    aligned, aligned_lm, matrix, coverage = align_face(source, source_lm, LM64, (64, 64))
    assert aligned.shape == (64, 64, 3) and aligned.dtype == np.uint8
    assert np.abs(aligned_lm - LM64).max() < 1e-4
    np.testing.assert_allclose(matrix, cv2.invertAffineTransform(known), atol=1e-4)
    inner = (slice(12, 52), slice(12, 52))
    assert np.abs(aligned[inner].astype(int) - target[inner]).mean() < 3
    assert coverage[inner].all()


# --- masks --------------------------------------------------------------------------------------


def test_hull_mask_equals_point_in_polygon_of_the_outline():
    from matplotlib.path import Path as PolyPath
    from scipy.spatial import ConvexHull

    pts = face_outline_points(LM64)
    hull = pts[ConvexHull(pts).vertices]
    ys, xs = np.mgrid[0:64, 0:64]
    inside = PolyPath(hull).contains_points(np.c_[xs.ravel(), ys.ravel()]).reshape(64, 64)
    mask = face_hull_mask((64, 64), LM64).astype(bool)
    disagree = mask != inside
    boundary = ndimage.binary_dilation(inside) & ~ndimage.binary_erosion(inside)
    assert not (disagree & ~boundary).any()  # only pixels on the outline may differ
    assert mask[np.rint(LM64[:, 1]).astype(int), np.rint(LM64[:, 0]).astype(int)].all()


def test_ellipse_mask_covers_the_landmarks_and_is_an_ellipse():
    mask = face_ellipse_mask((64, 64), LM64)
    assert mask[np.rint(LM64[:, 1]).astype(int), np.rint(LM64[:, 0]).astype(int)].all()
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    assert len(contours) == 1
    (_, _), (w, h), _ = cv2.fitEllipse(contours[0])
    area = np.pi * w * h / 4
    assert abs(mask.sum() - area) / area < 0.08


def test_soften_is_a_gaussian_blur_and_stays_zero_far_away():
    mask = face_hull_mask((64, 64), LM64)
    soft = soften(mask, 2.0)
    expected = ndimage.gaussian_filter(mask.astype(np.float64), 2.0, mode="constant", truncate=4.0)
    assert np.abs(soft - expected).max() < 2e-3
    far = ndimage.distance_transform_cdt(mask == 0, metric="chessboard") > 4 * 2.0
    assert far.any() and (soft[far] == 0).all()


def test_elastic_deform_moves_the_outline_by_at_most_the_amplitude():
    mask = face_ellipse_mask((64, 64), LM64)
    moved = elastic_deform(mask, np.random.default_rng(0), amplitude=3.0, smoothness=5.0)
    assert set(np.unique(moved)) <= {0, 1} and not np.array_equal(moved, mask)
    dist_out = ndimage.distance_transform_edt(mask == 0)  # distance to the mask
    dist_in = ndimage.distance_transform_edt(mask == 1)  # distance to the background
    assert dist_out[moved == 1].max() <= 3.0 + 1.0
    assert dist_in[moved == 0].max() <= 3.0 + 1.0
    still = elastic_deform(mask, np.random.default_rng(0), amplitude=0.0, smoothness=5.0)
    assert np.array_equal(still, mask)


@pytest.mark.parametrize("radius", [1, 3])
def test_erode_or_dilate_matches_distance_bounds(radius):
    mask = face_hull_mask((64, 64), LM64)
    grown = erode_or_dilate(mask, radius, dilate=True)
    shrunk = erode_or_dilate(mask, radius, dilate=False)
    assert (grown >= mask).all() and (shrunk <= mask).all()
    assert ndimage.distance_transform_edt(mask == 0)[grown == 1].max() <= radius + 0.5
    assert ndimage.distance_transform_edt(mask == 1)[(mask == 1) & (shrunk == 0)].max() <= radius + 0.5


def test_random_face_mask_is_soft_seeded_and_covers_the_face():
    a = random_face_mask((64, 64), LM64, np.random.default_rng(3))
    b = random_face_mask((64, 64), LM64, np.random.default_rng(3))
    assert a.dtype == np.float32 and a.shape == (64, 64)
    assert np.array_equal(a, b) and 0 <= a.min() and a.max() <= 1
    assert a[int(LM64[2, 1]), int(LM64[2, 0])] > 0.5  # the nose is inside
    assert (a == 0).any() and ((a > 0) & (a < 1)).any()


# --- face swap and self-blending ----------------------------------------------------------------


def test_face_swap_changes_only_masked_pixels_and_is_seeded():
    target = smooth_image(10)
    source = smooth_image(11, shape=(96, 80))
    source_lm = transform_points(LM64, _similarity(1.2, -5.0, 4.0, 6.0))
    fake, mask = face_swap(target, LM64, source, source_lm, np.random.default_rng(5))
    assert fake.shape == target.shape and fake.dtype == np.uint8
    assert mask.shape == (64, 64) and mask.dtype == np.float32
    changed = np.any(fake != target, axis=2)
    assert changed.any() and not (changed & (mask == 0)).any()
    again, mask2 = face_swap(target, LM64, source, source_lm, np.random.default_rng(5))
    assert np.array_equal(again, fake) and np.array_equal(mask2, mask)
    other, _ = face_swap(target, LM64, source, source_lm, np.random.default_rng(6))
    assert not np.array_equal(other, fake)


def test_face_swap_with_poisson_blending_keeps_the_outside():
    target, source = smooth_image(12), smooth_image(13)
    fake, mask = face_swap(target, LM64, source, LM64, np.random.default_rng(0), poisson=True)
    assert set(np.unique(mask)) <= {0.0, 1.0}
    outside = mask == 0
    assert np.array_equal(fake[outside], target[outside])


@pytest.mark.parametrize(
    "landmarks, message",
    [
        (np.where(np.arange(10).reshape(5, 2) == 3, np.nan, LM64), "NaN"),
        (LM64 + [0, 40], "outside"),
        (LM64[:4], r"shape \(5, 2\)"),
        (np.tile(LM64[:1], (5, 1)), "degenerate"),
    ],
)
def test_bad_landmarks_raise_image_error(landmarks, message):
    img = smooth_image(1)
    with pytest.raises(ImageError, match=message):
        face_swap(img, landmarks, img, LM64, np.random.default_rng(0))
    with pytest.raises(ImageError, match=message):
        self_blend(img, landmarks, np.random.default_rng(0))


def test_bad_images_raise_image_error():
    img = smooth_image(1)
    with pytest.raises(ImageError, match=r"\(H, W, 3\)"):
        self_blend(img[:, :, 0], LM64, np.random.default_rng(0))
    with pytest.raises(ImageError, match="uint8"):
        face_swap(img, LM64, img.astype(np.float64), LM64, np.random.default_rng(0))


def test_self_blend_changes_only_masked_pixels_and_is_seeded():
    img = smooth_image(20)
    for seed in range(5):
        fake, mask = self_blend(img, LM64, np.random.default_rng(seed))
        assert fake.shape == img.shape and fake.dtype == np.uint8 and mask.dtype == np.float32
        changed = np.any(fake != img, axis=2)
        assert changed.any() and not (changed & (mask == 0)).any()
        again, mask2 = self_blend(img, LM64, np.random.default_rng(seed))
        assert np.array_equal(again, fake) and np.array_equal(mask, mask2)


def test_self_blend_augment_labels_and_probability():
    img = smooth_image(21)
    keep = SelfBlendAugment(p=0.0)
    out, label, mask = keep(img, LM64, np.random.default_rng(0))
    assert label == 1 and out is img and not mask.any()
    always = SelfBlendAugment(p=1.0)
    out, label, mask = always(img, LM64, np.random.default_rng(0))
    assert label == 0 and mask.any() and not np.array_equal(out, img)
    small, small_lm = img[:32, :32].copy(), LM64 / 2
    half = SelfBlendAugment(p=0.5, seed=1)
    labels = [half(small, small_lm)[1] for _ in range(200)]
    assert 70 <= labels.count(0) <= 130  # Binomial(200, 0.5): outside this range with p < 1e-4
    twin_a, twin_b = SelfBlendAugment(p=0.5, seed=4), SelfBlendAugment(p=0.5, seed=4)
    assert [twin_a(small, small_lm)[1] for _ in range(20)] == [twin_b(small, small_lm)[1] for _ in range(20)]
    with pytest.raises(ValueError, match="p must lie"):
        SelfBlendAugment(p=1.5)


def test_self_blend_augment_reseeds_in_each_dataloader_worker_and_epoch(monkeypatch):
    from types import SimpleNamespace

    torch = pytest.importorskip("torch")
    small, small_lm = smooth_image(22)[:32, :32].copy(), LM64 / 2

    def labels_in(worker_seed):
        info = SimpleNamespace(id=0, seed=worker_seed)
        monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: info)
        aug = SelfBlendAugment(p=0.5, seed=7)
        return [aug(small, small_lm)[1] for _ in range(40)]

    assert labels_in(123) == labels_in(123)
    assert labels_in(123) != labels_in(124)  # another worker, or the next epoch


# --- jitter -------------------------------------------------------------------------------------


def test_jitters_keep_shape_and_dtype_and_identity_similarity():
    img = smooth_image(30)
    rng = np.random.default_rng(0)
    for out in (jitter_colors(img, rng), downscale(img, 2.0), sharpen(img, 0.3)):
        assert out.shape == img.shape and out.dtype == np.uint8
    same = random_similarity((64, 64), rng, translate=(0, 0), scale=(1, 1))
    np.testing.assert_allclose(same, [[1, 0, 0], [0, 1, 0]], atol=1e-12)
    # downscaling removes high frequencies: the Laplacian energy drops
    lap = lambda x: np.abs(cv2.Laplacian(x.astype(np.float32), cv2.CV_32F)).mean()  # noqa: E731
    noisy = (np.random.default_rng(1).random((64, 64, 3)) * 255).astype(np.uint8)
    assert lap(downscale(noisy, 3.0)) < 0.5 * lap(noisy) < lap(sharpen(noisy, 0.5))
