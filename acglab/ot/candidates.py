"""Exact power-cell assignment of a fixed sample set while the heights change.

Fitting the heights re-assigns the same quasi-Monte-Carlo samples to cells after every small
change of h. Recomputing all N scores per sample each time (what AE-OT does) costs
O(M N d) per step. Here each sample keeps its k best cells and the dot products
<x, y_c> with them, plus an upper bound on the score of every other cell, in the spirit of
Hamerly's bounds for k-means:

- after a step h -> h', every score changes by at most ``max_j (h'_j - h_j)^+``, so the bound
  grows by that amount;
- a sample whose best candidate score is above its bound is assigned exactly, without
  touching the other N - k cells;
- only samples failing that certificate get a full (chunked) pass over all cells.

The assignment is therefore always the exact argmax_i <x, y_i> + h_i; the cache only decides
how much work that takes.

:meth:`CandidateCache.counts` goes one step further for the optimisation loop, which only needs
cell counts and the mean potential: it keeps a reference state (heights h0, each sample's cell
c, its margin g over every other cell at h0, and the per-cell counts). With
d = h - h0, a sample keeps its cell whenever g > max_j d_j - d_c, so only the samples failing
that test (a single gather per sample) are re-assigned; the counts and the potential sum are
corrected for those rows alone. The reference is rebuilt when too many samples fail the test.
"""

from __future__ import annotations

import time

import torch

from acglab.ot.power import DEFAULT_CHUNK_BYTES, topk_cells


