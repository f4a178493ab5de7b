"""Checks of the labels given to the losses (1 = real, 0 = fake)."""

from __future__ import annotations

import torch

from acglab.errors import LossInputError


def real_mask(labels, batch: int, device) -> torch.Tensor:
    """Boolean mask (B,) of the real samples (label 1) after checking the labels are B zeros/ones."""
    labels = torch.as_tensor(labels, device=device)
    if labels.ndim != 1 or labels.shape[0] != batch:
        raise LossInputError(f"labels must have shape ({batch},), got {tuple(labels.shape)}")
    if labels.numel() and not bool(((labels == 0) | (labels == 1)).all()):
        raise LossInputError("labels must be 1 (real) or 0 (fake)")
    return labels == 1
