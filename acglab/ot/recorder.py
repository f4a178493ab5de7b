"""A record of the heights through the optimisation of :meth:`acglab.ot.SemiDiscreteOT.fit`."""

from __future__ import annotations

import numpy as np
import torch


class HeightRecorder:
    """A ``callback(solver, record)`` for :meth:`acglab.ot.SemiDiscreteOT.fit` that keeps a copy of
    the heights and the :class:`~acglab.ot.solver.FitRecord` of every optimisation step of the
    energy of thesis eq. 1.8.

    ``heights``: (S, N) array, one row per step (normalised to sum zero, as ``solver.heights``);
    ``records``: the S records; ``steps`` and ``errors`` (the maximum relative cell-mass error on
    the solver's sample set) as (S,) arrays. Never stops the fit.
    """

    def __init__(self):
        self._heights: list[np.ndarray] = []
        self.records: list = []

    def __call__(self, solver, record) -> bool:
        self._heights.append(solver.heights.detach().to("cpu", torch.float64).numpy().copy())
        self.records.append(record)
        return False

    @property
    def heights(self) -> np.ndarray:
        return np.array(self._heights)

    @property
    def steps(self) -> np.ndarray:
        return np.array([r.step for r in self.records], dtype=int)

    @property
    def errors(self) -> np.ndarray:
        return np.array([r.max_rel_error for r in self.records])

    def __len__(self) -> int:
        return len(self.records)
