"""Candidate cells of the fit's sample set with bounds kept against height snapshots.

:class:`~acglab.ot.candidates.CandidateCache` certifies a sample's cell with an upper bound on the
score of every cell outside its k candidates, loosened after every change of the heights by the
largest height increase of that change. Over many steps these rises add up, although Adam's
steps go back and forth: after t steps the bound has grown by sum_t max_j (h_t - h_{t-1})_j,
which soon exceeds the gap to the best cell and sends the sample back to a full pass over all
cells.

:class:`SnapshotCandidateCache` keeps, for every sample, the heights h_s at which its
candidates were computed (one snapshot shared by all samples of that pass) and loosens the
bound only by the net rise max_j (h_j - h_s,j), never more than the sum above. When there are
too many snapshots the oldest half is merged into the next one: a bound valid at h_s is still
valid at a later snapshot h_r once raised by max_j (h_r,j - h_s,j). The assignment stays exact.

It also spends less per step: candidates are int64 (``h.take(cand)``), a full pass leaves them
sorted so that the best of them is found with ``amax`` for almost every sample, and the
reference test of :meth:`~SnapshotCandidateCache.counts` gathers with ``take``.
"""

from __future__ import annotations

import time

import torch

from acglab.ot.candidates import CandidateCache
from acglab.ot.power import DEFAULT_CHUNK_BYTES, topk_cells


def default_candidate_count(n_targets: int) -> int:
    """Candidates kept per sample for N targets: 4 from N = 512 on, 3 below.

    More candidates keep the bounds valid for more steps, but every full pass must then find the
    top k + 1 scores of each sample, and on a CPU torch's top-k leaves its fast path once k + 1
    exceeds about N / 64. The choice is the fastest of 3, 4 and 5 on the problems of
    ``benchmarks/bench_sdot.py`` (benchmarks/RESULTS.md).
    """
    return 4 if n_targets >= 512 else 3


