"""Detection metrics of one binary score per sample: ACC, ROC, AUC and EER (thesis §3.1).

Conventions
-----------
Labels follow :mod:`acglab.data.samples`: 1 = real, 0 = fake. A score is the probability
(or any monotone confidence) of the *positive class* ``pos_label``; the default positive class
is **fake** (``pos_label=0``), so ``score = P(fake)``, as in the ACG detector, whose output is
the probability that a face is forged. Pass ``pos_label=1`` for scores of ``P(real)``.

A sample is called positive when ``score >= threshold``. With P positives and N negatives,
at threshold t

    TPR(t) = #{positives with s >= t} / P,   FPR(t) = #{negatives with s >= t} / N,
    FNR(t) = 1 - TPR(t).

AUC and EER need both classes: with one class only they are undefined and returned as NaN
(:func:`roc_curve` raises instead). NaN or infinite scores raise :class:`ScoreError`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from acglab.errors import ScoreError
from acglab.labels import FAKE, REAL


class RocCurve(NamedTuple):
    """ROC points in order of decreasing threshold, from (0, 0) at ``thresholds[0] = inf`` to
    (1, 1); arrays of shape (K + 1,) for K distinct scores."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


def check_scores(labels, scores, pos_label: int = FAKE) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert to ``(positive, scores)``: a bool array ``labels == pos_label`` and
    float64 scores, both of shape (n,).

    Raises
    ------
    ScoreError
        Not 1-D, lengths differ, empty, labels outside {0, 1}, ``pos_label`` not 0 or 1, or a
        score that is NaN or infinite.
    """
    if pos_label not in (FAKE, REAL):
        raise ScoreError(f"pos_label must be {FAKE} (fake) or {REAL} (real), got {pos_label!r}")
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    if labels.ndim != 1 or scores.ndim != 1 or len(labels) != len(scores):
        raise ScoreError(f"labels and scores must be 1-D of equal length, got shapes {labels.shape} and {scores.shape}")
    if len(labels) == 0:
        raise ScoreError("no samples to evaluate")
    if not np.isin(labels, (FAKE, REAL)).all():
        raise ScoreError(
            f"labels must be {REAL} (real) or {FAKE} (fake), found "
            f"{sorted(set(np.unique(labels).tolist()) - {FAKE, REAL})[:5]}"
        )
    bad = ~np.isfinite(scores)
    if bad.any():
        raise ScoreError(
            f"{int(bad.sum())} of {len(scores)} scores are NaN or infinite "
            f"(first at index {int(np.flatnonzero(bad)[0])}); check the model's outputs"
        )
    return labels == pos_label, scores


def accuracy(labels, scores, threshold: float = 0.5, pos_label: int = FAKE) -> float:
    """ACC = (1/n) sum_i 1[(s_i >= threshold) == (y_i == pos_label)], a float in [0, 1]."""
    positive, scores = check_scores(labels, scores, pos_label)
    return float(np.mean((scores >= threshold) == positive))


def roc_curve(labels, scores, pos_label: int = FAKE) -> RocCurve:
    """The full ROC curve: (FPR(t), TPR(t)) at every distinct score t, plus (0, 0) at t = inf.

    Sorting the n scores in decreasing order and cumulating positives gives every point in
    O(n log n); tied scores form a single point. No point is dropped, so the trapezoid rule
    over it is exact (see :func:`roc_auc`).

    Raises
    ------
    ScoreError
        When only one class is present (FPR or TPR would divide by zero).
    """
    positive, scores = check_scores(labels, scores, pos_label)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ScoreError(f"the ROC curve needs both classes, got {n_pos} positive and {n_neg} negative samples")
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    true_pos = np.cumsum(positive[order])[last_of_tie]
    false_pos = last_of_tie + 1 - true_pos
    return RocCurve(
        fpr=np.r_[0.0, false_pos / n_neg], tpr=np.r_[0.0, true_pos / n_pos], thresholds=np.r_[np.inf, s[last_of_tie]]
    )


def _both_classes(labels, scores, pos_label: int) -> bool:
    positive, _ = check_scores(labels, scores, pos_label)
    return 0 < int(positive.sum()) < len(positive)


def roc_auc(labels, scores, pos_label: int = FAKE) -> float:
    """Area under the ROC curve; NaN with one class only.

    AUC = (1 / (P N)) sum_{i positive} sum_{j negative} (1[s_i > s_j] + 1/2 1[s_i = s_j]),

    the probability that a random positive outscores a random negative (ties count half,
    Mann-Whitney U / (P N)); it equals the trapezoid area under :func:`roc_curve`.
    """
    if not _both_classes(labels, scores, pos_label):
        return math.nan
    curve = roc_curve(labels, scores, pos_label)
    return float(np.trapezoid(curve.tpr, curve.fpr))


def equal_error_rate(labels, scores, pos_label: int = FAKE) -> tuple[float, float]:
    """EER and its threshold: where the ROC curve, linearly interpolated, has FPR = FNR.

    Along the ROC points k = 0..K (decreasing threshold), d_k = FPR_k - FNR_k rises strictly
    from -1 to 1. With k the last point where d_k < 0 and a = -d_k / (d_{k+1} - d_k),

        EER = FPR_k + a (FPR_{k+1} - FPR_k)  (= FNR at the same point),
        threshold = t_k + a (t_{k+1} - t_k),

    where t_0 = inf is replaced by t_1 (the crossing then lies on the first segment and the
    highest score is the operating threshold). Returns ``(nan, nan)`` with one class only.
    """
    if not _both_classes(labels, scores, pos_label):
        return math.nan, math.nan
    fpr, tpr, thresholds = roc_curve(labels, scores, pos_label)
    diff = fpr - (1.0 - tpr)
    k = int(np.flatnonzero(diff < 0)[-1])
    a = -diff[k] / (diff[k + 1] - diff[k])
    eer = fpr[k] + a * (fpr[k + 1] - fpr[k])
    t_k = thresholds[k] if k > 0 else thresholds[1]
    threshold = t_k + a * (thresholds[k + 1] - t_k)
    return float(eer), float(threshold)
