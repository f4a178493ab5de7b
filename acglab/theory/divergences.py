r"""Distances between probability distributions: KL (forward and reverse), Jensen–Shannon and
Wasserstein-1, in one dimension.

Conventions (as in the article's "distances between distributions" section):

* Densities ``p``, ``q`` are arrays of values on a common uniform grid with spacing ``dx``;
  probability vectors (pmfs) are the special case ``dx = 1``.
* Logarithms are natural, so divergences are in nats and the Jensen–Shannon divergence is
  at most :math:`\log 2`.
* ``0 log 0 = 0``; a point where ``p > 0`` but ``q = 0`` makes :math:`\mathrm{KL}(p\|q)` infinite.
"""

from __future__ import annotations

import numpy as np

from acglab.theory.densities import TheoryInputError, uniform_grid, uniform_pdf


def _pair(p, q) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.shape != q.shape:
        raise TheoryInputError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    if np.any(~np.isfinite(p)) or np.any(~np.isfinite(q)) or np.any(p < 0) or np.any(q < 0):
        raise TheoryInputError("densities must be finite and non-negative")
    return p, q


def kl_divergence(p, q, dx: float = 1.0) -> float:
    r"""Kullback–Leibler divergence :math:`\mathrm{KL}(p\|q) = \int p \log(p/q)\,dx`.

    The article's definition (discrete sum, or integral for densities). It is not symmetric:
    ``kl_divergence(p, q)`` is the *forward* KL when ``p`` is the data and ``q`` the model.

    p, q: arrays of the same shape (densities on a grid, or pmfs with ``dx=1``).
    Returns a float in ``[0, inf]`` (``inf`` when ``q`` vanishes where ``p`` does not).
    """
    p, q = _pair(p, q)
    support = p > 0
    if np.any(q[support] == 0):
        return float("inf")
    return float(np.sum(p[support] * np.log(p[support] / q[support])) * dx)


def reverse_kl_divergence(p, q, dx: float = 1.0) -> float:
    r"""Reverse KL :math:`\mathrm{KL}(q\|p)`: the divergence with the model ``q`` first.

    Named separately because fitting a model by reverse KL is *mode seeking* while forward KL
    is *mean seeking* (the article's forward/reverse KL discussion; see
    :mod:`acglab.theory.fitting`).
    """
    return kl_divergence(q, p, dx)


def js_divergence(p, q, dx: float = 1.0) -> float:
    r"""Jensen–Shannon divergence
    :math:`\mathrm{JSD}(p\|q) = \tfrac12\mathrm{KL}(p\|m) + \tfrac12\mathrm{KL}(q\|m)`, :math:`m = (p+q)/2`.

    Symmetric, always finite, and equal to :math:`\log 2` exactly when the supports of ``p`` and
    ``q`` are disjoint (the article's JSD section) -- which is why its gradient vanishes there.
    """
    p, q = _pair(p, q)
    m = 0.5 * (p + q)
    return 0.5 * kl_divergence(p, m, dx) + 0.5 * kl_divergence(q, m, dx)


def kl_gaussians(mu_p: float, sigma_p: float, mu_q: float, sigma_q: float) -> float:
    r"""Closed form :math:`\mathrm{KL}(\mathcal N(\mu_p,\sigma_p^2)\,\|\,\mathcal N(\mu_q,\sigma_q^2))
    = \log\frac{\sigma_q}{\sigma_p} + \frac{\sigma_p^2 + (\mu_p-\mu_q)^2}{2\sigma_q^2} - \frac12`."""
    if not (sigma_p > 0 and sigma_q > 0):
        raise TheoryInputError(f"standard deviations must be > 0, got {sigma_p}, {sigma_q}")
    return float(np.log(sigma_q / sigma_p) + (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2) - 0.5)