class SnapshotCandidateCache(CandidateCache):
    """A :class:`~acglab.ot.candidates.CandidateCache` whose bounds follow the net height change
    since each sample's last full pass (module docstring). Same interface and results."""

    #: snapshots kept before the oldest half is merged into the next one
    MAX_SNAPSHOTS = 32

    def __init__(
        self, x: torch.Tensor, y: torch.Tensor, h: torch.Tensor, k: int = 8, chunk_bytes: int = DEFAULT_CHUNK_BYTES
    ):
        self.snapshots = h.detach().clone().unsqueeze(0)
        self.epoch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        super().__init__(x, y, h, k, chunk_bytes)
        self.cand = self.cand.long()  # int64, read with h.take(cand): faster than h[int32 index]

    def _snapshot(self, h: torch.Tensor) -> int:
        """Index of the snapshot holding heights h (added when they changed)."""
        if not torch.equal(self.snapshots[-1], h):
            if self.snapshots.shape[0] >= self.MAX_SNAPSHOTS:
                self._merge_oldest(self.MAX_SNAPSHOTS // 2)
            self.snapshots = torch.cat([self.snapshots, h.detach().clone().unsqueeze(0)])
        return self.snapshots.shape[0] - 1

    def _merge_oldest(self, keep_from: int) -> None:
        """Move the samples of snapshots < keep_from onto snapshot keep_from, raising their
        bounds by that snapshot's rise over their own."""
        rise = (self.snapshots[keep_from] - self.snapshots[:keep_from]).amax(1).clamp(min=0)
        old = self.epoch < keep_from
        self.bound[old] += rise[self.epoch[old]]
        self.epoch = (self.epoch - keep_from).clamp(min=0)
        self.snapshots = self.snapshots[keep_from:]

    def bounds(self, h: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Upper bound at heights h on the score of every non-candidate cell of each sample."""
        rise = (h.unsqueeze(0) - self.snapshots).amax(1).clamp(min=0)
        if rows is None:
            return self.bound + rise[self.epoch]
        return self.bound[rows] + rise[self.epoch[rows]]

    def _refresh(self, rows: torch.Tensor | slice, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Full pass over all cells for the samples ``rows`` (indices, or a slice: no copies)."""
        t0 = time.perf_counter()
        epoch = self._snapshot(h)  # first: merging snapshots may touch these rows' bounds
        v, i = topk_cells(self.x[rows], self.y, h, self.k + 1, chunk_bytes=self.chunk_bytes)
        self.dots[rows] = v[:, : self.k] - h[i[:, : self.k]]
        self.cand[rows] = i[:, : self.k].to(self.cand.dtype)
        self.bound[rows] = v[:, self.k]
        self.epoch[rows] = epoch
        self.full_rows += v.shape[0]
        self.timing["full"] += time.perf_counter() - t0
        return i[:, 0], v[:, 0]

    def advance(self, h: torch.Tensor) -> None:
        """Nothing to do: bounds are loosened against the snapshots when they are read."""

    def extend(self, x_new: torch.Tensor, h: torch.Tensor) -> None:
        """Append samples and give them their candidates at heights h."""
        m, extra = len(self), x_new.shape[0]
        self.x = torch.cat([self.x, x_new])
        self.dots = torch.cat([self.dots, self.dots.new_empty(extra, self.k)])
        self.cand = torch.cat([self.cand, self.cand.new_empty(extra, self.k)])
        self.bound = torch.cat([self.bound, self.bound.new_empty(extra)])
        self.epoch = torch.cat([self.epoch, self.epoch.new_empty(extra)])
        self._refresh(slice(m, m + extra), h)
        self._ref = None

    def _rebase(self, h: torch.Tensor) -> None:
        index, best, second = self._assign_with_runner_up(None, h)
        t0 = time.perf_counter()
        self._ref = {
            "h": h.detach().clone(),
            "index": index,
            "best": best,
            # margin of the cell over every other one: next candidate, bound on the rest
            "margin": best - torch.maximum(second, self.bounds(h)),
            "counts": torch.bincount(index, minlength=self.y.shape[0]).to(torch.float64),
            "best_sum": float(best.double().sum()),
        }
        self.timing["candidates"] += time.perf_counter() - t0

    def counts(self, h: torch.Tensor) -> tuple[torch.Tensor, float]:
        """Exact per-cell sample counts (N,) float64 and the sum of F(x) over the samples at h,
        as :meth:`CandidateCache.counts <acglab.ot.candidates.CandidateCache.counts>`: only the
        samples whose reference margin does not certify their cell are re-assigned."""
        ref = getattr(self, "_ref", None)
        t0 = time.perf_counter()
        if ref is not None:
            d = h - ref["h"]
            # a sample keeps its cell c while its margin exceeds max_j d_j - d_c
            rows = (ref["margin"] <= d.max() - d.take(ref["index"])).nonzero().squeeze(1)
        self.timing["candidates"] += time.perf_counter() - t0
        if ref is None or rows.numel() > self.REBASE_SHARE * len(self):
            self._rebase(h)
            return self._ref["counts"].clone(), self._ref["best_sum"]
        return self._counts_from_reference(ref, d, rows, h)

    def _assign_rows(self, rows: torch.Tensor | None, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact cells and F(x) of the samples ``rows`` (all when ``None``) at h."""
        return self._assign_with_runner_up(rows, h)[:2]

    def _assign_with_runner_up(
        self, rows: torch.Tensor | None, h: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Exact cell, F(x) and the best score of the other candidates of the samples ``rows``
        (all when ``None``) at h; samples whose bound does not certify their cell get a full pass."""
        t0 = time.perf_counter()
        dots, cand = (self.dots, self.cand) if rows is None else (self.dots[rows], self.cand[rows])
        best, pos, second = self._leaders(dots + h.take(cand))
        index = cand.gather(1, pos.unsqueeze(1)).squeeze(1)
        uncertain = (best <= self.bounds(h, rows)).nonzero().squeeze(1)
        self.timing["candidates"] += time.perf_counter() - t0
        if uncertain.numel():
            fresh = uncertain if rows is None else rows[uncertain]
            index[uncertain], best[uncertain] = self._refresh(fresh, h)
            if self.k > 1:  # a full pass leaves the candidates sorted at h
                second[uncertain] = self.dots[fresh, 1] + h.take(self.cand[fresh, 1])
        return index, best, second

    @staticmethod
    def _leaders(scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Best value, its column and the best of the other columns of each row, (M,) each.

        Full passes leave the candidates sorted, so column 0 usually still leads; only the rows
        where it does not go through a top-2 (max with indices costs several times amax)."""
        best = scores.amax(1)
        pos = torch.zeros(scores.shape[0], dtype=torch.long, device=scores.device)
        if scores.shape[1] == 1:
            return best, pos, torch.full_like(best, -float("inf"))
        second = scores[:, 1:].amax(1)
        moved = (scores[:, 0] < best).nonzero().squeeze(1)
        if moved.numel():
            top = scores[moved].topk(2, dim=1)
            pos[moved], second[moved] = top.indices[:, 0], top.values[:, 1]
        return best, pos, second
