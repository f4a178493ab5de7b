"""Candidate cells of the fit's sample set with bounds kept against height snapshots.

:class:`~acglab.ot.candidates.CandidateCache` certifies a sample's cell with an upper bound on the
score of every cell outside its k candidates, loosened after every change of the heights by the
largest height increase of that change. Over many steps these rises add up, although Adam's
steps go back and forth: after t steps the bound has grown by sum_t max_j (h_t - h_{t-1})_j,
which soon exceeds the gap to the best cell and sends the sample back to a full pass over all
cells.

:class:`SnapshotCandidateCache` keeps, for every sample, the heights h_s at which its
candidates were computed (one snapshot shared by all samples of that pass) and loosens the
bound only by the net rise max_j (h_j - h_s,j), never more than the sum above. Snapshots are
merged two by two when there are too many: a bound valid at h_s is still valid at a later
snapshot h_r once raised by max_j (h_r,j - h_s,j). The assignment stays exact.
"""

from __future__ import annotations

import time

import torch

from acglab.ot.candidates import CandidateCache
from acglab.ot.power import DEFAULT_CHUNK_BYTES, topk_cells


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

    def _refresh(self, rows: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t0 = time.perf_counter()
        epoch = self._snapshot(h)  # first: merging snapshots may touch these rows' bounds
        v, i = topk_cells(self.x[rows], self.y, h, self.k + 1, chunk_bytes=self.chunk_bytes)
        self.dots[rows] = v[:, : self.k] - h[i[:, : self.k]]
        self.cand[rows] = i[:, : self.k].to(torch.int32)
        self.bound[rows] = v[:, self.k]
        self.epoch[rows] = epoch
        self.full_rows += int(rows.numel())
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
        self._refresh(torch.arange(m, m + extra, device=self.x.device), h)
        self._ref = None

    def _rebase(self, h: torch.Tensor) -> None:
        index, best = self.assign(h)
        t0 = time.perf_counter()
        if self.k > 1:
            second = (self.dots + h[self.cand]).topk(2, dim=1).values[:, 1]
        else:
            second = torch.full_like(best, -float("inf"))
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

    def _assign_rows(self, rows: torch.Tensor | None, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact cells and F(x) of the samples ``rows`` (all when ``None``) at h."""
        t0 = time.perf_counter()
        dots, cand = (self.dots, self.cand) if rows is None else (self.dots[rows], self.cand[rows])
        best, pos = (dots + h[cand]).max(dim=1)
        index = cand.gather(1, pos.unsqueeze(1)).squeeze(1).long()
        uncertain = (best <= self.bounds(h, rows)).nonzero().squeeze(1)
        self.timing["candidates"] += time.perf_counter() - t0
        if uncertain.numel():
            i, v = self._refresh(uncertain if rows is None else rows[uncertain], h)
            index[uncertain] = i
            best[uncertain] = v
        return index, best
