"""The energy picture of Fig. 1-1 (acglab.theory.energy) against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from acglab.theory import (
    TheoryInputError,
    energy_minima,
    energy_outcome,
    kernel_energy,
    kernel_energy_gradient,
    roll_down,
)


def test_energy_is_minus_log_sum_of_gaussian_kernels_and_its_gradient_matches_finite_differences():
    m, s = np.array([-2.0, 0.5, 3.0]), 0.7
    x = np.linspace(-5, 6, 41)
    direct = -np.log(np.exp(-((x[:, None] - m) ** 2) / (2 * s * s)).sum(1))
    assert np.allclose(kernel_energy(x, m, s), direct)
    h = 1e-5
    numeric = (kernel_energy(x + h, m, s) - kernel_energy(x - h, m, s)) / (2 * h)
    assert np.allclose(kernel_energy_gradient(x, m, s), numeric, atol=1e-6)
    assert np.isfinite(kernel_energy(np.array([1e3]), m, 0.01)).all()  # log-sum-exp is stable
    with pytest.raises(TheoryInputError):
        kernel_energy(x, m, 0.0)


@pytest.mark.parametrize("s, expect_mid", [(0.8, False), (0.99, False), (1.01, True), (2.0, True)])
def test_two_pits_merge_exactly_when_the_bandwidth_exceeds_their_half_distance(s, expect_mid):
    """Samples at +-d: E''(0) = 1/s^2 - d^2/s^4, so 0 is a minimum iff s > d (d = 1)."""
    minima = energy_minima([-1.0, 1.0], s, -3, 3)
    has_mid = bool(np.any(np.abs(minima) < 1e-3))
    assert has_mid == expect_mid
    assert len(minima) == (1 if expect_mid else 2)


def test_fakes_roll_into_the_pit_of_their_basin_collapse_and_mixing_are_measured():
    m = np.array([-4.5, -1.5, 1.5, 4.5])
    # small bandwidth, fakes placed near one pit: all roll into it (collapse, no mixing)
    final = roll_down(np.random.default_rng(0).normal(-1.2, 0.3, 50), m, 0.5, steps=300)[-1]
    assert np.allclose(final, -1.5, atol=1e-3)
    out = energy_outcome(final, m, radius=0.3)
    assert out.collapse and out.covered.tolist() == [False, True, False, False] and out.mixing_share == 0
    # large bandwidth: the four pits merge into minima with no real sample there (mixing)
    s = 2.0
    final = roll_down(np.linspace(-6, 6, 61), m, s, steps=2000)[-1]
    minima = energy_minima(m, s, -8, 8)
    assert np.abs(final[:, None] - minima[None]).min(1).max() < 1e-2
    assert energy_outcome(final, m, radius=0.3).mixing_share == 1.0
    # placed across all basins with a small bandwidth: every mode covered, nothing between
    final = roll_down(np.linspace(-6, 6, 61), m, 0.5, steps=300)[-1]
    good = energy_outcome(final, m, radius=0.3)
    assert not good.collapse and good.mixing_share < 0.05
