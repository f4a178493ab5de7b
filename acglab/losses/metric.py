"""The metric loss on pooled features (thesis eqs. 2.3, 2.4, appendix A.3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from acglab.losses.labels import LossInputError, real_mask


def cosine_distance_matrix(features: torch.Tensor) -> torch.Tensor:
    r"""Pairwise cosine distances (thesis eq. 2.4), (B, C) -> (B, B).

    .. math:: d(a, b) = \frac{1}{2}\left(1 - \frac{a \cdot b}{\|a\|_2 \|b\|_2}\right) \in [0, 1]

    Vectors are normalised with ``F.normalize`` (norm clamped at 1e-12), so a zero vector has
    distance 1/2 to everything.
    """
    if features.ndim != 2:
        raise LossInputError(f"pooled features must have shape (B, C), got {tuple(features.shape)}")
    u = F.normalize(features.float(), p=2, dim=1)
    return (1 - u @ u.T) / 2


def metric_loss(features: torch.Tensor, labels) -> torch.Tensor:
    r"""Metric loss on one level of pooled features (thesis eq. 2.3).

    .. math:: \mathcal L_m = \frac{1}{N_{RR}} \sum_{i, j \in R,\ i \ne j} d(\bar F_i, \bar F_j)
              - \frac{1}{N_{RF}} \sum_{i \in R,\ j \in F} d(\bar F_i, \bar F_j)

    features (B, C), labels (B,) with 1 = real. The first term pulls real samples together,
    the second pushes real and fake apart. Pairs i = j are left out of the real-real term
    (their distance is 0), as in RECCE's and the companion code's ``MLLoss``; ordered pairs are
    counted, N_RR = |R|(|R| - 1), N_RF = |R||F| (the means equal those over unordered pairs).
    Those implementations add the constant 1 and clamp at 0, which changes no gradient (the
    clamp is never active since d is in [0, 1]); eq. 2.3 is returned as it stands, in [-1, 1].

    A term without pairs is 0: fewer than two real samples leave only the real-fake term, a batch
    without fakes only the real-real term, a batch without reals gives 0. The result stays in the
    graph either way.
    """
    d = cosine_distance_matrix(features)
    real = real_mask(labels, features.shape[0], features.device)
    fake = ~real
    eye = torch.eye(len(real), dtype=torch.bool, device=features.device)
    rr = real[:, None] & real[None, :] & ~eye
    rf = real[:, None] & fake[None, :]
    loss = d.sum() * 0.0
    if bool(rr.any()):
        loss = loss + d[rr].mean()
    if bool(rf.any()):
        loss = loss - d[rf].mean()
    return loss


def multi_level_metric_loss(levels: list[torch.Tensor], labels) -> torch.Tensor:
    """Mean of :func:`metric_loss` over the pooled levels (RECCE: one encoder and two decoder
    levels). The companion code sums its levels instead; the mean keeps lambda_m independent of
    how many levels a model has. An empty list gives 0."""
    if not levels:
        return torch.zeros(())
    return torch.stack([metric_loss(f, labels) for f in levels]).mean()
