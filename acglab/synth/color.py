"""Colour correction of a pasted face: Reinhard statistics transfer in CIE L*a*b*.

A face taken from another image has another skin tone and lighting; blending it unchanged
leaves an obvious colour seam. Reinhard et al. ("Color transfer between images", IEEE CG&A
2001) match the per-channel mean and standard deviation in a decorrelated colour space; we use
CIE L*a*b* (D65, sRGB), as OpenCV and scikit-image compute it (L in [0, 100]).
"""

from __future__ import annotations

import cv2
import numpy as np

from acglab.errors import ImageError
from acglab.synth.inputs import as_mask, as_rgb_image


def rgb_to_lab(image: np.ndarray) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)`` -> float32 L*a*b* ``(H, W, 3)`` (L in [0, 100])."""
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """float32 L*a*b* ``(H, W, 3)`` -> uint8 RGB, clipped to the sRGB gamut and rounded."""
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def masked_mean_std(values: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and (population) standard deviation of ``values[region]``.

    ``values``: ``(H, W, C)``; ``region``: boolean ``(H, W)``. Returns two ``(C,)`` float64 arrays.
    """
    picked = values[region].astype(np.float64)
    return picked.mean(axis=0), picked.std(axis=0)


def reinhard_transfer(image, reference, mask, reference_mask=None, *, min_std: float = 1e-3) -> np.ndarray:
    """Recolour ``image`` inside ``mask`` so its L*a*b* statistics match ``reference``'s.

    For each channel ``c`` of ``I = Lab(image)`` and ``R = Lab(reference)``, with ``μ, σ`` the mean
    and standard deviation over the region ``mask > 0`` of ``image`` (respectively
    ``reference_mask > 0`` of ``reference``; the same mask when not given):

    ``I'_c = (I_c - μ_I,c) · σ_R,c / σ_I,c + μ_R,c``

    applied to the pixels inside the region; pixels outside it are returned unchanged. A channel
    with ``σ_I,c < min_std`` (no variation, e.g. a grey image's a*, b*) is only shifted.
    The result is converted back to uint8 RGB, so the statistics match up to gamut clipping and
    rounding.

    Parameters
    ----------
    image, reference : uint8 ``(H, W, 3)`` and ``(H', W', 3)`` RGB.
    mask : ``(H, W)`` bool or float in [0, 1]; reference_mask : ``(H', W')``, defaults to ``mask``
        (then the two images must have the same size).

    Raises :class:`ImageError` for bad arrays or an empty region.
    """
    image = as_rgb_image(image, "image")
    reference = as_rgb_image(reference, "reference")
    region = as_mask(mask, image.shape) > 0
    ref_region = region if reference_mask is None else as_mask(reference_mask, reference.shape, "reference_mask") > 0
    if ref_region.shape != reference.shape[:2]:
        raise ImageError("reference has another size than mask; give reference_mask")
    if not region.any() or not ref_region.any():
        raise ImageError("colour transfer region is empty; the mask holds no pixel > 0")
    lab, ref_lab = rgb_to_lab(image), rgb_to_lab(reference)
    mu_i, sd_i = masked_mean_std(lab, region)
    mu_r, sd_r = masked_mean_std(ref_lab, ref_region)
    gain = np.where(sd_i >= min_std, sd_r / np.maximum(sd_i, min_std), 1.0)
    moved = (lab[region].astype(np.float64) - mu_i) * gain + mu_r
    out_lab = lab.copy()
    out_lab[region] = moved.astype(np.float32)
    out = lab_to_rgb(out_lab)
    out[~region] = image[~region]
    return out
