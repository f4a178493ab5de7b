r"""The "ring of Gaussians" toy data set and the mode-coverage measures used to diagnose mode
collapse.

The data are :math:`K` tight Gaussians (standard deviation ``std``) whose centres
:math:`c_k = r(\cos(2\pi k/K), \sin(2\pi k/K))` sit evenly on a circle of radius ``r``. A
generator that has *collapsed* puts (almost) all of its samples near one or two of the
centres; one that *covers* the data puts samples near every centre.

Two measures, both computed from the nearest centre of each generated point:

* :func:`modes_covered` -- the usual ring-of-Gaussians metric: a mode is covered when at least
  ``min_count`` samples lie within ``coverage_std`` data standard deviations of its centre.
* :func:`mode_shares` -- the fraction of samples whose nearest centre is each mode (a
  Voronoi histogram, blind to how far the samples are from the centre). A collapsed generator
  has one share close to 1.
"""

from __future__ import annotations

import numpy as np

from acglab.theory.densities import TheoryInputError


def ring_mode_centers(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    r"""Centres of the ring's modes, shape ``(n_modes, 2)``; mode ``k`` sits at angle
    :math:`2\pi k / K`."""
    if int(n_modes) < 1 or not radius > 0:
        raise TheoryInputError(f"the ring needs n_modes >= 1 and radius > 0, got {n_modes}, {radius}")
    angles = 2.0 * np.pi * np.arange(int(n_modes)) / int(n_modes)
    return float(radius) * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def sample_ring(
    n: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.05, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples from the ring mixture (equal weights).

    Returns ``(points, modes)``: points of shape ``(n, 2)`` and the index of the mode each was
    drawn from, shape ``(n,)``.
    """
    if not std > 0:
        raise TheoryInputError(f"the ring's std must be > 0, got {std}")
    rng = np.random.default_rng(rng)
    centers = ring_mode_centers(n_modes, radius)
    modes = rng.integers(0, len(centers), size=int(n))
    return centers[modes] + std * rng.standard_normal((int(n), 2)), modes


def nearest_mode(points, centers) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centre of each point and the Euclidean distance to it.

    points: shape ``(n, d)``; centers: shape ``(K, d)``. Returns two arrays of shape ``(n,)``.
    """
    points = np.asarray(points, dtype=float)
    centers = np.asarray(centers, dtype=float)
    if points.ndim != 2 or centers.ndim != 2 or points.shape[1] != centers.shape[1] or len(centers) == 0:
        raise TheoryInputError(f"need points (n, d) and centers (K, d), got {points.shape} and {centers.shape}")
    d2 = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    idx = d2.argmin(axis=1)
    return idx, np.sqrt(d2[np.arange(len(points)), idx])


def mode_counts(points, centers, std: float, coverage_std: float = 3.0) -> np.ndarray:
    """Number of points within ``coverage_std * std`` of each centre (counted at the nearest
    centre only). Returns an integer array of shape ``(K,)``."""
    if not (std > 0 and coverage_std > 0):
        raise TheoryInputError(f"std and coverage_std must be > 0, got {std}, {coverage_std}")
    idx, dist = nearest_mode(points, centers)
    close = dist <= coverage_std * std
    return np.bincount(idx[close], minlength=len(centers))


def modes_covered(points, centers, std: float, coverage_std: float = 3.0, min_count: int = 10) -> int:
    """How many modes have at least ``min_count`` points within ``coverage_std * std`` of their
    centre. points: ``(n, d)``; centers: ``(K, d)``. Returns an int in ``[0, K]``."""
    return int((mode_counts(points, centers, std, coverage_std) >= int(min_count)).sum())


def mode_shares(points, centers) -> np.ndarray:
    """Fraction of the points whose nearest centre is each mode, shape ``(K,)`` (sums to 1)."""
    idx, _ = nearest_mode(points, centers)
    if len(idx) == 0:
        raise TheoryInputError("mode_shares needs at least one point")
    return np.bincount(idx, minlength=len(np.asarray(centers))) / len(idx)
