"""Validation of the discrete target measure of a semi-discrete OT problem."""

from __future__ import annotations

import numpy as np
import torch

from acglab.errors import OTInputError


def as_targets(y, device="cpu", dtype=torch.float32) -> torch.Tensor:
    """Targets as a (N, d) tensor; rejects NaN/inf, wrong shapes and N < 2."""
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y)
    if y.ndim != 2:
        raise OTInputError(f"targets must be a 2-D array (N, d), got shape {tuple(y.shape)}")
    if y.shape[0] < 2:
        raise OTInputError(
            f"need at least 2 targets, got {y.shape[0]} (one target takes all the mass: nothing to solve)"
        )
    if y.shape[1] < 1:
        raise OTInputError("targets have dimension 0")
    if not torch.isfinite(y).all():
        bad = int((~torch.isfinite(y)).any(dim=1).sum())
        raise OTInputError(f"{bad} target(s) contain NaN or inf")
    return y.to(device=device, dtype=dtype)


def as_weights(w, n: int, device="cpu") -> torch.Tensor:
    """Target weights (N,) float64, uniform when ``None``; must be positive and sum to 1."""
    if w is None:
        return torch.full((n,), 1.0 / n, dtype=torch.float64, device=device)
    w = torch.as_tensor(np.asarray(w) if not torch.is_tensor(w) else w, dtype=torch.float64).to(device)
    if w.shape != (n,):
        raise OTInputError(f"weights must have shape ({n},), got {tuple(w.shape)}")
    if not torch.isfinite(w).all() or (w <= 0).any():
        raise OTInputError("weights must be finite and positive")
    if abs(float(w.sum()) - 1.0) > 1e-6:
        raise OTInputError(f"weights must sum to 1, got {float(w.sum()):.6g} (normalise them first)")
    return w


def merge_duplicates(y: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Merge identical targets, adding their weights.

    Two identical targets have identical affine pieces up to their heights, so only one of
    them can own a cell: the problem is only well posed after merging them. Returns the unique
    targets (U, d), their weights (U,) and ``inverse`` (N,) mapping each original target to its
    unique row.
    """
    uniq, inverse = torch.unique(y, dim=0, return_inverse=True)
    if uniq.shape[0] == y.shape[0]:
        return y, w, torch.arange(y.shape[0], device=y.device)
    wu = torch.zeros(uniq.shape[0], dtype=w.dtype, device=w.device).index_add_(0, inverse, w)
    return uniq, wu, inverse


def standardise(codes, radius: float = 1.0) -> tuple[np.ndarray, np.ndarray, float]:
    """``(z, mean, scale)`` with ``z = (codes - mean) / scale`` centred and of RMS norm
    ``radius``: the dihedral angles of an OT map depend on its targets' scale
    (:mod:`acglab.ot.singular`), so a threshold means the same for every latent model once its
    codes are standardised (as the detector's OT module does, option ``code_radius``). Codes
    that are all equal get ``scale = 1``."""
    codes = np.asarray(codes, dtype=np.float64)
    mean = codes.mean(0)
    rms = float(np.sqrt(((codes - mean) ** 2).sum(1).mean()))
    scale = rms / radius if rms > 0 else 1.0
    return (codes - mean) / scale, mean, scale


def random_orthonormal(rows: int, cols: int, seed: int) -> torch.Tensor:
    """A (rows, cols) matrix with orthonormal columns (QR of a seeded Gaussian matrix)."""
    g = torch.Generator().manual_seed(int(seed))
    q, r = torch.linalg.qr(torch.randn(rows, cols, generator=g, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))).to(torch.float32)
