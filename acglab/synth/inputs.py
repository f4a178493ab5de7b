"""Checks of the arrays the synthesizer accepts: RGB images, 5- or 68-point landmarks, masks.

Every function of :mod:`acglab.synth` validates its inputs here, so bad input fails early with
one :class:`~acglab.errors.ImageError` line saying what is wrong (wrong shape or dtype, NaN or
out-of-image landmarks, images of different sizes), never deep inside OpenCV.
"""

from __future__ import annotations

import numpy as np

from acglab.errors import ImageError
from acglab.faces.landmarks68 import five_from_68

#: order of the five landmarks (as given by MTCNN): image-left eye, image-right eye, nose tip,
#: image-left mouth corner, image-right mouth corner
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


def as_rgb_image(image, name: str = "image") -> np.ndarray:
    """``image`` as a ``(H, W, 3)`` uint8 array; raises :class:`ImageError` otherwise."""
    if not isinstance(image, np.ndarray):
        raise ImageError(f"{name} must be a numpy array of shape (H, W, 3), got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 2 or image.shape[1] < 2:
        raise ImageError(f"{name} must have shape (H, W, 3) with H, W >= 2, got {image.shape}")
    if image.dtype != np.uint8:
        raise ImageError(f"{name} must be uint8 RGB (0..255), got dtype {image.dtype}")
    return image


def as_landmarks(landmarks, shape: tuple[int, ...], name: str = "landmarks", *, allow68: bool = False) -> np.ndarray:
    """``landmarks`` as a finite ``(5, 2)`` float64 array of ``(x, y)`` pixel positions inside
    an image of ``shape`` (``-0.5 <= x <= W - 0.5``, same for ``y``).

    With ``allow68`` a ``(68, 2)`` array of dlib's 68 points (:mod:`acglab.faces.landmarks68`)
    is accepted too and returned as ``(68, 2)``; its eyes are those of :func:`five_points`.

    Raises :class:`ImageError` for a wrong shape, NaN/inf, a point outside the image, or
    coincident eyes (no face scale).
    """
    try:
        pts = np.asarray(landmarks, dtype=np.float64)
    except (TypeError, ValueError):
        raise ImageError(f"{name} must be a (5, 2) array of (x, y) positions") from None
    if pts.shape != (5, 2) and not (allow68 and pts.shape == (68, 2)):
        also = " or (68, 2) (dlib's 68 points)" if allow68 else ""
        raise ImageError(f"{name} must have shape (5, 2) (eyes, nose, mouth corners){also}, got {pts.shape}")
    if not np.isfinite(pts).all():
        raise ImageError(f"{name} hold NaN or infinite values; detect the face again")
    h, w = shape[:2]
    inside = (pts[:, 0] >= -0.5) & (pts[:, 0] <= w - 0.5) & (pts[:, 1] >= -0.5) & (pts[:, 1] <= h - 0.5)
    if not inside.all():
        first = int(np.argmin(inside))
        bad = LANDMARK_NAMES[first] if len(pts) == 5 else f"point {first} of 68"
        raise ImageError(f"{name}: {bad} lies outside the {w}x{h} image; landmarks belong to another image?")
    five = five_points(pts)
    if np.linalg.norm(five[1] - five[0]) < 1e-6:
        raise ImageError(f"{name}: both eyes are at the same point; the landmarks are degenerate")
    return pts


def five_points(landmarks) -> np.ndarray:
    """The five landmarks (order :data:`LANDMARK_NAMES`) of a ``(5, 2)`` or ``(68, 2)`` array,
    ``(5, 2)`` float64: five points unchanged, 68 reduced by
    :func:`~acglab.faces.landmarks68.five_from_68` (eye centres, nose tip, mouth corners)."""
    pts = np.asarray(landmarks, dtype=np.float64)
    return five_from_68(pts).astype(np.float64) if pts.shape == (68, 2) else pts


def as_mask(mask, shape: tuple[int, ...], name: str = "mask") -> np.ndarray:
    """``mask`` as a ``(H, W)`` float32 array in ``[0, 1]`` matching an image of ``shape``.

    Accepts bool, integer 0/1 or float masks, and ``(H, W, 1)``. Raises :class:`ImageError` for
    another size or values outside ``[0, 1]``.
    """
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[2] == 1:
        m = m[:, :, 0]
    if m.shape != tuple(shape[:2]):
        raise ImageError(f"{name} has shape {m.shape} but the image is {tuple(shape[:2])}; sizes must match")
    m = m.astype(np.float32)
    if not np.isfinite(m).all() or m.min() < 0 or m.max() > 1:
        raise ImageError(f"{name} values must lie in [0, 1]")
    return m


def same_size(a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("source", "target")) -> None:
    """Raise :class:`ImageError` unless the two images have the same height and width."""
    if a.shape[:2] != b.shape[:2]:
        raise ImageError(
            f"{names[0]} is {a.shape[1]}x{a.shape[0]} but {names[1]} is {b.shape[1]}x{b.shape[0]}; sizes must match"
        )
