"""Laplacian-variance sharpness against scipy.ndimage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from acglab.metrics.sharpness import laplacian_variance, luma


def test_laplacian_variance_matches_scipy_on_the_interior():
    rng = np.random.default_rng(0)
    images = rng.random((4, 3, 20, 17))
    grey = 0.299 * images[:, 0] + 0.587 * images[:, 1] + 0.114 * images[:, 2]
    assert np.allclose(luma(images), grey)
    expected = [ndimage.laplace(g)[1:-1, 1:-1].var() for g in grey]
    assert np.allclose(laplacian_variance(images), expected)
    assert np.allclose(laplacian_variance(grey[:, None]), expected)


def test_blurring_lowers_the_sharpness_and_a_flat_image_has_none():
    rng = np.random.default_rng(1)
    image = rng.random((1, 32, 32))
    blurred = ndimage.gaussian_filter(image[0], 1.5)[None]
    assert laplacian_variance(blurred)[0] < 0.1 * laplacian_variance(image)[0]
    assert laplacian_variance(np.full((2, 8, 8), 0.3)) == pytest.approx([0.0, 0.0])
    with pytest.raises(ValueError, match="3 x 3"):
        laplacian_variance(np.zeros((1, 2, 5)))
