"""Power diagrams: the cells of the Brenier potential F(x) = max_i <x, y_i> + h_i.

The semi-discrete OT map of AE-OT (thesis eq. 1.7) sends x to the target y_i whose affine
function <x, y_i> + h_i is largest at x; the set of such x is the power cell W_i(h). All
functions here work in chunks over samples and targets so that N = 100,000 targets in
d = 512 fit in a few GB.
"""

from __future__ import annotations

import torch

#: bytes of float32 scores materialised at once by the chunked routines
DEFAULT_CHUNK_BYTES = 64 * 2**20


def _sample_chunk(n_targets: int, chunk_bytes: int) -> int:
    return max(256, chunk_bytes // (4 * max(1, n_targets)))


def power_scores(x: torch.Tensor, y: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Affine pieces of the Brenier potential, ``<x, y_i> + h_i`` (thesis eq. 1.7).

    x: (M, d) samples, y: (N, d) targets, h: (N,) heights -> (M, N) scores.
    """
    return torch.addmm(h.unsqueeze(0), x, y.T)


def brenier_potential(
    x: torch.Tensor, y: torch.Tensor, h: torch.Tensor, chunk_bytes: int = DEFAULT_CHUNK_BYTES
) -> torch.Tensor:
    """F(x) = max_i <x, y_i> + h_i (thesis eq. 1.7), a convex piecewise-linear function.

    x: (M, d) -> (M,).
    """
    return topk_cells(x, y, h, k=1, chunk_bytes=chunk_bytes)[0][:, 0]


def assign(x: torch.Tensor, y: torch.Tensor, h: torch.Tensor, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> torch.Tensor:
    """Index of the power cell containing each sample: argmax_i <x, y_i> + h_i.

    x: (M, d), y: (N, d), h: (N,) -> (M,) int64. The OT map is ``T(x) = y[assign(x)]``.
    """
    return topk_cells(x, y, h, k=1, chunk_bytes=chunk_bytes)[1][:, 0]


def ot_map(x: torch.Tensor, y: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """The semi-discrete OT map T(x) = grad F(x) = y_{argmax_i <x,y_i>+h_i} (Brenier)."""
    return y[assign(x, y, h)]


def topk_cells(
    x: torch.Tensor,
    y: torch.Tensor,
    h: torch.Tensor,
    k: int,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    target_chunk: int = 65536,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest power scores of each sample and their cell indices, best first.

    Chunks over samples and (for very large N) over targets, merging partial top-k lists,
    so memory stays near ``chunk_bytes``. Returns (values (M, k) float, indices (M, k) long).
    """
    m, n = x.shape[0], y.shape[0]
    k = min(k, n)
    values = torch.empty(m, k, dtype=x.dtype, device=x.device)
    indices = torch.empty(m, k, dtype=torch.long, device=x.device)
    tc = min(n, target_chunk)
    step = _sample_chunk(tc, chunk_bytes)
    for s in range(0, m, step):
        xs = x[s : s + step]
        best_v = best_i = None
        for t in range(0, n, tc):
            sc = power_scores(xs, y[t : t + tc], h[t : t + tc])
            v, i = sc.topk(min(k, sc.shape[1]), dim=1) if k > 1 else sc.max(dim=1, keepdim=True)
            i = i + t
            if best_v is None:
                best_v, best_i = v, i
            else:
                v = torch.cat([best_v, v], 1)
                i = torch.cat([best_i, i], 1)
                best_v, pos = v.topk(k, dim=1)
                best_i = i.gather(1, pos)
        values[s : s + step] = best_v
        indices[s : s + step] = best_i
    return values, indices


def cell_counts(index: torch.Tensor, n: int) -> torch.Tensor:
    """Number of samples falling in each of n cells (float, same device)."""
    return torch.bincount(index, minlength=n).to(torch.float64)
