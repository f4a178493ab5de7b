"""Reconstruction residual maps: where the denoising autoencoder fails to rebuild a face.

The ACG autoencoder reconstructs its input, ``x_hat = F(x)`` (thesis eq. 2.1; at inference no
noise is added, so the input is the clean image), and is fine-tuned to reconstruct real faces
only (eq. 2.5: L_r = (1/|R|) sum_{i in R} ||x_hat_i - x_i||_1). The residual map is the
per-pixel term of that L1 loss, in image space and averaged over the colour channels:

    r(u, v) = (1/3) sum_c | (x_c(u, v) s_c + m_c) - (x_hat_c(u, v) s_c + m_c) |
            = (1/3) sum_c s_c | x_c(u, v) - x_hat_c(u, v) |,

with ``m``, ``s`` the per-channel mean and std of the normalisation (pixel values in [0, 1]).
Large values mark regions the real-face autoencoder cannot explain.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from acglab.errors import AcglabError


def normalization_stats(normalization) -> tuple[np.ndarray, np.ndarray]:
    """``(mean (3,), std (3,))`` as float64 from a model's ``.normalization``: a ``(mean, std)``
    pair, a dict with ``"mean"`` and ``"std"``, or an object with those attributes."""
    if isinstance(normalization, dict):
        mean, std = normalization["mean"], normalization["std"]
    elif (
        hasattr(normalization, "mean")
        and hasattr(normalization, "std")
        and not isinstance(normalization, (tuple, list))
    ):
        mean, std = normalization.mean, normalization.std
    else:
        mean, std = normalization
    mean = np.broadcast_to(np.asarray(mean, dtype=np.float64), (3,)).copy()
    std = np.broadcast_to(np.asarray(std, dtype=np.float64), (3,)).copy()
    return mean, std


def denormalize(x: torch.Tensor, mean, std) -> torch.Tensor:
    """Image space from normalised tensors: ``x * s_c + m_c`` per channel, for (3, H, W) or
    (B, 3, H, W); the result has the same shape (pixel values about in [0, 1])."""
    m = torch.as_tensor(np.asarray(mean), dtype=x.dtype, device=x.device).reshape(3, 1, 1)
    s = torch.as_tensor(np.asarray(std), dtype=x.dtype, device=x.device).reshape(3, 1, 1)
    return x * s + m


def reconstruction_residual(x: torch.Tensor, recon: torch.Tensor, mean, std) -> np.ndarray:
    """Per-pixel residual r = mean_c |denorm(x)_c - denorm(x_hat)_c| (module docstring).

    Parameters
    ----------
    x, recon : (B, 3, H, W) normalised images and their reconstructions (same space)
    mean, std : (3,) normalisation statistics

    Returns
    -------
    np.ndarray, shape (B, H, W), float64, >= 0
    """
    if x.shape != recon.shape or x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(
            f"expected x and recon of equal shape (B, 3, H, W), got {tuple(x.shape)} and {tuple(recon.shape)}"
        )
    x64, r64 = x.detach().to("cpu", torch.float64), recon.detach().to("cpu", torch.float64)
    diff = (denormalize(x64, mean, std) - denormalize(r64, mean, std)).abs()
    return diff.mean(dim=1).numpy()


def reconstruct(model: nn.Module, x: torch.Tensor):
    """The model's output on a batch in eval mode, without gradients (mode restored after)."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return model(x)
    finally:
        model.train(was_training)


def residual_map(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """The residual map of one normalised image: (3, H, W) or (1, 3, H, W) -> (H, W) float64.

    Uses ``model.normalization`` to return to image space.

    Raises
    ------
    AcglabError
        The model has no decoder (``recon`` is ``None``, e.g. arch ``"backbone"``).
    """
    from acglab.explain.gradcam import as_batch

    x = as_batch(x)
    out = reconstruct(model, x)
    recon = getattr(out, "recon", None)
    if recon is None:
        arch = (getattr(model, "config", None) or {}).get("arch", type(model).__name__)
        raise AcglabError(f"model {arch!r} has no autoencoder, so it has no reconstruction residual; use an acg model")
    mean, std = normalization_stats(model.normalization)
    return reconstruction_residual(x, recon, mean, std)[0]
