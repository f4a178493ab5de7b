"""Binary cross-entropy on the logit of FAKE (thesis eq. 1.2, section 2.3) and flooding."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from acglab.losses.labels import LossInputError, real_mask


def flooded(loss: torch.Tensor, level: float | None) -> torch.Tensor:
    r"""Flooding (Ishida et al., 2020): :math:`|L - b| + b`. Equal to L above the flood level b;
    below it the gradient is reversed, so the training loss hovers around b instead of reaching
    0. The companion code floods the classification loss at b = 0.04. ``None`` returns L."""
    if level is None:
        return loss
    return (loss - level).abs() + level


def bce_loss(out, labels, flood: float | None = None) -> torch.Tensor:
    r"""Binary cross-entropy of the fake logit (thesis eq. 1.2), mean over the batch.

    .. math:: \mathcal L_{cls} = -\frac{1}{B}\sum_i t_i \log \sigma(s_i) + (1 - t_i)\log(1 - \sigma(s_i)),
              \qquad t_i = 1 - \text{label}_i

    ``out``: an :class:`~acglab.models.outputs.ACGOutput` or the logits (B,) themselves; labels
    (B,) with 1 = real, so the target of a fake is 1 and the score sigmoid(s) is P(fake).
    ``flood``: optional flood level (:func:`flooded`).
    """
    logits = out if torch.is_tensor(out) else out.logits
    if logits.ndim != 1:
        raise LossInputError(f"logits must have shape (B,), got {tuple(logits.shape)}")
    target = (~real_mask(labels, logits.shape[0], logits.device)).to(torch.float32)
    return flooded(F.binary_cross_entropy_with_logits(logits.float(), target), flood)
