"""One-dimensional densities used throughout the GAN theory: Gaussians, Gaussian mixtures,
uniform intervals, and the uniform grids on which integrals are taken.

Everything here is plain NumPy. A density "on a grid" is an array of density values at the
points of a uniform grid ``x`` (spacing ``dx``); integrals are Riemann sums ``sum(f) * dx``,
which is accurate when the grid covers the mass and resolves the narrowest bump.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from acglab.errors import TheoryInputError

LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def uniform_grid(low: float, high: float, n: int = 2001) -> tuple[np.ndarray, float]:
    """A uniform grid on ``[low, high]``.

    Returns ``(x, dx)`` with ``x`` of shape ``(n,)`` and spacing ``dx = (high - low) / (n - 1)``.
    """
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        raise TheoryInputError(f"grid needs finite low < high, got [{low}, {high}]")
    if int(n) < 3:
        raise TheoryInputError(f"grid needs at least 3 points, got {n}")
    x = np.linspace(float(low), float(high), int(n))
    return x, float(x[1] - x[0])


def grid_spacing(x: np.ndarray) -> float:
    """The spacing of a uniform 1-D grid ``x`` (shape ``(n,)``); rejects non-uniform grids."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 3:
        raise TheoryInputError(f"grid must be 1-D with at least 3 points, got shape {x.shape}")
    steps = np.diff(x)
    dx = float(steps.mean())
    if dx <= 0 or not np.allclose(steps, dx, rtol=1e-6, atol=1e-12):
        raise TheoryInputError("grid must be increasing with a constant spacing (use uniform_grid)")
    return dx


def _check_scale(sigma) -> np.ndarray:
    sigma = np.asarray(sigma, dtype=float)
    if np.any(~np.isfinite(sigma)) or np.any(sigma <= 0):
        raise TheoryInputError(f"standard deviations must be finite and > 0, got {sigma}")
    return sigma


def gaussian_logpdf(x, mu: float, sigma: float) -> np.ndarray:
    """log N(x; mu, sigma^2), elementwise over ``x``."""
    sigma = _check_scale(sigma)
    z = (np.asarray(x, dtype=float) - mu) / sigma
    return -0.5 * z * z - np.log(sigma) - LOG_SQRT_2PI


def gaussian_pdf(x, mu: float, sigma: float) -> np.ndarray:
    """N(x; mu, sigma^2), elementwise over ``x``."""
    return np.exp(gaussian_logpdf(x, mu, sigma))


def uniform_pdf(x, low: float, high: float) -> np.ndarray:
    """Density of the uniform distribution on ``[low, high)`` (``1 / (high - low)`` inside, else 0).

    The half-open interval makes two touching intervals ``[a, b)`` and ``[b, c)`` disjoint on a
    grid, which is what the JSD-vs-Wasserstein story needs.
    """
    if not high > low:
        raise TheoryInputError(f"uniform needs low < high, got [{low}, {high}]")
    x = np.asarray(x, dtype=float)
    return np.where((x >= low) & (x < high), 1.0 / (high - low), 0.0)


@dataclass(frozen=True)
class GaussianMixture:
    """A 1-D mixture ``sum_k w_k N(mu_k, sigma_k^2)``.

    means, sigmas, weights: sequences of length K (weights are normalised to sum to 1).
    """

    means: tuple[float, ...]
    sigmas: tuple[float, ...]
    weights: tuple[float, ...]

    def __post_init__(self):
        means = np.atleast_1d(np.asarray(self.means, dtype=float))
        sigmas = _check_scale(np.atleast_1d(np.asarray(self.sigmas, dtype=float)))
        weights = np.atleast_1d(np.asarray(self.weights, dtype=float))
        if not (means.shape == sigmas.shape == weights.shape) or means.ndim != 1:
            raise TheoryInputError("means, sigmas and weights must be 1-D and of the same length")
        if np.any(~np.isfinite(means)) or np.any(weights < 0) or weights.sum() <= 0:
            raise TheoryInputError("means must be finite and weights >= 0 with a positive sum")
        object.__setattr__(self, "means", tuple(means.tolist()))
        object.__setattr__(self, "sigmas", tuple(sigmas.tolist()))
        object.__setattr__(self, "weights", tuple((weights / weights.sum()).tolist()))

    @classmethod
    def bimodal(cls, separation: float, sigma: float = 1.0, weight_left: float = 0.5) -> GaussianMixture:
        """Two Gaussians of width ``sigma`` at ``-separation/2`` and ``+separation/2``."""
        s = float(separation) / 2.0
        return cls((-s, s), (sigma, sigma), (weight_left, 1.0 - weight_left))

    def logpdf(self, x) -> np.ndarray:
        """log density at ``x`` (any shape), computed stably with log-sum-exp."""
        x = np.asarray(x, dtype=float)
        comps = [
            np.log(w) + gaussian_logpdf(x, m, s) if w > 0 else np.full(x.shape, -np.inf)
            for m, s, w in zip(self.means, self.sigmas, self.weights)
        ]
        return logsumexp(np.stack(comps, axis=0), axis=0)

    def pdf(self, x) -> np.ndarray:
        """Density at ``x`` (any shape)."""
        return np.exp(self.logpdf(x))

    def mean(self) -> float:
        """Mixture mean ``sum_k w_k mu_k``."""
        return float(np.dot(self.weights, self.means))

    def var(self) -> float:
        """Mixture variance ``sum_k w_k (sigma_k^2 + mu_k^2) - mean^2``."""
        w, m, s = (np.asarray(a) for a in (self.weights, self.means, self.sigmas))
        return float(np.dot(w, s**2 + m**2) - self.mean() ** 2)

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """``n`` samples, shape ``(n,)``."""
        rng = np.random.default_rng(rng)
        k = rng.choice(len(self.means), size=int(n), p=self.weights)
        return np.asarray(self.means)[k] + np.asarray(self.sigmas)[k] * rng.standard_normal(int(n))
