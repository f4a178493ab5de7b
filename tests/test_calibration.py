"""Temperature scaling and the expected calibration error against independent computations:
a brute-force grid for the temperature, the closed form of a perfectly separable case, and a
hand-built set of bins for the ECE."""

from __future__ import annotations

import numpy as np
import pytest

from acglab.labels import FAKE, REAL
from acglab.metrics.calibration import (
    calibrate,
    expected_calibration_error,
    fit_temperature,
    logits_from_probabilities,
    negative_log_likelihood,
    scaled_probability,
)


def over_confident(n=4000, seed=0, true_t=3.0):
    """Labels drawn from sigmoid(z / true_t) for logits z: the model's probabilities sigmoid(z)
    are over-confident by the factor true_t."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 4, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-z / true_t))).astype(float)
    return z, y


def test_fitted_temperature_is_the_grid_minimum_of_the_nll():
    z, y = over_confident()
    t = fit_temperature(z, y)
    grid = np.exp(np.linspace(np.log(0.2), np.log(20), 4001))
    # -log σ(x) = log(1 + e^{-x}) and -log(1 - σ(x)) = log(1 + e^{x}), each summed over its class
    nll = [np.mean(y * np.logaddexp(0, -z / g) + (1 - y) * np.logaddexp(0, z / g)) for g in grid]
    assert t == pytest.approx(grid[int(np.argmin(nll))], rel=2e-3)
    assert t == pytest.approx(3.0, rel=0.15)  # recovers the temperature the labels were drawn with
    assert negative_log_likelihood(z, y, t) < negative_log_likelihood(z, y, 1.0)


def test_scaling_keeps_the_ranking_and_is_stable_for_large_logits():
    z = np.array([-800.0, -3.0, 0.0, 2.0, 900.0])
    p = scaled_probability(z, 2.0)
    assert np.all(np.diff(p) > 0)
    np.testing.assert_allclose(p[1:4], 1 / (1 + np.exp(-z[1:4] / 2)))
    assert p[0] < 1e-150 and p[-1] == 1.0 and np.isfinite(p).all()
    np.testing.assert_allclose(logits_from_probabilities(1 / (1 + np.exp(-z[1:4]))), z[1:4], atol=1e-9)
    with pytest.raises(ValueError):
        scaled_probability(z, 0.0)


def test_separable_scores_push_the_temperature_to_its_lower_bound():
    # every fake above every real: the NLL falls as T -> 0, so T* is the search's lower end
    z = np.array([-2.0, -1.0, 1.0, 2.0])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    assert fit_temperature(z, y) < 0.011
    with pytest.raises(ValueError, match="real and fake"):
        fit_temperature(z, np.ones(4))


def test_ece_by_hand():
    # confidences 0.9 (predicted fake, 3 of 4 right) and 0.6 (predicted real, 1 of 2 right):
    # ECE = 4/6 |0.75 - 0.9| + 2/6 |0.5 - 0.6|
    p = np.array([0.9, 0.9, 0.9, 0.9, 0.4, 0.4])
    y = np.array([1, 1, 1, 0, 0, 1])
    assert expected_calibration_error(p, y, bins=5) == pytest.approx(4 / 6 * 0.15 + 2 / 6 * 0.1)
    assert expected_calibration_error(np.array([1.0, 0.0]), np.array([1, 0])) == 0.0


def test_calibrate_lowers_the_ece_of_over_confident_scores():
    z, y = over_confident(seed=1)
    labels = np.where(y == 1, FAKE, REAL)
    cal = calibrate(1 / (1 + np.exp(-z)), labels)
    assert cal.temperature == pytest.approx(3.0, rel=0.15) and cal.n == len(z)
    assert cal.ece_after < cal.ece_before / 2 and cal.nll_after < cal.nll_before
    np.testing.assert_allclose(cal.probability(z), scaled_probability(z, cal.temperature))
    assert set(cal.to_dict()) >= {"temperature", "ece_before", "ece_after", "n", "source"}