def wasserstein1_grid(p, q, dx: float) -> float:
    r"""Wasserstein-1 distance between two 1-D densities on the same grid.

    In one dimension the optimal transport plan is monotone, and
    :math:`W_1(p, q) = \int |F_p(x) - F_q(x)|\,dx` with :math:`F` the cumulative distribution
    functions. This is the cost :math:`c(x,y)=|x-y|` case of the thesis' Wasserstein distance
    (thesis eq. B.4), the one WGAN estimates through its Kantorovich dual (thesis eq. B.7).

    p, q: densities on a uniform grid with spacing ``dx`` (each is normalised to mass 1 first).
    """
    p, q = _pair(p, q)
    if p.ndim != 1:
        raise TheoryInputError(f"wasserstein1_grid needs 1-D densities, got shape {p.shape}")
    mp, mq = p.sum(), q.sum()
    if mp <= 0 or mq <= 0:
        raise TheoryInputError("both densities need positive mass on the grid")
    cdf_gap = np.cumsum(p / mp - q / mq)
    return float(np.sum(np.abs(cdf_gap)) * dx)


def wasserstein1_samples(u, v, u_weights=None, v_weights=None) -> float:
    r"""Exact Wasserstein-1 distance between two weighted 1-D samples (empirical measures).

    Uses :math:`W_1 = \int |F_u - F_v|\,dx`, with the two step-function CDFs evaluated between
    consecutive points of the pooled, sorted sample.

    u: shape ``(n,)``; v: shape ``(m,)``; optional non-negative weights of the same shapes
    (normalised to sum to one; uniform when omitted).
    """
    u = np.asarray(u, dtype=float).ravel()
    v = np.asarray(v, dtype=float).ravel()
    if u.size == 0 or v.size == 0:
        raise TheoryInputError("both samples must be non-empty")
    wu = np.full(u.size, 1.0 / u.size) if u_weights is None else np.asarray(u_weights, dtype=float).ravel()
    wv = np.full(v.size, 1.0 / v.size) if v_weights is None else np.asarray(v_weights, dtype=float).ravel()
    if wu.shape != u.shape or wv.shape != v.shape or np.any(wu < 0) or np.any(wv < 0):
        raise TheoryInputError("weights must be non-negative and match their samples")
    if wu.sum() <= 0 or wv.sum() <= 0:
        raise TheoryInputError("weights must have a positive sum")
    points = np.concatenate([u, v])
    masses = np.concatenate([wu / wu.sum(), -wv / wv.sum()])
    order = np.argsort(points, kind="mergesort")
    points, masses = points[order], masses[order]
    cdf_gap = np.cumsum(masses)[:-1]
    return float(np.sum(np.abs(cdf_gap) * np.diff(points)))


def _normalised(f: np.ndarray, dx: float) -> np.ndarray:
    return f / (f.sum() * dx)


def divergences_under_shift(shifts, width: float = 1.0, n_grid: int = 4001) -> dict[str, np.ndarray]:
    r"""JSD, forward KL and W1 between ``U[0, width)`` and the same interval shifted by ``s``.

    The experiment behind "why GAN gradients vanish": once ``|s| >= width`` the two supports are
    disjoint, JSD is stuck at :math:`\log 2` (zero gradient in ``s``) and KL is infinite, while
    :math:`W_1 = |s|` keeps decreasing as the distributions approach (thesis appendix B.4, WGAN).

    shifts: array of shape ``(S,)``. Returns a dict of arrays of shape ``(S,)`` with keys
    ``"shift"``, ``"jsd"``, ``"kl"``, ``"w1"``, all computed numerically on a grid.
    """
    shifts = np.atleast_1d(np.asarray(shifts, dtype=float))
    if not width > 0:
        raise TheoryInputError(f"width must be > 0, got {width}")
    reach = float(np.max(np.abs(shifts))) + width
    x, dx = uniform_grid(-reach - width, reach + width, n_grid)
    p = _normalised(uniform_pdf(x, 0.0, width), dx)
    out = {"shift": shifts, "jsd": np.empty_like(shifts), "kl": np.empty_like(shifts), "w1": np.empty_like(shifts)}
    for i, s in enumerate(shifts):
        q = _normalised(uniform_pdf(x, s, s + width), dx)
        out["jsd"][i] = js_divergence(p, q, dx)
        out["kl"][i] = kl_divergence(p, q, dx)
        out["w1"][i] = wasserstein1_grid(p, q, dx)
    return out
