r"""The semi-discrete problem on the line: the Brenier potential and its Legendre dual.

In one dimension the Brenier potential :math:`F(x) = \max_i x\,y_i + h_i` (thesis eq. 1.7 with
d = 1) is the upper envelope of N lines, and its Legendre transform
:math:`F^*(p) = \sup_x\, p\,x - F(x)` is, for p between the smallest and largest :math:`y_i`, the
lower convex envelope of the points :math:`(y_i, -h_i)`: a point lifted above that envelope owns
an empty cell. With :math:`\varphi(x) = \tfrac12 x^2 - F(x)` the pair is Kantorovich's potential
(thesis eq. B.13).
"""

from __future__ import annotations

import numpy as np
import torch

from acglab.ot.power import topk_cells
from acglab.ot.raster import as_heights
from acglab.ot.targets import OTInputError


def brenier_potential_1d(x, y, h) -> tuple[np.ndarray, np.ndarray]:
    r"""The 1-D Brenier potential :math:`F(x) = \max_i x\,y_i + h_i` (thesis eq. 1.7 with d = 1)
    and the index of the maximising piece (the power cell) at each x.

    Computed in float64 by :func:`acglab.ot.power.topk_cells`, the routine behind
    :func:`acglab.ot.brenier_potential` and :func:`acglab.ot.assign`, on (M, 1) samples.
    x: (M,), y: (N,), h: (N,) -> (F (M,), cells (M,) int64).
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    if y.shape[0] < 1:
        raise OTInputError("need at least one target")
    h = as_heights(h, y.shape[0])
    values, cells = topk_cells(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(h), k=1)
    return values[:, 0].numpy(), cells[:, 0].numpy()


def legendre_transform_1d(x, f, p) -> np.ndarray:
    r"""Discrete Legendre–Fenchel transform :math:`f^*(p) = \max_k\, p\,x_k - f(x_k)` of a function
    sampled at the points x (a grid).

    x: (K,), f: (K,) values, p: (P,) slopes -> (P,). For convex f and a grid that contains the
    maximiser of :math:`p x - f(x)` this is the exact transform; otherwise it is a lower bound
    within :math:`\max |p - f'|` times the grid spacing. Of the Brenier potential
    :math:`F = \max_i x y_i + h_i` (thesis eq. 1.7) it gives, for p between the smallest and
    largest :math:`y_i`, the lower convex envelope of the points :math:`(y_i, -h_i)`: the dual
    potential.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    f = np.asarray(f, dtype=np.float64).reshape(-1)
    if x.shape != f.shape or x.size == 0:
        raise OTInputError(f"x and f must be non-empty and of equal length, got {x.shape} and {f.shape}")
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    out = np.empty(p.shape)
    step = max(1, 2**22 // max(1, x.size))
    for s in range(0, p.size, step):
        out[s : s + step] = (np.multiply.outer(p[s : s + step], x) - f).max(axis=1)
    return out
