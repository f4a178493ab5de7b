r"""Fit one Gaussian :math:`q_\theta = \mathcal N(\mu, \sigma^2)` to a (bimodal) target ``p`` by
minimising forward or reverse KL -- the article's mean-seeking vs mode-seeking picture.

* Forward KL, :math:`\min_\theta \mathrm{KL}(p\|q_\theta)`: ``q`` is punished wherever ``p`` has
  mass that ``q`` misses, so it spreads over all modes (*mean seeking*, *zero avoiding*). For a
  Gaussian family the minimiser is moment matching: :math:`\mu = \mathbb E_p[x]`,
  :math:`\sigma^2 = \mathrm{Var}_p[x]`.
* Reverse KL, :math:`\min_\theta \mathrm{KL}(q_\theta\|p)`: ``q`` is punished wherever it puts
  mass that ``p`` lacks, so it hides inside one mode (*mode seeking*, *zero forcing*).

Both are minimised numerically here (L-BFGS over :math:`(\mu, \log\sigma)` on a grid), so that
the closed-form moment matching stays an independent check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from acglab.theory.densities import GaussianMixture, TheoryInputError, gaussian_logpdf, grid_spacing, uniform_grid

DIRECTIONS = ("forward", "reverse")


@dataclass(frozen=True)
class GaussianFit:
    """A fitted Gaussian ``N(mu, sigma^2)`` and the divergence it attains (nats)."""

    mu: float
    sigma: float
    divergence: float
    direction: str


def fitting_grid(target: GaussianMixture, n: int = 4001, margin: float = 10.0) -> tuple[np.ndarray, float]:
    """A grid covering every component of ``target`` by ``margin`` standard deviations."""
    lo = min(m - margin * s for m, s in zip(target.means, target.sigmas))
    hi = max(m + margin * s for m, s in zip(target.means, target.sigmas))
    return uniform_grid(lo, hi, n)


def kl_to_gaussian(target: GaussianMixture, mu: float, sigma: float, direction: str, x: np.ndarray, dx: float) -> float:
    r"""``KL(p || N(mu, sigma^2))`` (``direction="forward"``) or ``KL(N(mu, sigma^2) || p)``
    (``"reverse"``) on the grid ``x`` (spacing ``dx``), from log densities (no underflow)."""
    if direction not in DIRECTIONS:
        raise TheoryInputError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    log_p = target.logpdf(x)
    log_q = gaussian_logpdf(x, mu, sigma)
    if direction == "forward":
        return float(np.sum(np.exp(log_p) * (log_p - log_q)) * dx)
    return float(np.sum(np.exp(log_q) * (log_q - log_p)) * dx)


def _starts(target: GaussianMixture, direction: str) -> list[tuple[float, float]]:
    overall = (target.mean(), float(np.sqrt(target.var())))
    if direction == "forward":
        return [overall]
    # reverse KL has one local minimum per well-separated mode: try each mode and the middle
    return [(m, s) for m, s in zip(target.means, target.sigmas)] + [overall]


def fit_gaussian(target: GaussianMixture, direction: str, x: np.ndarray | None = None) -> GaussianFit:
    r"""The Gaussian that minimises forward or reverse KL to ``target``.

    target: the density ``p`` to fit; direction: ``"forward"`` (:math:`\mathrm{KL}(p\|q)`) or
    ``"reverse"`` (:math:`\mathrm{KL}(q\|p)`); x: optional uniform grid (default
    :func:`fitting_grid`). Reverse KL is non-convex: it is minimised from each mode and from the
    overall moments, and the best local minimum is returned (the first one on ties, i.e. the
    leftmost mode of a symmetric target).
    """
    if direction not in DIRECTIONS:
        raise TheoryInputError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if x is None:
        x, dx = fitting_grid(target)
    else:
        x = np.asarray(x, dtype=float)
        dx = grid_spacing(x)

    def objective(theta):
        return kl_to_gaussian(target, theta[0], float(np.exp(theta[1])), direction, x, dx)

    span = float(x[-1] - x[0])
    bounds = [(float(x[0]), float(x[-1])), (np.log(3 * dx), np.log(span))]
    best = None
    for mu0, s0 in _starts(target, direction):
        res = minimize(
            objective,
            x0=[mu0, np.log(s0)],
            method="L-BFGS-B",
            bounds=bounds,
            options={"ftol": 1e-12, "gtol": 1e-9, "maxiter": 500},
        )
        if best is None or res.fun < best.fun - 1e-9:
            best = res
    return GaussianFit(
        mu=float(best.x[0]), sigma=float(np.exp(best.x[1])), divergence=float(best.fun), direction=direction
    )


def fit_both_directions(target: GaussianMixture) -> dict[str, GaussianFit]:
    """``{"forward": fit, "reverse": fit}`` for ``target`` (see :func:`fit_gaussian`)."""
    x, _ = fitting_grid(target)
    return {d: fit_gaussian(target, d, x) for d in DIRECTIONS}
