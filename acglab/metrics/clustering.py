"""Scores of a clustering against known labels: accuracy under the best matching of clusters to
labels (Hungarian algorithm) and normalised mutual information."""

from __future__ import annotations

import numpy as np


def contingency(labels: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """``C[i, j]`` = images of cluster ``i`` with label ``j`` (rows: clusters, columns: labels,
    each in order of its sorted values)."""
    _, y = np.unique(labels, return_inverse=True)
    _, c = np.unique(clusters, return_inverse=True)
    table = np.zeros((c.max() + 1, y.max() + 1), dtype=np.int64)
    np.add.at(table, (c, y), 1)
    return table


def cluster_accuracy(labels, clusters) -> float:
    """The share of images whose cluster is matched to their label, under the one-to-one matching
    of clusters to labels that maximises it (``scipy.optimize.linear_sum_assignment``). With more
    clusters than labels the unmatched clusters count as wrong."""
    from scipy.optimize import linear_sum_assignment

    labels, clusters = np.asarray(labels), np.asarray(clusters)
    if labels.shape != clusters.shape or labels.ndim != 1 or not len(labels):
        raise ValueError("labels and clusters must be 1-D arrays of the same, non-zero length")
    table = contingency(labels, clusters)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / len(labels))


def normalized_mutual_info(labels, clusters) -> float:
    """NMI with the arithmetic-mean normalisation (scikit-learn's default)."""
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(labels, clusters))
