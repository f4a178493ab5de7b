r"""The power diagram of a planar semi-discrete problem on a grid of pixels.

With heights :math:`h` the Brenier potential is :math:`F(x) = \max_i \langle x, y_i\rangle + h_i`
(thesis eq. 1.7) and its power cell :math:`W_i(h)` the set where the piece :math:`i` is largest.
Evaluated at the centres of a square grid of pixels, the argmax gives a raster of the cells
(:func:`cell_map`), their masses under the uniform measure (:func:`raster_cell_masses`, the
midpoint rule) and the faces between neighbouring cells (:func:`raster_faces`).

The source of AE-OT is the uniform measure on :data:`SQUARE` squared, :math:`[-0.5, 0.5]^2`.
"""

from __future__ import annotations

import numpy as np
import torch

from acglab.ot.power import assign
from acglab.ot.targets import OTInputError

#: the side of AE-OT's source square
SQUARE = (-0.5, 0.5)


def pixel_centres(resolution: int, low: float = SQUARE[0], high: float = SQUARE[1]) -> tuple[np.ndarray, np.ndarray]:
    """Centres of a ``resolution`` x ``resolution`` grid of square pixels covering ``[low, high]^2``.

    Returns ``axis`` (R,), the pixel centres ``low + (k + 1/2)(high - low)/R`` along one side, and
    ``points`` (R*R, 2) in row-major order: row ``j`` holds ``(axis[i], axis[j])`` for
    ``i = 0..R-1``, so ``values.reshape(R, R)[j, i]`` belongs to ``x = axis[i], y = axis[j]`` (the
    layout of a plotly heatmap's ``z``).
    """
    if int(resolution) < 1:
        raise OTInputError(f"resolution must be a positive number of pixels, got {resolution}")
    if not high > low:
        raise OTInputError(f"need low < high, got [{low}, {high}]")
    r = int(resolution)
    axis = low + (np.arange(r) + 0.5) * (high - low) / r
    xx, yy = np.meshgrid(axis, axis, indexing="xy")
    return axis, np.column_stack([xx.ravel(), yy.ravel()])


def planar_targets(targets) -> np.ndarray:
    """Targets as a float64 (N, 2) array; anything else raises :class:`OTInputError`."""
    y = np.asarray(targets, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] != 2:
        raise OTInputError(f"need 2-D targets (N, 2), got shape {y.shape}")
    return y


def as_heights(heights, n: int) -> np.ndarray:
    """Heights as a float64 (n,) array; any other shape raises :class:`OTInputError`."""
    h = np.asarray(heights, dtype=np.float64).reshape(-1)
    if h.shape != (n,):
        raise OTInputError(f"heights must have shape ({n},), got {h.shape}")
    return h


def cell_map(targets, heights, resolution: int = 300, low: float = SQUARE[0], high: float = SQUARE[1]) -> np.ndarray:
    r"""The power diagram rasterised: for every pixel centre :math:`x`, the index of its cell,
    :math:`\arg\max_i \langle x, y_i\rangle + h_i` (the piece of thesis eq. 1.7 that is largest),
    by :func:`acglab.ot.power.assign`.

    targets: (N, 2); heights: (N,). Returns (R, R) int64 laid out as :func:`pixel_centres`.
    """
    y = planar_targets(targets)
    h = as_heights(heights, y.shape[0])
    _, points = pixel_centres(resolution, low, high)
    cells = assign(
        torch.as_tensor(points, dtype=torch.float32),
        torch.as_tensor(y, dtype=torch.float32),
        torch.as_tensor(h, dtype=torch.float32),
    )
    return cells.numpy().reshape(int(resolution), int(resolution))


def raster_cell_masses(cells: np.ndarray, n_targets: int) -> np.ndarray:
    r"""Midpoint-rule estimate of the cell masses :math:`\mu(W_i)` under the uniform measure on
    the rasterised square (or interval): the fraction of pixels in each cell. cells: any shape
    of cell indices -> (N,), sums to 1."""
    cells = np.asarray(cells)
    return np.bincount(cells.ravel(), minlength=n_targets)[:n_targets] / cells.size


def raster_faces(axis: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Faces of a rasterised power diagram: every two side-by-side pixels in different cells.

    ``axis`` (R,) pixel centres along one side, ``cells`` (R, R) the cell of each pixel
    (``cells[j, i]`` at ``x = axis[i], y = axis[j]``, as :func:`cell_map`). Returns the midpoints
    (F, 2) of those pixel pairs and their cells (F, 2) (left or lower pixel first).
    """
    axis, cells = np.asarray(axis, dtype=np.float64), np.asarray(cells)
    mid = 0.5 * (axis[:-1] + axis[1:])
    right = np.nonzero(cells[:, :-1] != cells[:, 1:])  # (row j, column i): pixel (i, j) and (i + 1, j)
    up = np.nonzero(cells[:-1, :] != cells[1:, :])  # pixel (i, j) and (i, j + 1)
    xy = np.concatenate([np.column_stack([mid[right[1]], axis[right[0]]]), np.column_stack([axis[up[1]], mid[up[0]]])])
    pairs = np.concatenate(
        [
            np.column_stack([cells[right], cells[right[0], right[1] + 1]]),
            np.column_stack([cells[up], cells[up[0] + 1, up[1]]]),
        ]
    )
    return xy.reshape(-1, 2), pairs.reshape(-1, 2).astype(np.int64)
