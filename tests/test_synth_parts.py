"""The synthesizer on 68-point face parts: part masks, local self-blends, 68-point and part swaps.

Every check is against a region computed independently: the part's binary region from
:mod:`acglab.faces.parts` grown by the largest reach the randomisation allows (deformation,
dilation, blur cut at 4 sigma, the self-blend's random similarity).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage
from synthetic_faces import smooth_image, synthetic68

from acglab.errors import AcglabError, ImageError
from acglab.faces.parts import PartError, part_mask
from acglab.synth import SelfBlendAugment, face_swap, self_blend
from acglab.synth.masks import part_scale, random_part_mask
from acglab.train.presets import preset


def reach_mask(shape, pts, part, extra: float = 0.0) -> np.ndarray:
    """Pixels a randomised mask of ``part`` may touch: deformation 0.08 s, dilation 0.12 s, the
    blur kernel cut at 4·0.12 s per axis (so up to √2 times that in Euclidean distance), plus
    ``extra`` pixels and two of rounding."""
    base = part_mask(shape, pts, part).astype(bool)
    s = part_scale(base.astype(np.uint8), pts, part)
    return ndimage.distance_transform_edt(~base) <= (0.08 + 0.12 + 4 * 0.12 * np.sqrt(2)) * s + extra + 2


@pytest.mark.parametrize("part", ["mouth", "left_eye", "nose", "face"])
def test_random_part_mask_stays_near_its_part_and_covers_its_centre(part):
    img, pts = smooth_image(4), synthetic68()
    base = part_mask(img.shape, pts, part).astype(bool)
    reach = reach_mask(img.shape, pts, part)
    cy, cx = np.round(ndimage.center_of_mass(base)).astype(int)
    masks = [random_part_mask(img.shape, pts, part, np.random.default_rng(seed)) for seed in range(6)]
    for m in masks:
        assert m.dtype == np.float32 and m.shape == img.shape[:2] and 0 <= m.min() and m.max() <= 1
        assert (m[~reach] == 0).all() and m[cy, cx] > 0.5
    assert not np.array_equal(masks[0], masks[1])
    assert np.array_equal(masks[2], random_part_mask(img.shape, pts, part, np.random.default_rng(2)))
    # a part's randomisation scales with the part: an eye's mask stays far smaller than the face's
    if part == "left_eye":
        face = random_part_mask(img.shape, pts, "face", np.random.default_rng(0))
        assert (m > 0).sum() < 0.2 * (face > 0).sum()


def test_local_self_blend_changes_only_the_part():
    img, pts = smooth_image(5), synthetic68()
    h, w = img.shape[:2]
    # the self-blend moves its mask by its random similarity: scale 0.95..1/0.95 about the image
    # centre and a shift of up to 3 % / 1.5 % of the image
    region = np.argwhere(part_mask(img.shape, pts, "mouth"))[:, ::-1]
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    move = (1 / 0.95 - 1) * np.linalg.norm(region - centre, axis=1).max() + np.hypot(0.03 * w, 0.015 * h)
    reach = reach_mask(img.shape, pts, "mouth", extra=move)
    eyes = part_mask(img.shape, pts, "eyes").astype(bool)
    for seed in range(6):
        fake, mask = self_blend(img, pts, np.random.default_rng(seed), parts="mouth")
        changed = np.any(fake != img, axis=2)
        assert changed.any() and not changed[~reach].any() and not changed[eyes].any()
        assert (mask[~reach] == 0).all()
        again, _ = self_blend(img, pts, np.random.default_rng(seed), parts="mouth")
        assert np.array_equal(again, fake)
    # a sequence draws one part per call: both parts occur over a few seeds
    drawn = set()
    for seed in range(12):
        _, mask = self_blend(img, pts, np.random.default_rng(seed), parts=("mouth", "eyes"))
        drawn.add("eyes" if (mask[eyes] > 0).any() else "mouth")
    assert drawn == {"mouth", "eyes"}
    with pytest.raises(PartError, match="68"):
        self_blend(img, pts[[39, 42, 30, 48, 54]], np.random.default_rng(0), parts="mouth")
    with pytest.raises(PartError, match="choose one of"):
        self_blend(img, pts, np.random.default_rng(0), parts="ear")


def test_augmentation_makes_local_fakes_at_its_rate():
    img, pts = smooth_image(6), synthetic68()
    far = ~reach_mask(img.shape, pts, "mouth", extra=12)
    aug = SelfBlendAugment(p=1.0, seed=0, parts=("mouth",), local_p=0.5)
    local = [not (aug(img, pts)[2][far] > 0).any() for _ in range(40)]
    assert 10 <= sum(local) <= 30  # Binomial(40, 1/2): outside [10, 30] with probability < 2e-3
    every = SelfBlendAugment(p=1.0, seed=0, parts="mouth", local_p=1.0)
    assert all(not (every(img, pts)[2][far] > 0).any() for _ in range(5))
    five = pts[[39, 42, 30, 48, 54]]
    _, label, mask = every(img, five)  # five landmarks: whole-face self-blends only
    assert label == 0 and (mask[far] > 0).any()
    with pytest.raises(PartError):
        SelfBlendAugment(parts=("ear",))
    with pytest.raises(ValueError, match="local_p"):
        SelfBlendAugment(local_p=2)


def test_face_swap_with_68_points_and_with_one_part():
    target, source = smooth_image(7), smooth_image(8, shape=(230, 210))
    t_pts = synthetic68()
    s_pts = synthetic68(cx=100.0, cy=110.0) * 1.05
    fake, mask = face_swap(target, t_pts, source, s_pts, np.random.default_rng(0))
    assert np.array_equal(fake[mask == 0], target[mask == 0]) and mask[int(t_pts[30, 1]), int(t_pts[30, 0])] > 0.5
    fake, mask = face_swap(target, t_pts, source, s_pts, np.random.default_rng(1), part="mouth")
    reach = reach_mask(target.shape, t_pts, "mouth")
    changed = np.any(fake != target, axis=2)
    assert changed.any() and not changed[~reach].any() and (mask[~reach] == 0).all()
    # aligned by the mouth's own points: the source was the target's face scaled by 1.05 and
    # moved, so the exact map is x -> x / 1.05 + t; without colour transfer the fake is
    # m·(source warped by it) + (1 - m)·target
    plain, mask = face_swap(target, t_pts, source, s_pts, np.random.default_rng(1), part="mouth", color_transfer=False)
    t = t_pts[48] - s_pts[48] / 1.05
    exact = cv2.warpAffine(
        source, np.array([[1 / 1.05, 0, t[0]], [0, 1 / 1.05, t[1]]]), target.shape[1::-1], flags=cv2.INTER_LINEAR
    )
    expected = mask[..., None] * exact + (1 - mask[..., None]) * target
    assert (mask > 0.5).sum() > 50 and np.abs(plain - expected).max() <= 2  # bilinear fixed point and rounding
    with pytest.raises(ImageError, match="same landmarks"):
        face_swap(target, t_pts, source, s_pts[[39, 42, 30, 48, 54]], np.random.default_rng(0))
    with pytest.raises(PartError, match="68"):
        face_swap(
            target,
            t_pts[[39, 42, 30, 48, 54]],
            source,
            s_pts[[39, 42, 30, 48, 54]],
            np.random.default_rng(0),
            part="mouth",
        )


def test_training_config_checks_local_self_blends():
    assert preset("quick", landmark_points=68, synth_parts=("eyes", "mouth")).synth_parts == ("eyes", "mouth")
    with pytest.raises(AcglabError, match="68 landmarks"):
        preset("quick", synth_parts=("mouth",))
    with pytest.raises(AcglabError, match="unknown face parts ear"):
        preset("quick", landmark_points=68, synth_parts=("ear",))
