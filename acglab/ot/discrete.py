r"""Exact discrete optimal transport, the reference the semi-discrete solver is compared with.

Between :math:`\sum_k a_k \delta_{x_k}` and :math:`\sum_i b_i \delta_{y_i}` Kantorovich's problem
(thesis eq. B.4) is a linear programme over plans :math:`P \ge 0` with marginals a and b. Its
optimum sits at a vertex, with at most M + N - 1 non-zero entries, so a few sources may have
their mass *split* between targets: no Monge map does that (:func:`split_sources`).
"""

from __future__ import annotations

import numpy as np

from acglab.ot.targets import OTInputError


def discrete_ot_plan(x, a, y, b) -> tuple[np.ndarray, float]:
    r"""Exact discrete (Kantorovich) OT between :math:`\sum_k a_k \delta_{x_k}` and
    :math:`\sum_i b_i \delta_{y_i}` for the cost :math:`c(x, y) = |x - y|^2 / 2` (thesis eq. B.4
    as a linear programme), solved by POT's network simplex ``ot.emd``.

    x: (M, d), a: (M,), y: (N, d), b: (N,), each weight vector summing to 1. Returns the plan
    (M, N) and its cost :math:`\sum_{k,i} P_{ki}\, c(x_k, y_i)`.
    """
    import ot

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise OTInputError(f"need points (M, d) and (N, d) of one dimension, got {x.shape} and {y.shape}")
    if a.shape != (len(x),) or b.shape != (len(y),):
        raise OTInputError(f"weights must have shapes ({len(x)},) and ({len(y)},), got {a.shape} and {b.shape}")
    if abs(a.sum() - b.sum()) > 1e-9 or (a < 0).any() or (b < 0).any():
        raise OTInputError("weights must be non-negative with equal totals (normalise both to 1)")
    cost = ot.dist(x, y) / 2  # squared Euclidean / 2
    plan = ot.emd(a, b, cost)
    return plan, float((plan * cost).sum())


def split_sources(plan: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """Indices of the source points whose mass the plan splits between two or more targets
    (entries below ``rtol`` times the row's mass count as zero). plan: (M, N) -> (S,) int."""
    plan = np.asarray(plan, dtype=np.float64)
    row = plan.sum(axis=1, keepdims=True)
    return np.flatnonzero((plan > rtol * row).sum(axis=1) > 1)
