r"""The energy picture of mode collapse and mode mixing (thesis section 1.1, Fig. 1-1).

Real samples :math:`x_1, \dots, x_n` sit at the minima ("pits") of an energy :math:`E(x)`;
a generative model places fake samples :math:`\hat x` on the slopes and lets them roll down
(gradient descent on E). Two things go wrong (Fig. 1-1 (b), (c)):

- **mode collapse**: the fakes start clustered near a few pits, so they all roll into those
  and the other modes are never generated;
- **mode mixing**: the fakes get trapped in a minimum that holds no real sample and are
  generated between the modes.

The model energy here is the continuous one the thesis criticises: a kernel (log-sum-exp)
energy of the real samples with bandwidth s,

.. math:: E_s(x) = -\log \sum_k \exp\left(-\frac{(x - m_k)^2}{2 s^2}\right),

whose pits sit at the real samples when s is small and merge into minima between them when s
grows (for two samples at :math:`\pm d`, :math:`E_s''(0) = 1/s^2 - d^2/s^4`: the midpoint
becomes a minimum exactly when s > d). A continuous energy cannot represent several separated
components without either tiny s (every pit isolated, so placement decides coverage:
collapse) or large s (pits merged: mixing); the thesis' answer is the singular set of a
discontinuous (OT) map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acglab.theory.densities import TheoryInputError


def _centres(centres) -> np.ndarray:
    m = np.asarray(centres, dtype=np.float64).ravel()
    if m.size == 0:
        raise TheoryInputError("the energy needs at least one real sample")
    return m


def _bandwidth(s) -> float:
    s = float(s)
    if not s > 0:
        raise TheoryInputError(f"the bandwidth s must be positive, got {s}")
    return s


def _responsibilities(x: np.ndarray, m: np.ndarray, s: float) -> np.ndarray:
    a = -((x[..., None] - m) ** 2) / (2 * s * s)
    a -= a.max(axis=-1, keepdims=True)
    w = np.exp(a)
    return w / w.sum(axis=-1, keepdims=True)


def kernel_energy(x, centres, s: float) -> np.ndarray:
    r""":math:`E_s(x) = -\log \sum_k \exp(-(x - m_k)^2 / 2s^2)` (module notes), any shape of x."""
    x, m, s = np.asarray(x, dtype=np.float64), _centres(centres), _bandwidth(s)
    a = -((x[..., None] - m) ** 2) / (2 * s * s)
    top = a.max(axis=-1)
    return -(top + np.log(np.exp(a - top[..., None]).sum(axis=-1)))


def kernel_energy_gradient(x, centres, s: float) -> np.ndarray:
    r""":math:`E_s'(x) = \sum_k r_k(x)\,(x - m_k) / s^2` with :math:`r_k` the softmax weights."""
    x, m, s = np.asarray(x, dtype=np.float64), _centres(centres), _bandwidth(s)
    r = _responsibilities(x, m, s)
    return (r * (x[..., None] - m)).sum(axis=-1) / (s * s)


def energy_minima(centres, s: float, low: float, high: float, n: int = 20001) -> np.ndarray:
    """Local minima of :math:`E_s` on a grid of ``n`` points over [low, high] (interior only)."""
    grid = np.linspace(low, high, n)
    e = kernel_energy(grid, centres, s)
    inner = (e[1:-1] < e[:-2]) & (e[1:-1] <= e[2:])
    return grid[1:-1][inner]


def roll_down(x0, centres, s: float, steps: int = 200, lr: float | None = None) -> np.ndarray:
    """Gradient descent :math:`x \\leftarrow x - \\eta E_s'(x)` from ``x0``: the fakes "let go" on
    the slopes. Returns the trajectory (steps + 1, *x0.shape). ``lr`` defaults to s^2 / 2
    (the curvature of a single pit is 1 / s^2, so the step is stable)."""
    s = _bandwidth(s)
    lr = 0.5 * s * s if lr is None else float(lr)
    if not lr > 0 or steps < 0:
        raise TheoryInputError(f"need lr > 0 and steps >= 0, got {lr} and {steps}")
    x = np.asarray(x0, dtype=np.float64).copy()
    path = [x.copy()]
    for _ in range(int(steps)):
        x = x - lr * kernel_energy_gradient(x, centres, s)
        path.append(x.copy())
    return np.stack(path)


@dataclass
class EnergyOutcome:
    """Where the fakes ended: ``covered`` (K,) bool, a real sample has a fake within ``radius``;
    ``off_data`` (M,) bool, a fake has no real sample within ``radius``."""

    covered: np.ndarray
    off_data: np.ndarray
    radius: float

    @property
    def collapse(self) -> bool:
        """Some real modes get no fake at all."""
        return not bool(self.covered.all())

    @property
    def mixing_share(self) -> float:
        """Share of fakes generated between the modes."""
        return float(self.off_data.mean()) if self.off_data.size else 0.0


def energy_outcome(final, centres, radius: float) -> EnergyOutcome:
    """Coverage of the real samples and fakes off the data after :func:`roll_down`."""
    x, m = np.asarray(final, dtype=np.float64).ravel(), _centres(centres)
    d = np.abs(x[:, None] - m[None, :])
    return EnergyOutcome((d <= radius).any(axis=0), ~(d <= radius).any(axis=1), float(radius))
