r"""Sharpness of decoded images: the variance of the Laplacian (Pech-Pacheco et al., ICPR 2000).

A blurred image has little energy at high spatial frequencies, so its discrete Laplacian
:math:`\Delta I(u, v) = I(u{+}1, v) + I(u{-}1, v) + I(u, v{+}1) + I(u, v{-}1) - 4 I(u, v)` is
small everywhere and its variance over the image is low. Computed on the luma
:math:`Y = 0.299 R + 0.587 G + 0.114 B` of images in [0, 1], over the interior pixels only (no
padding at the border).
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])


def luma(images) -> np.ndarray:
    """(N, H, W) grey images from (N, 3, H, W) colour or (N, 1, H, W) / (N, H, W) grey images."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4 and x.shape[1] == 3:
        return np.tensordot(x, LUMA, axes=([1], [0]))
    if x.ndim == 4 and x.shape[1] == 1:
        return x[:, 0]
    if x.ndim == 3:
        return x
    raise ValueError(f"images must be (N, 3, H, W), (N, 1, H, W) or (N, H, W), got shape {x.shape}")


def laplacian_variance(images) -> np.ndarray:
    """(N,) variance of the 4-neighbour Laplacian of each image's luma (module notes)."""
    y = luma(images)
    if y.shape[1] < 3 or y.shape[2] < 3:
        raise ValueError(f"images need at least 3 x 3 pixels, got {y.shape[1:]}")
    lap = y[:, 2:, 1:-1] + y[:, :-2, 1:-1] + y[:, 1:-1, 2:] + y[:, 1:-1, :-2] - 4 * y[:, 1:-1, 1:-1]
    return lap.reshape(len(y), -1).var(axis=1)
