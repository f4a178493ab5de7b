"""Generating new codes from a fitted semi-discrete OT map (AE-OT), and naive baselines.

AE-OT's generator draws source samples, finds for each its best power cell i and the next
k - 1 cells j, and keeps the pairs whose facets meet at a dihedral angle below the threshold
(i.e. the face W_i | W_j is not in the singular set). A new code is the piecewise-linear
interpolation (1 - w) y_i + w y_j (thesis section 2.2, eq. 2.6 extended by interpolation).
Because pairs across the singular set are never interpolated, new codes stay on the support
of the data (no mode mixing), while the naive generators below do not care.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from acglab.ot.power import topk_cells
from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD, dihedral_angles
from acglab.ot.sources import SobolSource
from acglab.ot.targets import OTInputError, as_targets

#: AE-OT's defaults: candidates per sample and interpolation weight ("rec_gen_distance")
DEFAULT_TOPK = 20
DEFAULT_WEIGHT = 0.75


def _check_generation(n, w=None, k=None, oversample=None, threshold=None) -> None:
    """Parameter checks shared by the generators (one clear error, no silent changes)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise OTInputError(f"n must be a positive integer, got {n!r}")
    if w is not None and not (0.0 <= float(w) <= 1.0):
        raise OTInputError(f"w must be in [0, 1], got {w!r}")
    if k is not None and (not isinstance(k, int) or k < 2):
        raise OTInputError(f"k must be an integer >= 2 (the best cell and at least one neighbour), got {k!r}")
    if oversample is not None and (not isinstance(oversample, int) or oversample < 1):
        raise OTInputError(f"oversample must be a positive integer, got {oversample!r}")
    if threshold is not None and not (0.0 <= float(threshold) <= 3.1416):
        raise OTInputError(f"threshold is an angle in radians in [0, pi], got {threshold!r}")


@dataclass
class Generated:
    """Generated codes (n, d) with the pairs of target indices (n, 2) and weights (n,) used."""

    codes: torch.Tensor
    pairs: torch.Tensor
    weights: torch.Tensor


def interpolate(y: torch.Tensor, pairs: torch.Tensor, w) -> torch.Tensor:
    """(1 - w) y_i + w y_j for each pair (i, j): (P, 2) -> (P, d)."""
    w = torch.as_tensor(w, dtype=y.dtype, device=y.device)
    if w.ndim == 1:
        w = w[:, None]
    return (1 - w) * y[pairs[:, 0]] + w * y[pairs[:, 1]]


def admissible_pairs(
    x: torch.Tensor, y: torch.Tensor, h: torch.Tensor, k: int = DEFAULT_TOPK, threshold: float = DEFAULT_ANGLE_THRESHOLD
) -> torch.Tensor:
    """Pairs (best cell i, neighbour j) of the samples x whose facets meet below the angle
    threshold: the pairs AE-OT may interpolate. Returns unique pairs (P, 2), best cell first."""
    k = max(2, min(k, y.shape[0]))
    _, cells = topk_cells(x, y, h, k)
    i = cells[:, :1].expand(-1, k - 1).reshape(-1)
    j = cells[:, 1:].reshape(-1)
    ok = dihedral_angles(y, i, j) <= threshold
    return torch.unique(torch.stack([i[ok], j[ok]], 1), dim=0)


def ot_generate(
    sdot,
    n: int,
    k: int = DEFAULT_TOPK,
    threshold: float = DEFAULT_ANGLE_THRESHOLD,
    w: float = DEFAULT_WEIGHT,
    oversample: int = 3,
    seed: int | None = None,
    return_pairs: bool = False,
):
    """n new codes from a fitted :class:`~acglab.ot.solver.SemiDiscreteOT` (AE-OT generator).

    Draws ``oversample * n`` source samples (an independent Sobol stream), collects the
    admissible pairs (best cell, one of the next k - 1 cells, dihedral angle <= threshold), and
    interpolates n of them, chosen at random (with replacement only when fewer exist), with
    weight w. Returns codes (n, d), or :class:`Generated` with ``return_pairs=True``.
    """
    _check_generation(n, w, k, oversample, threshold)
    seed = sdot.seed + 31337 if seed is None else seed
    x = SobolSource(sdot.dim, sdot.source, seed).draw(max(n * oversample, 64), sdot.device)
    y = sdot.targets
    h = sdot.heights.to(y.dtype)
    pairs = admissible_pairs(x, y, h, k, threshold)
    if pairs.shape[0] == 0:
        raise OTInputError("no admissible pair below the angle threshold: raise the threshold or k")
    g = torch.Generator(device="cpu").manual_seed(seed)
    replace = pairs.shape[0] < n
    pick = (
        torch.randint(pairs.shape[0], (n,), generator=g) if replace else torch.randperm(pairs.shape[0], generator=g)[:n]
    ).to(pairs.device)
    chosen = pairs[pick]
    weights = torch.full((n,), float(w), dtype=y.dtype, device=y.device)
    codes = interpolate(y, chosen, weights)
    return Generated(codes, chosen, weights) if return_pairs else codes


def naive_pairs_generate(y: torch.Tensor, n: int, w: float | None = None, seed: int = 0) -> torch.Tensor:
    """Interpolate random pairs of targets, ignoring the singular set (mode mixing baseline).

    ``w``: fixed weight, or uniform in [0, 1] when ``None``.
    """
    _check_generation(n, w)
    y = as_targets(y, y.device, y.dtype) if torch.is_tensor(y) else as_targets(y)
    g = torch.Generator().manual_seed(seed)
    pairs = torch.randint(y.shape[0], (n, 2), generator=g).to(y.device)
    weights = torch.rand(n, generator=g) if w is None else torch.full((n,), float(w))
    return interpolate(y, pairs, weights.to(y.device, y.dtype))


def gaussian_generate(y: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """Sample a Gaussian fitted to the targets (mean and covariance): the 'continuous latent'
    baseline that fills the gaps between modes. Needs at least two targets."""
    _check_generation(n)
    y = as_targets(y, y.device, y.dtype) if torch.is_tensor(y) else as_targets(y)
    g = torch.Generator().manual_seed(seed)
    yd = y.to(torch.float64)
    mean = yd.mean(0)
    cov = torch.cov(yd.T).reshape(y.shape[1], y.shape[1]) + 1e-9 * torch.eye(y.shape[1], dtype=torch.float64)
    z = torch.randn(n, y.shape[1], generator=g, dtype=torch.float64)
    return (mean + z @ torch.linalg.cholesky(cov).T).to(y.dtype)
