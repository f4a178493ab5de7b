"""A face swap built from landmarks: the target's scene and head with the source's face."""

from __future__ import annotations

import numpy as np

from acglab.errors import ImageError
from acglab.faces.parts import as_points68, part_points
from acglab.synth.align import align_face, similarity_transform, warp_coverage, warp_image
from acglab.synth.blend import alpha_blend, poisson_blend
from acglab.synth.color import reinhard_transfer
from acglab.synth.inputs import as_landmarks, as_rgb_image
from acglab.synth.masks import erode_or_dilate, random_face_mask, random_part_mask


def face_swap(
    target_image,
    target_landmarks,
    source_image,
    source_landmarks,
    rng: np.random.Generator,
    *,
    color_transfer: bool = True,
    poisson: bool = False,
    mask_kind: str | None = None,
    part: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Paste the source's face (or one part of it) into the target image.

    1. align: warp the source by the similarity that maps its landmarks onto the target's
       (:func:`~acglab.synth.align.align_face`; with ``part``, the part's own landmarks,
       :func:`~acglab.faces.parts.part_points`);
    2. mask: a randomised soft face mask on the target's landmarks
       (:func:`~acglab.synth.masks.random_face_mask`; with 68 landmarks SBI's hull of all 68
       points), or with ``part`` the randomised mask of that part
       (:func:`~acglab.synth.masks.random_part_mask`), cut to where the warped source has pixels;
    3. colour: Reinhard transfer of the aligned face to the target's colours inside the mask
       (:func:`~acglab.synth.color.reinhard_transfer`), unless ``color_transfer=False``;
    4. blend: ``m·face + (1 - m)·target`` (:func:`~acglab.synth.blend.alpha_blend`), or with
       ``poisson=True`` Poisson blending (:func:`~acglab.synth.blend.poisson_blend`) inside the
       region ``m >= 0.5`` (the returned mask is then that binary region).

    Parameters
    ----------
    target_image : uint8 ``(H, W, 3)`` RGB; target_landmarks : ``(5, 2)`` or ``(68, 2)`` in it.
    source_image : uint8 ``(H', W', 3)`` RGB (any size); source_landmarks : as many points, in it.
    rng : the random generator that fixes the mask.
    part : a name of :data:`acglab.faces.parts.PARTS` (68 landmarks only): swap that part alone.

    Returns
    -------
    fake : uint8 ``(H, W, 3)``, equal to the target wherever ``mask == 0``.
    mask : float32 ``(H, W)`` in [0, 1], the blending weight of the source.

    Raises :class:`ImageError` for bad images or landmarks (NaN, outside the image, wrong shape,
    5 against 68 points), ``PartError`` for an unknown part or a part with five landmarks.
    """
    target = as_rgb_image(target_image, "target image")
    tgt_lm = as_landmarks(target_landmarks, target.shape, "target landmarks", allow68=True)
    source = as_rgb_image(source_image, "source image")
    src_lm = as_landmarks(source_landmarks, source.shape, "source landmarks", allow68=True)
    if len(src_lm) != len(tgt_lm):
        raise ImageError(f"source and target need the same landmarks, got {len(src_lm)} and {len(tgt_lm)} points")
    size = target.shape[:2]
    if part is None:
        aligned, _, _, coverage = align_face(source, src_lm, tgt_lm, size)
        mask = random_face_mask(target.shape, tgt_lm, rng, kind=mask_kind)
    else:
        if mask_kind is not None:
            raise ValueError("mask_kind applies to the whole face; a part has its own mask")
        matrix = similarity_transform(part_points(as_points68(src_lm), part), part_points(as_points68(tgt_lm), part))
        aligned, coverage = warp_image(source, matrix, size), warp_coverage(source.shape, matrix, size)
        mask = random_part_mask(target.shape, tgt_lm, part, rng)
    mask = mask * erode_or_dilate(coverage, 1, dilate=False).astype(np.float32)
    if not (mask > 0).any():
        raise ImageError("the aligned source face does not cover the target face; check the landmarks")
    if poisson:
        mask = (mask >= 0.5).astype(np.float32)
        if not mask.any():
            raise ImageError("the face mask is too thin for Poisson blending; use alpha blending")
    if color_transfer:
        aligned = reinhard_transfer(aligned, target, mask > 0)
    fake = poisson_blend(aligned, target, mask) if poisson else alpha_blend(aligned, target, mask)
    return fake, mask
