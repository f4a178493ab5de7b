"""The steps of :meth:`acglab.ot.SemiDiscreteOT.fit`: gradient descent on the energy of the heights.

The heights h of the Brenier potential F(x) = max_i <x, y_i> + h_i (thesis eq. 1.7) minimise the
convex energy (thesis eq. 1.8)

    E(h) = int F_h dmu - sum_i nu_i h_i,   grad_i E(h) = mu(W_i(h)) - nu_i.

One step of the fit is, in order:

1. :meth:`MonteCarloCells.gradient` -- the cell masses mu(W_i(h)) estimated on a quasi-Monte-Carlo
   sample set, hence the gradient of eq. 1.8 and the energy itself;
2. :func:`converged` -- the stopping test on the relative cell-mass error, counted together with
   the predicted Monte-Carlo noise of the sample set (:func:`monte_carlo_noise`);
3. :class:`StepSchedule` -- the step size, halved when the error stops improving;
4. :func:`noise_floor_reached` and :func:`grown_sample_count` -- the sample set grows when the
   optimisation has reached its noise floor or stalls, to the size the noise model asks;
5. :class:`HeightAdam` -- otherwise, one Adam step on the heights along -grad E.
"""

from __future__ import annotations

import math
import time

import torch

from acglab.ot.fit_cache import SnapshotCandidateCache
from acglab.ot.sources import SobolSource


def monte_carlo_noise(weights: torch.Tensor, n_samples: int, kind: str = "max") -> float:
    """Predicted relative error of cell masses estimated from ``n_samples`` i.i.d. samples.

    Each estimate has relative standard deviation s_i = sqrt((1 - nu_i) / (nu_i M)). For
    ``"mean"`` the expected mean of |N(0, s_i)| is returned, for ``"max"`` the expected maximum
    over the N cells, about s * sqrt(2 ln 2N). Scrambled Sobol points usually do better, so
    this bound is conservative: a max relative error e over N equal cells needs about
    N (3.5 / e)^2 samples.
    """
    s = torch.sqrt((1 - weights) / (weights * n_samples))
    if kind == "mean":
        return float(math.sqrt(2 / math.pi) * s.mean())
    return float(math.sqrt(2 * math.log(2 * weights.numel())) * s.max())


#: share of the tolerance left to Monte-Carlo noise when a sample set is sized
NOISE_SHARE = 0.85


def initial_sample_count(n_targets: int, warm: bool = False) -> int:
    """The first sample set of a fit, a power of two: 4 N points, at least 2^12, from a cold
    start; 32 N, at least 2^14, from a warm one.

    Small on purpose: far from the optimum the error is far above this set's noise, and each
    step costs in proportion to the set; the set grows as the error comes down
    (:func:`grown_sample_count`). Warm heights are already near the optimum, where every small
    set would be exhausted after a few steps each.
    """
    if warm:
        return 1 << math.ceil(math.log2(max(2**14, 32 * n_targets)))
    return 1 << math.ceil(math.log2(max(2**12, 4 * n_targets)))


