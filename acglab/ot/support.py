r"""Mode mixing measured against the data: how many generated samples fall off the support of
the empirical measure :math:`\nu = \frac1N \sum_i \delta_{y_i}` (thesis eq. 1.5), and how many
interpolated pairs stay inside one labelled component.

A sample counts as *on* the support when it lies within a radius :math:`r` of some target
(:func:`support_radius`); the share of samples farther than that from every target is the
mode-mixing score (:func:`off_support_fraction`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from acglab.ot.targets import OTInputError


def _points(x, what: str) -> np.ndarray:
    arr = np.asarray(x.detach().cpu() if torch.is_tensor(x) else x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise OTInputError(f"{what} must be a 2-D array (n, d) with n >= 1, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise OTInputError(f"{what} contain NaN or inf")
    return arr


def support_radius(targets, factor: float = 2.0) -> float:
    r"""``factor`` times the median nearest-neighbour distance between targets (N >= 2), the
    radius within which a sample counts as *on* the data's support: :math:`r = c\,\mathrm{median}_i
    \min_{j \ne i}\|y_i - y_j\|`."""
    from scipy.spatial import cKDTree

    y = _points(targets, "targets")
    if y.shape[0] < 2:
        raise OTInputError("support_radius needs at least 2 targets")
    if not factor > 0:
        raise OTInputError(f"factor must be positive, got {factor!r}")
    distances, _ = cKDTree(y).query(y, k=2)
    return float(factor * np.median(distances[:, 1]))


def off_support(points, targets, radius: float) -> np.ndarray:
    r"""Which of ``points`` (M, d) lie farther than ``radius`` from every target (N, d):
    :math:`\min_i \|x_m - y_i\| > r`, as a bool array (M,). An empty (0, d) set gives (0,)."""
    from scipy.spatial import cKDTree

    y = _points(targets, "targets")
    x = np.asarray(points.detach().cpu() if torch.is_tensor(points) else points, dtype=np.float64)
    if x.ndim == 2 and x.shape[0] == 0 and x.shape[1] == y.shape[1]:
        return np.zeros(0, dtype=bool)
    x = _points(x, "points")
    if x.shape[1] != y.shape[1]:
        raise OTInputError(f"points have dimension {x.shape[1]} but targets {y.shape[1]}")
    if not radius > 0:
        raise OTInputError(f"radius must be positive, got {radius!r}")
    return cKDTree(y).query(x)[0] > radius


def off_support_fraction(points, targets, radius: float) -> float:
    r"""Share of ``points`` (M, d), M >= 1, farther than ``radius`` from every target (N, d):
    :math:`\frac1M \#\{m : \min_i \|x_m - y_i\| > r\}` (the mode-mixing score)."""
    _points(points, "points")
    return float(np.mean(off_support(points, targets, radius)))


def same_label_fraction(pairs, labels) -> float:
    """Share of index pairs (P, 2) whose two targets carry the same label (labels (N,)); NaN
    without pairs."""
    p = np.asarray(pairs.cpu() if torch.is_tensor(pairs) else pairs, dtype=np.int64).reshape(-1, 2)
    lab = np.asarray(labels)
    return float(np.mean(lab[p[:, 0]] == lab[p[:, 1]])) if len(p) else math.nan
