"""Bootstrap confidence intervals of the AUC, for one run, several seeds, and paired comparisons.

The test part of celebdf-mini holds 79 videos: an AUC measured on it moves by several points
between two draws of the same population, so a difference between two detectors means little
without an interval. The unit resampled is the scored sample (the video, for video AUC): a
bootstrap replicate draws ``n`` of them with replacement and recomputes the statistic
(Efron & Tibshirani, 1993, ch. 13, percentile interval).

- :func:`auc_interval`: the AUC of one score vector, or the mean AUC of several runs scored on
  the same samples (seeds of one configuration), each replicate using the same draw for every
  run, so the interval covers the test sample's variability of the seed mean.
- :func:`paired_auc_interval`: the difference of mean AUC between two configurations scored on
  the same samples (A - B); every replicate draws one set of samples for both, so what the two
  share (easy and hard videos) cancels: a paired interval, much narrower than the two separate
  ones, is what says whether A beats B on this test set.

Replicates with one class only (possible with few samples) are drawn again.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from acglab.errors import AcglabError
from acglab.labels import FAKE


class Interval(NamedTuple):
    """A point estimate with its percentile bootstrap interval at ``level``."""

    estimate: float
    low: float
    high: float
    level: float
    n_boot: int

    def __str__(self) -> str:
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}]"


def _runs(scores, n: int, name: str) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    s = s[None] if s.ndim == 1 else s
    if s.ndim != 2 or s.shape[1] != n:
        raise AcglabError(f"{name} must be ({n},) or (runs, {n}) scores of the labelled samples, got {s.shape}")
    if not np.isfinite(s).all():
        raise AcglabError(f"{name} holds NaN or infinite scores")
    return s


def auc_matrix(positive: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """AUC of every row of ``scores`` (..., n) against the boolean ``positive`` (..., n) rows:
    the Mann-Whitney statistic from mid-ranks, U / (P N), ties counting half."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=-1)
    p = positive.sum(-1)
    q = positive.shape[-1] - p
    return ((ranks * positive).sum(-1) - p * (p + 1) / 2) / (p * q)


def _draws(positive: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) indices of replicates that hold both classes."""
    n = len(positive)
    out = np.empty((0, n), dtype=np.int64)
    while len(out) < n_boot:
        idx = rng.integers(0, n, size=(n_boot, n))
        k = positive[idx].sum(1)
        out = np.concatenate([out, idx[(k > 0) & (k < n)]])
    return out[:n_boot]


def _check(labels, pos_label):
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) < 2:
        raise AcglabError(f"labels must be a vector of at least 2 samples, got shape {y.shape}")
    positive = y == pos_label
    if positive.all() or not positive.any():
        raise AcglabError("the AUC needs both classes among the labelled samples; only one is present")
    return positive


def _interval(estimate, replicates, level, n_boot) -> Interval:
    alpha = (1 - level) / 2
    low, high = np.quantile(replicates, [alpha, 1 - alpha])
    return Interval(float(estimate), float(low), float(high), float(level), int(n_boot))


def _mean_aucs(positive: np.ndarray, runs: np.ndarray, idx: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean AUC over the runs (runs, n) on all samples, and on each replicate of ``idx`` (n_boot, n)."""
    estimate = auc_matrix(np.broadcast_to(positive, runs.shape), runs).mean()
    replicates = auc_matrix(positive[idx][:, None, :], runs[:, idx].transpose(1, 0, 2)).mean(1)
    return float(estimate), replicates


def auc_interval(
    labels, scores, n_boot: int = 2000, level: float = 0.95, seed: int = 0, pos_label: int = FAKE
) -> Interval:
    """Mean AUC of the runs in ``scores`` ((n,) or (runs, n), all on the samples ``labels``)
    with its percentile bootstrap interval over the samples (module notes)."""
    positive = _check(labels, pos_label)
    s = _runs(scores, len(positive), "scores")
    estimate, reps = _mean_aucs(positive, s, _draws(positive, n_boot, np.random.default_rng(seed)))
    return _interval(estimate, reps, level, n_boot)


def paired_auc_interval(
    labels, scores_a, scores_b, n_boot: int = 2000, level: float = 0.95, seed: int = 0, pos_label: int = FAKE
) -> Interval:
    """Mean AUC of the runs ``scores_a`` minus that of ``scores_b`` (each (n,) or (runs, n) on the
    same samples), with its paired percentile bootstrap interval (module notes)."""
    positive = _check(labels, pos_label)
    a, b = _runs(scores_a, len(positive), "scores_a"), _runs(scores_b, len(positive), "scores_b")
    idx = _draws(positive, n_boot, np.random.default_rng(seed))
    (est_a, reps_a), (est_b, reps_b) = _mean_aucs(positive, a, idx), _mean_aucs(positive, b, idx)
    return _interval(est_a - est_b, reps_a - reps_b, level, n_boot)
