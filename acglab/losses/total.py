"""The total training loss of ACG (thesis eq. 2.7)."""

from __future__ import annotations

import torch

from acglab.losses.classification import bce_loss
from acglab.losses.metric import multi_level_metric_loss
from acglab.losses.reconstruction import real_l1_loss


def acg_loss(
    out, x: torch.Tensor, labels, lambda_r: float = 0.1, lambda_m: float = 0.1, flood: float | None = None
) -> tuple[torch.Tensor, dict]:
    r"""L = L_cls + lambda_r L_r + lambda_m L_m (thesis eq. 2.7; lambda_1 = lambda_2 = 0.1).

    out: :class:`~acglab.models.outputs.ACGOutput`; x: (B, 3, H, W) the *clean* normalised
    input; labels (B,), 1 = real. L_cls: :func:`bce_loss` (flooded when ``flood`` is given, as the
    companion code floods the classification term only); L_r: :func:`real_l1_loss` on
    ``out.recon`` (0 when the model has no decoder or the batch no real sample); L_m:
    :func:`multi_level_metric_loss` on ``out.pooled`` (0 when empty; undefined terms are 0).

    OT-generated training features (``out.extra``, the OT option ``extra_points``) join the
    batch of L_cls: its mean runs over the B samples and the m generated points together.

    Returns ``(total, parts)`` with ``parts = {"cls", "rec", "metric", "total"}`` as floats.
    """
    if out.extra is not None:
        extra_logits, extra_labels = out.extra
        batch_labels = torch.as_tensor(labels, device=out.logits.device).long()
        cls = bce_loss(
            torch.cat([out.logits, extra_logits.to(out.logits.dtype)]),
            torch.cat([batch_labels, extra_labels.to(batch_labels.device)]),
            flood,
        )
    else:
        cls = bce_loss(out, labels, flood)
    rec = real_l1_loss(out.recon, x, labels) if out.recon is not None else cls.new_zeros(())
    metric = multi_level_metric_loss(out.pooled, labels).to(cls.device) if out.pooled else cls.new_zeros(())
    total = cls + lambda_r * rec.float() + lambda_m * metric
    parts = {
        "cls": float(cls.detach()),
        "rec": float(rec.detach()),
        "metric": float(metric.detach()),
        "total": float(total.detach()),
    }
    return total, parts
