"""Pasting a source image into a target image through a mask: alpha and Poisson blending."""

from __future__ import annotations

import cv2
import numpy as np

from acglab.errors import ImageError
from acglab.synth.inputs import as_mask, as_rgb_image, same_size


def alpha_blend(source, target, mask) -> np.ndarray:
    """Alpha blend ``round(m · source + (1 - m) · target)`` per pixel and channel.

    Parameters
    ----------
    source, target : uint8 ``(H, W, 3)`` RGB of the same size.
    mask : ``(H, W)`` (or ``(H, W, 1)``) in [0, 1]; ``m = 0`` keeps the target exactly,
        ``m = 1`` takes the source exactly.

    Returns
    -------
    uint8 ``(H, W, 3)``. Raises :class:`ImageError` for bad arrays or mismatched sizes.
    """
    source = as_rgb_image(source, "source")
    target = as_rgb_image(target, "target")
    same_size(source, target)
    m = as_mask(mask, target.shape)[:, :, None]
    mixed = m * source.astype(np.float32) + (1.0 - m) * target.astype(np.float32)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def poisson_blend(source, target, mask) -> np.ndarray:
    """Poisson (gradient-domain) blend of ``source`` into ``target`` inside ``mask > 0``.

    Solves ``Δf = Δ source`` inside the region with ``f = target`` on its border (Pérez et al.,
    "Poisson image editing", SIGGRAPH 2003) through :func:`cv2.seamlessClone` (``NORMAL_CLONE``),
    in place. Pixels outside the region are the target's exactly.

    Parameters
    ----------
    source, target : uint8 ``(H, W, 3)`` RGB of the same size; mask : ``(H, W)`` in [0, 1].

    Raises :class:`ImageError` for bad arrays, mismatched sizes or an empty mask.
    """
    source = as_rgb_image(source, "source")
    target = as_rgb_image(target, "target")
    same_size(source, target)
    region = as_mask(mask, target.shape) > 0
    if not region.any():
        raise ImageError("blend mask is empty; nothing to paste")
    pad = 2  # seamlessClone needs the region away from the image border
    src = cv2.copyMakeBorder(source, pad, pad, pad, pad, cv2.BORDER_REFLECT101)
    dst = cv2.copyMakeBorder(target, pad, pad, pad, pad, cv2.BORDER_REFLECT101)
    m = np.pad(region.astype(np.uint8) * 255, pad)
    x, y, w, h = cv2.boundingRect(m)
    cloned = cv2.seamlessClone(src, dst, m, (x + w // 2, y + h // 2), cv2.NORMAL_CLONE)
    out = cloned[pad:-pad, pad:-pad]
    out[~region] = target[~region]
    return np.ascontiguousarray(out)