class CandidateCache:
    """Top-k cell candidates with certified bounds for a fixed sample set.

    x: (M, d) samples, y: (N, d) targets, h: (N,) heights at construction, k: candidates kept.
    ``timing`` accumulates seconds spent in full passes (``"full"``, the matmul/argmax floor)
    and in candidate updates (``"candidates"``).
    """

    def __init__(
        self, x: torch.Tensor, y: torch.Tensor, h: torch.Tensor, k: int = 8, chunk_bytes: int = DEFAULT_CHUNK_BYTES
    ):
        self.x, self.y = x, y
        self.k = max(1, min(k, y.shape[0] - 1))
        self.chunk_bytes = chunk_bytes
        m = x.shape[0]
        self.dots = torch.empty(m, self.k, dtype=x.dtype, device=x.device)
        self.cand = torch.empty(m, self.k, dtype=torch.int32, device=x.device)
        self.bound = torch.empty(m, dtype=x.dtype, device=x.device)
        self.h_last = h.detach().clone()
        self.timing = {"full": 0.0, "candidates": 0.0}
        self.full_rows = 0
        self._refresh(torch.arange(m, device=x.device), self.h_last)

    def __len__(self) -> int:
        return self.x.shape[0]

    def _refresh(self, rows: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t0 = time.perf_counter()
        v, i = topk_cells(self.x[rows], self.y, h, self.k + 1, chunk_bytes=self.chunk_bytes)
        self.dots[rows] = v[:, : self.k] - h[i[:, : self.k]]
        self.cand[rows] = i[:, : self.k].to(torch.int32)
        self.bound[rows] = v[:, self.k]
        self.full_rows += int(rows.numel())
        self.timing["full"] += time.perf_counter() - t0
        return i[:, 0], v[:, 0]

    def extend(self, x_new: torch.Tensor, h: torch.Tensor) -> None:
        """Append samples (e.g. when the solver grows its sample set)."""
        old = CandidateCache(x_new, self.y, h, self.k, self.chunk_bytes)
        self.advance(h)
        self.x = torch.cat([self.x, x_new])
        self.dots = torch.cat([self.dots, old.dots])
        self.cand = torch.cat([self.cand, old.cand])
        self.bound = torch.cat([self.bound, old.bound])
        self.full_rows += old.full_rows
        self.timing["full"] += old.timing["full"]
        self._ref = None

    def advance(self, h: torch.Tensor) -> None:
        """Loosen every bound by the largest height increase since the last call."""
        rise = (h - self.h_last).max().clamp(min=0)
        if rise > 0:
            self.bound += rise
        self.h_last = h.detach().clone()

    #: rebuild the reference state of :meth:`counts` when this share of samples must be checked
    REBASE_SHARE = 0.2

    def _rebase(self, h: torch.Tensor) -> None:
        index, best = self.assign(h)
        t0 = time.perf_counter()
        scores = self.dots + h[self.cand]
        if self.k > 1:
            second = scores.topk(2, dim=1).values[:, 1]
        else:
            second = torch.full_like(best, -float("inf"))
        self._ref = {
            "h": h.detach().clone(),
            "index": index,
            "best": best,
            # margin of the cell over every other one: next candidate, bound on the rest
            "margin": best - torch.maximum(second, self.bound),
            "counts": torch.bincount(index, minlength=self.y.shape[0]).to(torch.float64),
            "best_sum": float(best.double().sum()),
        }
        self.timing["candidates"] += time.perf_counter() - t0

    def counts(self, h: torch.Tensor) -> tuple[torch.Tensor, float]:
        """Exact per-cell sample counts (N,) float64 and the sum of F(x) over the samples at h.

        Equal to ``bincount(assign(h)[0])`` and ``assign(h)[1].sum()``, but only the samples
        whose reference margin does not certify their cell are re-assigned (module docstring).
        """
        ref = getattr(self, "_ref", None)
        if ref is None:
            self._rebase(h)
            return self._ref["counts"].clone(), self._ref["best_sum"]
        t0 = time.perf_counter()
        d = h - ref["h"]
        rows = (ref["margin"] <= d.max() - d[ref["index"]]).nonzero().squeeze(1)
        self.timing["candidates"] += time.perf_counter() - t0
        if rows.numel() > self.REBASE_SHARE * len(self):
            self._rebase(h)
            return self._ref["counts"].clone(), self._ref["best_sum"]
        return self._counts_from_reference(ref, d, rows, h)

    def _counts_from_reference(
        self, ref: dict, d: torch.Tensor, rows: torch.Tensor, h: torch.Tensor
    ) -> tuple[torch.Tensor, float]:
        """Counts and sum of F(x) at h from the reference's, with the height change ``d = h - h_ref``:
        the samples ``rows`` (those the margin does not certify) are re-assigned, every other sample
        keeps its cell c and gains d_c."""
        n, d64 = self.y.shape[0], d.double()
        counts = ref["counts"].clone()
        total = ref["best_sum"] + float((ref["counts"] * d64).sum())  # unchanged samples: F = F_ref + d_c
        if rows.numel():
            old = ref["index"][rows]
            counts -= torch.bincount(old, minlength=n).to(torch.float64)
            total -= float((ref["best"][rows].double() + d64[old]).sum())
            new_index, new_best = self._assign_rows(rows, h)
            counts += torch.bincount(new_index, minlength=n).to(torch.float64)
            total += float(new_best.double().sum())
        return counts, total

    def _assign_rows(self, rows: torch.Tensor | None, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact cells and F(x) of the samples ``rows`` (all when ``None``) at h."""
        self.advance(h)
        t0 = time.perf_counter()
        dots, cand, bound = (
            (self.dots, self.cand, self.bound) if rows is None else (self.dots[rows], self.cand[rows], self.bound[rows])
        )
        scores = dots + h[cand]
        best, pos = scores.max(dim=1)
        index = cand.gather(1, pos.unsqueeze(1)).squeeze(1).long()
        uncertain = (best <= bound).nonzero().squeeze(1)
        self.timing["candidates"] += time.perf_counter() - t0
        if uncertain.numel():
            i, v = self._refresh(uncertain if rows is None else rows[uncertain], h)
            index[uncertain] = i
            best[uncertain] = v
        return index, best

    def assign(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact cell index (M,) and Brenier potential value F(x) (M,) of every sample at h."""
        return self._assign_rows(None, h)
