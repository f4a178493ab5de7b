"""Reconstruction loss over real samples (thesis eqs. 2.2, 2.5)."""

from __future__ import annotations

import torch

from acglab.losses.labels import LossInputError, real_mask


def real_l1_loss(recon: torch.Tensor, x: torch.Tensor, labels) -> torch.Tensor:
    r"""L1 reconstruction error of the real samples (thesis eq. 2.5).

    .. math:: \mathcal L_r = \frac{1}{|R|} \sum_{i \in R} \frac{1}{3HW} \|\hat x_i - x_i\|_1

    recon, x: (B, 3, H, W) in the same (normalised) space; labels (B,), 1 = real. The per-image
    norm is divided by the number of values 3HW, as in RECCE's and the companion code's
    ``mean(|recon - x|)`` over the real samples, so the weight lambda_r = 0.1 does not depend on
    the image size. Only real faces are reconstructed: the autoencoder models real faces and
    fails on forged regions (thesis section 2.1). A batch without real samples gives 0 (kept in
    the graph, so backward still works).
    """
    if recon.shape != x.shape:
        raise LossInputError(f"reconstruction {tuple(recon.shape)} and input {tuple(x.shape)} differ in shape")
    real = real_mask(labels, x.shape[0], x.device)
    if not bool(real.any()):
        return recon.sum() * 0.0
    return (recon[real].float() - x[real].float()).abs().mean()


def contrastive_reconstruction_loss(recon: torch.Tensor, x: torch.Tensor, labels, margin: float = 1.0) -> torch.Tensor:
    r"""The contrastive reconstruction loss of thesis eqs. 1.3-1.4.

    .. math:: D_w = \|\hat x - x\|_2, \qquad
              \mathcal L_{rec} = \frac1N \sum_i y_i D_w^2 + (1 - y_i) \max(m - D_w, 0)^2

    with :math:`y_i = 1` for a real image: real images are pulled towards a perfect
    reconstruction, fakes pushed to a reconstruction error of at least the margin :math:`m`
    (a soft constraint, where eq. 2.5 simply leaves the fakes out).
    """
    if recon.shape != x.shape:
        raise LossInputError(f"reconstruction {tuple(recon.shape)} and input {tuple(x.shape)} differ in shape")
    real = real_mask(labels, x.shape[0], x.device).float()
    return contrastive_terms((recon.float() - x.float()).flatten(1).norm(dim=1), real, margin).mean()


def contrastive_terms(d: torch.Tensor, real: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """The summands of eq. 1.4 for reconstruction errors ``d`` and real indicators ``real`` (1 = real):
    ``real * d**2 + (1 - real) * max(margin - d, 0)**2``."""
    return real * d.pow(2) + (1 - real) * (margin - d).clamp(min=0).pow(2)
