"""Bootstrap intervals of the AUC, checked against scikit-learn, SciPy's bootstrap and DeLong's
closed-form variance."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from acglab.data.samples import FAKE, REAL
from acglab.errors import AcglabError
from acglab.metrics.bootstrap import auc_interval, auc_matrix, paired_auc_interval


def _data(n=160, shift=1.0, seed=0, runs=1):
    rng = np.random.default_rng(seed)
    labels = np.where(rng.random(n) < 0.4, REAL, FAKE)
    base = rng.normal(size=n) + shift * (labels == FAKE)
    scores = np.stack([base + 0.5 * rng.normal(size=n) for _ in range(runs)])
    return labels, scores


def _delong_se(labels, scores):
    """DeLong et al. (1988): the AUC's standard error from the placement values."""
    pos, neg = scores[labels == FAKE], scores[labels == REAL]
    psi = (pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None])
    v10, v01 = psi.mean(1), psi.mean(0)
    return np.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))


def test_auc_matrix_matches_sklearn_with_ties():
    labels, scores = _data(runs=3)
    scores = np.round(scores, 1)  # many ties
    got = auc_matrix(np.broadcast_to(labels == FAKE, scores.shape), scores)
    want = [roc_auc_score(labels == FAKE, s) for s in scores]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_interval_agrees_with_scipy_and_delong():
    from scipy.stats import bootstrap

    labels, scores = _data(n=300)
    ci = auc_interval(labels, scores[0], n_boot=4000, seed=1)
    assert ci.estimate == pytest.approx(roc_auc_score(labels == FAKE, scores[0]), abs=1e-12)
    ref = bootstrap(
        (labels, scores[0]),
        lambda y, s: roc_auc_score(y == FAKE, s),
        paired=True,
        vectorized=False,
        n_resamples=2000,
        method="percentile",
        random_state=2,
    ).confidence_interval
    assert ci.low == pytest.approx(ref.low, abs=0.015) and ci.high == pytest.approx(ref.high, abs=0.015)
    half = (ci.high - ci.low) / 2
    assert half == pytest.approx(1.96 * _delong_se(labels, scores[0]), rel=0.15)


def test_seed_mean_and_paired_difference():
    labels, a = _data(runs=3, seed=3)
    _, b = _data(runs=3, seed=3, shift=0.4)  # same draws of labels, weaker separation
    ci = auc_interval(labels, a, n_boot=1000)
    assert ci.estimate == pytest.approx(np.mean([roc_auc_score(labels == FAKE, s) for s in a]), abs=1e-12)
    assert ci.low < ci.estimate < ci.high
    diff = paired_auc_interval(labels, a, b, n_boot=1000)
    assert diff.estimate == pytest.approx(ci.estimate - auc_interval(labels, b, n_boot=10).estimate, abs=1e-12)
    assert diff.low > 0  # A is clearly better here
    same = paired_auc_interval(labels, a, a, n_boot=200)
    assert same.low == same.high == same.estimate == 0.0
    # pairing removes the variance the two share: narrower than the two unpaired intervals
    b_ci = auc_interval(labels, b, n_boot=1000)
    assert diff.high - diff.low < (ci.high - ci.low) + (b_ci.high - b_ci.low)


def test_bad_input():
    with pytest.raises(AcglabError, match="needs both classes"):
        auc_interval([FAKE, FAKE, FAKE], [0.1, 0.2, 0.3])
    with pytest.raises(AcglabError, match=r"must be \(4,\) or \(runs, 4\)"):
        auc_interval([FAKE, REAL, FAKE, REAL], [0.1, 0.2, 0.3])
    with pytest.raises(AcglabError, match="NaN"):
        paired_auc_interval([FAKE, REAL], [0.1, np.nan], [0.1, 0.2])
