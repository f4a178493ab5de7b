"""The classifier head and global pooling (thesis section 2.3)."""

from __future__ import annotations

import torch
from torch import nn


def global_average_pool(x: torch.Tensor) -> torch.Tensor:
    r"""Global average pooling :math:`\bar F_c = \frac{1}{hw}\sum_{u,v} F_{c,u,v}`, (B, C, h, w) -> (B, C).

    The vectors :math:`\bar F` of the metric loss (thesis eq. 2.3) and the bottleneck feature.
    """
    return x.mean(dim=(2, 3))


class FakeLogitHead(nn.Module):
    """Dropout -> linear map to one logit per image, the logit of the class FAKE.

    (B, D) -> (B,); ``sigmoid`` of it is P(fake), trained with binary cross-entropy (thesis
    eq. 1.2, target 1 for fakes). RECCE and the thesis use dropout 0.2 before the linear layer.
    """

    def __init__(self, in_features: int, drop_rate: float = 0.2):
        super().__init__()
        self.dropout = nn.Dropout(drop_rate)
        self.fc = nn.Linear(in_features, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(features)).squeeze(1)
