"""Aligning one face onto another by a similarity transform estimated from landmarks."""

from __future__ import annotations

import cv2
import numpy as np

from acglab.errors import ImageError
from acglab.synth.inputs import as_landmarks, as_rgb_image


def similarity_transform(src_points, dst_points) -> np.ndarray:
    """The similarity ``x -> s·R(θ)·x + t`` that best maps ``src_points`` onto ``dst_points``.

    Least squares over all points, ``min_{s,θ,t} Σ_i |s R(θ) p_i + t - q_i|²``, estimated with
    :func:`cv2.estimateAffinePartial2D` (RANSAC with a threshold large enough to keep every
    point, then Levenberg-Marquardt refinement). Shapes: ``(N, 2), (N, 2) -> (2, 3)`` float64,
    ``N >= 2``. Raises :class:`ImageError` for degenerate points.
    """
    src = np.asarray(src_points, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst_points, dtype=np.float64).reshape(-1, 2)
    if src.shape != dst.shape or len(src) < 2:
        raise ImageError(f"need two matching point sets of at least 2 points, got {src.shape} and {dst.shape}")
    spread = float(np.ptp(np.vstack([src, dst]), axis=0).max()) + 1.0
    matrix, _ = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=100.0 * spread,
        maxIters=2000,
        confidence=0.999,
        refineIters=50,
    )
    if matrix is None or not np.isfinite(matrix).all():
        raise ImageError("cannot align the faces: their landmarks are degenerate")
    return matrix.astype(np.float64)


def transform_points(points, matrix) -> np.ndarray:
    """Apply a ``(2, 3)`` affine matrix to ``(N, 2)`` points: ``A·p + b``."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    m = np.asarray(matrix, dtype=np.float64)
    return pts @ m[:, :2].T + m[:, 2]


def warp_image(
    image: np.ndarray, matrix, size: tuple[int, int], *, interpolation: int = cv2.INTER_LINEAR
) -> np.ndarray:
    """Resample ``image`` so that output pixel ``x`` shows input ``matrix⁻¹ x``; ``size = (H, W)``.

    Uses :func:`cv2.warpAffine` with mirrored borders. Shape ``(h, w[, C]) -> (H, W[, C])``.
    """
    h, w = size
    return cv2.warpAffine(
        image, np.asarray(matrix, np.float64), (w, h), flags=interpolation, borderMode=cv2.BORDER_REFLECT101
    )


def warp_coverage(source_shape: tuple[int, ...], matrix, size: tuple[int, int]) -> np.ndarray:
    """Binary ``(H, W)`` uint8 mask of the output pixels that :func:`warp_image` takes from
    inside the source image (not from its mirrored border)."""
    ones = np.ones(source_shape[:2], np.uint8)
    h, w = size
    return cv2.warpAffine(
        ones,
        np.asarray(matrix, np.float64),
        (w, h),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def align_face(source_image, source_landmarks, target_landmarks, size: tuple[int, int]):
    """Warp ``source_image`` so its landmarks land on ``target_landmarks``.

    Landmarks are ``(5, 2)`` or ``(68, 2)`` (the same number in both; least squares over all).
    Returns ``(aligned (H, W, 3) uint8, aligned landmarks (K, 2), matrix (2, 3), coverage (H, W))``
    with ``size = (H, W)`` the target's size; ``coverage`` is :func:`warp_coverage`.
    """
    source_image = as_rgb_image(source_image, "source image")
    src_lm = as_landmarks(source_landmarks, source_image.shape, "source landmarks", allow68=True)
    dst_lm = as_landmarks(target_landmarks, size, "target landmarks", allow68=True)
    matrix = similarity_transform(src_lm, dst_lm)
    aligned = warp_image(source_image, matrix, size)
    return aligned, transform_points(src_lm, matrix), matrix, warp_coverage(source_image.shape, matrix, size)
