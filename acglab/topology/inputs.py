"""Validation of the point clouds, images and persistence diagrams the topology tools accept.

A persistence diagram is a ``dict[int, ndarray]`` mapping a homology dimension ``k`` to an
array of bars of shape ``(n_k, 2)``: column 0 the birth, column 1 the death of each class
(``inf`` for a class that never dies). Diagrams of a superlevel filtration keep the image
values, so there ``birth >= death`` and an essential class dies at ``-inf``.
"""

from __future__ import annotations

import numpy as np

from acglab.errors import TopologyInputError

#: a persistence diagram: homology dimension -> bars (n, 2) of (birth, death)
Diagrams = dict[int, np.ndarray]


def as_point_cloud(x) -> np.ndarray:
    """Points as a finite float64 array of shape (n, d), n >= 1, d >= 1."""
    arr = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise TopologyInputError(
            f"a point cloud must be a 2-D array (n_points, dim) with at least one point, got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).any(axis=1).sum())
        raise TopologyInputError(f"{bad} point(s) contain NaN or inf; drop or repair them first")
    return arr


def as_image(image) -> np.ndarray:
    """A grey-level image as a finite float64 array of shape (H, W)."""
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        raise TopologyInputError(
            f"expected a grey-level image (H, W), got a colour image of shape {arr.shape}; convert it to grey first"
        )
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise TopologyInputError(f"expected a non-empty 2-D image (H, W), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise TopologyInputError("the image contains NaN or inf values")
    return arr


def as_bars(bars) -> np.ndarray:
    """Bars of one homology dimension as a float64 array (n, 2) without NaN."""
    arr = np.asarray(bars, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise TopologyInputError(f"bars must have shape (n, 2) of (birth, death), got shape {arr.shape}")
    if np.isnan(arr).any():
        raise TopologyInputError("bars contain NaN")
    if np.isinf(arr[:, 0]).any():
        raise TopologyInputError("a bar is born at an infinite value; births must be finite")
    return arr


def bars_of(diagram, dimension: int) -> np.ndarray:
    """The bars (n, 2) of ``dimension`` from a diagram dict, or ``diagram`` itself if it is an
    array of bars. A dimension the dict lacks has no bars."""
    if isinstance(diagram, dict):
        return as_bars(diagram.get(int(dimension), np.zeros((0, 2))))
    return as_bars(diagram)


def as_diagrams(diagrams) -> Diagrams:
    """A diagram dict with validated bars; an array of bars is taken as dimension 0."""
    if not isinstance(diagrams, dict):
        return {0: as_bars(diagrams)}
    out = {}
    for dim, bars in diagrams.items():
        if int(dim) != dim or dim < 0:
            raise TopologyInputError(f"diagram keys must be homology dimensions 0, 1, ..., got {dim!r}")
        out[int(dim)] = as_bars(bars)
    return dict(sorted(out.items()))


def is_superlevel(bars: np.ndarray) -> bool:
    """Whether bars come from a superlevel filtration (some bar dies below its birth).

    Raises :class:`TopologyInputError` when the bars mix both orientations."""
    bars = as_bars(bars)
    down, up = bars[:, 1] < bars[:, 0], bars[:, 1] > bars[:, 0]
    if down.any() and up.any():
        raise TopologyInputError(
            "the bars mix sublevel (death > birth) and superlevel (death < birth) "
            "orientations; compare diagrams of one kind of filtration"
        )
    return bool(down.any())