def grown_sample_count(m: int, noise: float, tol: float, floor_reached: bool, max_samples: int) -> int:
    """The next sample-set size when the current one (``m`` samples), on which the gradient of
    thesis eq. 1.8 is estimated, is exhausted.

    At the noise floor, noise scales as 1/sqrt(M), so the size that brings the predicted noise
    to ``NOISE_SHARE`` tol (leaving sqrt(1 - 0.85^2) = 0.53 tol for the optimisation, which on a
    fixed sample set can drive its empirical error well below the noise) is
    m (noise / (NOISE_SHARE tol))^2: the set grows to that size, by at most x4 per level, and
    never beyond it (but for rounding up to an eighth of a power of two). A stall away from the
    floor just doubles m.
    """
    if floor_reached:
        # at most x4 per level: most of the optimisation then happens on the smaller sets
        want = min(4 * m, math.ceil(m * (noise / (NOISE_SHARE * tol)) ** 2))
    else:
        want = 2 * m
    grain = 1 << max(0, want.bit_length() - 4)
    return int(min(max_samples, max(m + 1, -(-want // grain) * grain)))


def noise_floor_reached(e: float, noise: float, tol: float) -> bool:
    """Whether the sample set is exhausted: its empirical error ``e`` (of the gradient of thesis
    eq. 1.8) is down to its predicted Monte-Carlo noise, which is itself too large for ``tol``."""
    return noise > NOISE_SHARE * tol and e <= noise


def converged(e: float, noise: float, tol: float) -> bool:
    """The stopping test of the descent on E(h) (thesis eq. 1.8): the empirical relative error
    of the gradient mu(W_i) - nu_i and the Monte-Carlo noise of its estimate, combined as
    sqrt(e^2 + noise^2), are within ``tol``."""
    return math.hypot(e, noise) <= tol


def cell_mass_gradient(counts: torch.Tensor, n_samples: int, weights: torch.Tensor) -> torch.Tensor:
    """grad_i E(h) = mu(W_i(h)) - nu_i (thesis eq. 1.8), the masses estimated as the share of
    the ``n_samples`` sample points that fall in each cell (``counts``, float64)."""
    return counts / n_samples - weights


#: on a CPU the full passes score samples against all cells in blocks of this many bytes, which
#: stay in the cache between the matrix product and the top-k (timings: benchmarks/RESULTS.md)
CPU_CHUNK_BYTES = 4 * 2**20


class MonteCarloCells:
    """The quasi-Monte-Carlo sample set on which the fit estimates the cell masses of eq. 1.8.

    Scrambled Sobol points of the source (``seed`` picks the stream), assigned exactly to their
    power cells through a :class:`~acglab.ot.fit_cache.SnapshotCandidateCache` as the heights change.
    ``timing`` (a dict with ``"sampling"``, ``"full"`` and ``"candidates"``) accumulates the
    seconds spent drawing points, in full passes over all cells and in candidate updates.
    """

    def __init__(
        self,
        y: torch.Tensor,
        h: torch.Tensor,
        n_samples: int,
        source: str,
        seed: int,
        k: int,
        chunk_bytes: int,
        timing: dict,
    ):
        self.timing = timing
        self.stream = SobolSource(y.shape[1], source, seed)
        x = self._draw(n_samples, y.device)
        if y.device.type == "cpu":
            chunk_bytes = min(chunk_bytes, CPU_CHUNK_BYTES)
        self.cache = SnapshotCandidateCache(x, y, h.float(), k, chunk_bytes)

    def __len__(self) -> int:
        return len(self.cache)

    def _draw(self, n: int, device) -> torch.Tensor:
        t0 = time.perf_counter()
        if self.stream.kind == "cube":  # float32 straight from the engine, without a float64 copy
            x = self.stream.engine.draw(n, dtype=torch.float32).sub_(0.5).to(device)
        else:
            x = self.stream.draw(n, device)
        self.timing["sampling"] += time.perf_counter() - t0
        return x

    def gradient(self, h: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, float]:
        """grad E(h) (N,) float64 and the energy E(h) = int F_h dmu - sum nu_i h_i, both
        estimated on the sample set (thesis eq. 1.8)."""
        counts, potential_sum = self.cache.counts(h.float())
        m = len(self)
        return cell_mass_gradient(counts, m, w), potential_sum / m - float((w * h).sum())

    def grow(self, n_samples: int, h: torch.Tensor) -> None:
        """Extend the set to ``n_samples`` points with the next points of its Sobol stream."""
        x_new = self._draw(n_samples - len(self), self.cache.x.device)
        self.cache.extend(x_new, h.float())

    def median_gap(self, h: torch.Tensor) -> float:
        """Median gap between the best and the second-best power score of the samples at h:
        the scale on which a change of the heights moves the cell boundaries past samples."""
        cache = self.cache
        sc = cache.dots[:, :2] + h.float()[cache.cand[:, :2]]
        # with one candidate, the bound is still the exact second score of the first full pass
        gap = (sc[:, 0] - (sc[:, 1] if sc.shape[1] > 1 else cache.bound)).abs()
        g = float(gap.median())
        return g if g > 0 else float(gap.mean()) or 1e-3

    def close(self) -> None:
        """Add the cache's own timings (full passes, candidate updates) to ``timing``."""
        self.timing["full"] += self.cache.timing["full"]
        self.timing["candidates"] += self.cache.timing["candidates"]


class StepSchedule:
    """The step size of the descent on E(h) (thesis eq. 1.8): halved after ``patience`` steps without a 1 % improvement
    of the error. ``decays`` counts the halvings since the last :meth:`restart` (a new sample
    set); three mean the optimisation stalls on this set, six that it is over."""

    def __init__(self, lr: float, patience: int):
        self.lr, self.patience = float(lr), patience
        self.restart()

    def restart(self) -> None:
        self.best, self.since_best, self.decays = math.inf, 0, 0

    def observe(self, e: float) -> None:
        """Account for the error ``e`` of the current step."""
        if e < 0.99 * self.best:
            self.best, self.since_best = e, 0
        else:
            self.since_best += 1
        if self.since_best > self.patience:
            self.lr, self.since_best, self.decays = self.lr * 0.5, 0, self.decays + 1

    @property
    def stalled(self) -> bool:
        return self.decays >= 3

    @property
    def exhausted(self) -> bool:
        return self.decays >= 6


class HeightAdam:
    """Adam on the heights along -grad E (thesis eq. 1.8), betas 0.9 / 0.999.

    Its denominator gets eps nu_i (eps = 1e-12), so the step does not depend on the scale of the
    weights; every height moves by about the step size per step, whatever its gradient.
    """

    def __init__(self, h: torch.Tensor, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-12):
        self.m = torch.zeros_like(h)
        self.v = torch.zeros_like(h)
        self.beta1, self.beta2, self.eps, self.t = beta1, beta2, eps, 0

    def step(self, h: torch.Tensor, grad: torch.Tensor, lr: float, w: torch.Tensor) -> torch.Tensor:
        """The heights after one step of size ``lr`` (a new tensor)."""
        self.t += 1
        self.m.mul_(self.beta1).add_(grad, alpha=1 - self.beta1)
        self.v.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        mhat = self.m / (1 - self.beta1**self.t)
        vhat = self.v / (1 - self.beta2**self.t)
        return h - lr * mhat / (vhat.sqrt() + self.eps * w)
