"""Semi-discrete optimal transport by the AE-OT variational principle.

Given targets y_1..y_N with weights nu_i and a source measure mu (uniform on the cube
[-0.5, 0.5]^d as in AE-OT, or a standard Gaussian), find heights h such that each power cell
W_i(h) = {x : <x, y_i> + h_i >= <x, y_j> + h_j for all j} has mass mu(W_i(h)) = nu_i. Then the
gradient of the Brenier potential F(x) = max_i <x, y_i> + h_i (thesis eq. 1.7) is the optimal
transport map for the quadratic cost (Brenier's theorem, thesis appendix B).

The heights minimise the convex energy (thesis eq. 1.8)

    E(h) = int F_h dmu - sum_i nu_i h_i,   grad_i E(h) = mu(W_i(h)) - nu_i,

which is what :meth:`SemiDiscreteOT.fit` does with Adam, estimating the cell masses by
quasi-Monte-Carlo with scrambled Sobol points (its steps: :mod:`acglab.ot.fit_steps`). Unlike
the published AE-OT loop (fresh samples and a full O(M N d) pass every step) it keeps a sample
set, assigns it exactly through :class:`~acglab.ot.fit_cache.SnapshotCandidateCache`, starts it
small and grows it only when the optimisation has reached that set's Monte-Carlo noise floor, to
the size the noise model asks for the tolerance and no larger.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from acglab.devices import resolve_device
from acglab.fileio import atomic_write
from acglab.ot.fit_cache import default_candidate_count
from acglab.ot.fit_steps import (  # noqa: F401
    NOISE_SHARE,
    HeightAdam,
    MonteCarloCells,
    StepSchedule,
    converged,
    grown_sample_count,
    initial_sample_count,
    monte_carlo_noise,
    noise_floor_reached,
)
from acglab.ot.power import DEFAULT_CHUNK_BYTES, topk_cells
from acglab.ot.sources import SOURCES, SobolSource
from acglab.ot.targets import OTInputError, as_targets, as_weights, merge_duplicates

ERROR_KINDS = ("max", "mean")


def relative_mass_errors(masses: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """|mu(W_i) - nu_i| / nu_i for every cell."""
    return (masses.to(torch.float64) - weights).abs() / weights


@dataclass
class FitRecord:
    """One optimisation step: energy estimate, relative cell-mass errors on the current
    sample set, its predicted Monte-Carlo noise, samples in use and step size."""

    step: int
    samples: int
    energy: float
    max_rel_error: float
    mean_rel_error: float
    noise: float
    lr: float
    seconds: float


class SemiDiscreteOT:
    """Semi-discrete OT from a continuous source to weighted points (AE-OT).

    Parameters
    ----------
    targets : (N, d) array or tensor of target points (e.g. latent codes).
    weights : (N,) positive weights summing to 1; uniform when ``None``.
    source : ``"cube"`` (uniform on [-0.5, 0.5]^d, AE-OT's choice) or ``"gaussian"``.
    device : ``"cpu"``, ``"cuda"`` or ``"auto"``.
    seed : seeds the scrambled Sobol streams (fitting and evaluation use different streams).
    heights : optional (N,) initial heights (warm start); otherwise ``init`` decides.
    init : ``"voronoi"`` (heights -|y - mean|^2 c / 2 that make the cells the Voronoi cells of the
        targets rescaled to the source: a good start) or ``"zero"`` (AE-OT's start).
    k_candidates : cells cached per sample for exact incremental assignment; by default
        :func:`~acglab.ot.fit_cache.default_candidate_count` (4 from N = 512 targets on, 3 below).
    chunk_bytes : bytes of scores materialised at once by a full pass (on a CPU the fit uses at
        most :data:`~acglab.ot.fit_steps.CPU_CHUNK_BYTES`, which stay in the cache).

    Identical targets are merged (their weights added) because only one of two equal affine
    pieces can own a cell; they share one height, and :meth:`assign` returns the first of them.

    Example
    -------
    >>> sdot = SemiDiscreteOT(Y, source="cube", device="cpu", seed=0).fit(tol=0.05)
    >>> sdot.heights, sdot.assign(x), sdot.cell_masses(2**20), sdot.generate(1000)
    """

    def __init__(
        self,
        targets,
        weights=None,
        source: str = "cube",
        device="cpu",
        seed: int = 0,
        heights=None,
        init: str = "voronoi",
        k_candidates: int | None = None,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ):
        if source not in SOURCES:
            raise OTInputError(f"source must be one of {SOURCES}, got {source!r}")
        self.device = resolve_device(device)
        self.source, self.seed, self.chunk_bytes = source, int(seed), chunk_bytes
        self.targets = as_targets(targets, self.device)
        self.weights = as_weights(weights, self.targets.shape[0], self.device)
        self._y, self._w, self._inverse = merge_duplicates(self.targets, self.weights)
        self.k_candidates = default_candidate_count(self._y.shape[0]) if k_candidates is None else int(k_candidates)
        first = torch.full((self._y.shape[0],), self.targets.shape[0], dtype=torch.long, device=self.device)
        self._representative = first.scatter_reduce(
            0, self._inverse, torch.arange(len(self._inverse), device=self.device), "amin"
        )
        if heights is not None:
            h = torch.as_tensor(np.asarray(heights) if not torch.is_tensor(heights) else heights)
            if h.shape != (self.targets.shape[0],):
                raise OTInputError(f"heights must have shape ({self.targets.shape[0]},), got {tuple(h.shape)}")
            self._h = h.to(self.device, torch.float64)[self._representative]
        elif init == "voronoi":
            self._h = self.voronoi_heights(self._y, source).to(torch.float64)
        elif init == "zero":
            self._h = torch.zeros(self._y.shape[0], dtype=torch.float64, device=self.device)
        else:
            raise OTInputError(f"init must be 'voronoi' or 'zero', got {init!r}")
        self.history: list[FitRecord] = []
        self.timing = {"sampling": 0.0, "full": 0.0, "candidates": 0.0, "bookkeeping": 0.0}
        self.converged = False
        self._fits = 0
        self._warm = heights is not None

    # ------------------------------------------------------------------ properties
    @property
    def dim(self) -> int:
        return self.targets.shape[1]

    @property
    def n_targets(self) -> int:
        return self.targets.shape[0]

    @property
    def heights(self) -> torch.Tensor:
        """Heights h (N,) normalised to sum to zero (thesis, after eq. 1.7)."""
        h = self._h - self._h.mean()
        return h[self._inverse].to(torch.float32)

    @staticmethod
    def voronoi_heights(y: torch.Tensor, source: str = "cube") -> torch.Tensor:
        """Heights whose power cells are the Voronoi cells of the targets centred and rescaled
        to the source's spread: h_i = -c |y_i - mean|^2 / 2 with c = std(source) / std(y)."""
        yc = y - y.mean(0)
        sx = 1 / math.sqrt(12) if source == "cube" else 1.0
        sy = float(yc.pow(2).mean().sqrt()) or 1.0
        return -0.5 * (sx / sy) * yc.pow(2).sum(1)

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        tol: float = 0.05,
        error: str = "max",
        lr: float | None = None,
        max_steps: int = 20000,
        initial_samples: int | None = None,
        max_samples: int = 2**24,
        patience: int = 30,
        time_limit: float | None = None,
        progress: bool = False,
        callback=None,
    ) -> SemiDiscreteOT:
        """Optimise the heights until the relative cell-mass error is below ``tol``.

        Gradient descent on the convex energy of thesis eq. 1.8, one step of
        :mod:`acglab.ot.fit_steps` at a time: the cell masses on a sample set give the gradient
        mu(W_i(h)) - nu_i, the stopping test, then either the sample set grows or Adam moves
        the heights.

        ``error``: ``"max"`` or ``"mean"`` relative error over cells. The error counted is
        sqrt(e_emp^2 + e_noise^2): the empirical error on the current sample set and its
        predicted Monte-Carlo noise (:func:`monte_carlo_noise`). The sample set starts at
        ``initial_samples`` (default: 4 N, at least 2^12, a power of 2; 32 N, at least 2^14,
        for warm starts; see :func:`~acglab.ot.fit_steps.initial_sample_count`) and grows (see
        :func:`~acglab.ot.fit_steps.grown_sample_count`) whenever the optimisation reaches its
        noise floor or stalls, up to ``max_samples``. Adam's step starts at ``lr`` (default: a
        quarter of the median gap between the best and second-best power score, the scale on
        which heights move cell boundaries) and halves after ``patience`` steps without a 1%
        improvement. Warm starts: calling ``fit`` again, or constructing with ``heights=``,
        continues from the current heights.

        ``callback(solver, record)`` is called after each step with ``solver.heights`` at that
        step (for plots of the optimisation); returning True stops.
        """
        self._check_fit_options(tol, error)
        t_start = time.perf_counter()
        spent = sum(self.timing.values())
        w, h = self._w, self._h
        cells = self._sample_set(initial_samples)
        schedule = StepSchedule(0.25 * cells.median_gap(h) if lr is None else lr, patience)
        adam = HeightAdam(h)
        step0 = self.history[-1].step + 1 if self.history else 0
        bar = tqdm(total=max_steps, desc="semi-discrete OT", disable=not progress, leave=False)
        self.converged = False
        for step in range(max_steps):
            grad, energy = cells.gradient(h, w)  # grad E(h) = mu(W_i(h)) - nu_i, thesis eq. 1.8
            rec, e = self._record(step0 + step, len(cells), grad, energy, error, schedule.lr, t_start)
            bar.update(1)
            bar.set_postfix(err=f"{e:.3f}", noise=f"{rec.noise:.3f}", M=rec.samples)
            self._h = h  # current heights, visible to the callback (solver.heights)
            if callback is not None and callback(self, rec):
                break
            if converged(e, rec.noise, tol):  # the stopping test
                self.converged = True
                break
            if time_limit is not None and rec.seconds > time_limit:
                break
            schedule.observe(e)  # the step size halves when the error stops improving
            floor = noise_floor_reached(e, rec.noise, tol)
            if (floor or schedule.stalled) and len(cells) < max_samples:  # sample-size growth
                cells.grow(grown_sample_count(len(cells), rec.noise, tol, floor, max_samples), h)
                schedule.restart()
                continue
            if schedule.exhausted:
                break
            h = adam.step(h, grad, schedule.lr, w)  # the Adam update of the heights
        bar.close()
        self._h = h
        cells.close()
        self.timing["bookkeeping"] += time.perf_counter() - t_start - (sum(self.timing.values()) - spent)
        return self

    @staticmethod
    def _check_fit_options(tol: float, error: str) -> None:
        if error not in ERROR_KINDS:
            raise OTInputError(f"error must be one of {ERROR_KINDS}, got {error!r}")
        if not 0 < tol < 1:
            raise OTInputError(f"tol must be in (0, 1), got {tol}")

    def _sample_set(self, initial_samples: int | None) -> MonteCarloCells:
        """The fit's sample set at the current heights, from a Sobol stream of its own."""
        n = self._y.shape[0]
        m = initial_samples or initial_sample_count(n, warm=self._warm or self._fits > 0)
        seed = self.seed + 7919 * self._fits
        self._fits += 1
        return MonteCarloCells(self._y, self._h, m, self.source, seed, self.k_candidates, self.chunk_bytes, self.timing)

    def _record(
        self, step: int, m: int, grad: torch.Tensor, energy: float, error: str, lr: float, t_start: float
    ) -> tuple[FitRecord, float]:
        """Append the step's :class:`FitRecord`; returns it and the error of kind ``error``."""
        rel = grad.abs() / self._w
        e_max, e_mean = float(rel.max()), float(rel.mean())
        e = e_max if error == "max" else e_mean
        noise = monte_carlo_noise(self._w, m, error)
        rec = FitRecord(step, m, energy, e_max, e_mean, noise, float(lr), time.perf_counter() - t_start)
        self.history.append(rec)
        return rec, e

    # ------------------------------------------------------------------ evaluation
    def _to_original(self, idx: torch.Tensor) -> torch.Tensor:
        return self._representative[idx]

    def _samples(self, x) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float32, device=self.device)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise OTInputError(f"samples must have shape (M, {self.dim}), got {tuple(x.shape)}")
        return x

    def assign(self, x) -> torch.Tensor:
        """Index (into the original targets) of the power cell of each sample, (M,) long."""
        x = self._samples(x)
        return self._to_original(topk_cells(x, self._y, self._h.float(), 1, self.chunk_bytes)[1][:, 0])

    def transport(self, x) -> torch.Tensor:
        """The OT map T(x) = y_{assign(x)}, (M, d)."""
        return self.targets[self.assign(x)]

    def potential(self, x) -> torch.Tensor:
        """The Brenier potential F(x) = max_i <x, y_i> + h_i (thesis eq. 1.7), (M,)."""
        x = self._samples(x)
        h = (self._h - self._h.mean()).float()
        return topk_cells(x, self._y, h, 1, self.chunk_bytes)[0][:, 0]

    def cell_masses(self, n_samples: int = 2**20, seed: int | None = None, batch: int = 2**18) -> torch.Tensor:
        """Cell masses mu(W_i) (N,) estimated on ``n_samples`` fresh Sobol points of an
        independent stream (``seed`` defaults to one never used by :meth:`fit`). Duplicate
        targets share their merged cell's mass in proportion to their weights."""
        stream = SobolSource(self.dim, self.source, 10**6 + self.seed if seed is None else seed)
        counts = torch.zeros(self._y.shape[0], dtype=torch.float64, device=self.device)
        h = self._h.float()
        for s in range(0, n_samples, batch):
            x = stream.draw(min(batch, n_samples - s), self.device)
            idx = topk_cells(x, self._y, h, 1, self.chunk_bytes)[1][:, 0]
            counts += torch.bincount(idx, minlength=counts.numel()).to(torch.float64)
        merged = counts / n_samples
        return merged[self._inverse] * self.weights / self._w[self._inverse]

    def relative_errors(self, n_samples: int = 2**20, seed: int | None = None) -> torch.Tensor:
        """|mu(W_i) - nu_i| / nu_i (N,) on an independent sample."""
        return relative_mass_errors(self.cell_masses(n_samples, seed), self.weights)

    def singular_report(self, x, k: int = 2, threshold: float | None = None, margin: float | None = None):
        """Where samples x sit relative to the singular set; see
        :func:`acglab.ot.singular.singular_report`."""
        from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD, singular_report

        thr = DEFAULT_ANGLE_THRESHOLD if threshold is None else threshold
        rep = singular_report(self._samples(x), self._y, self._h.float(), k, thr, margin)
        rep.cells = self._to_original(rep.cells)
        return rep

    def cell_graph(
        self, n_samples: int = 2**16, threshold: float | None = None, seed: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Neighbouring power cells, found as the best and second-best cells of ``n_samples``
        fresh Sobol points (a face no sample lies next to is missed): returns (pairs (P, 2) of
        indices into the original targets, each pair once; singular (P,) bool; dihedral angles
        (P,)). Duplicate targets appear as their first copy."""
        from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD, dihedral_angles, singular_pairs

        thr = DEFAULT_ANGLE_THRESHOLD if threshold is None else float(threshold)
        stream = SobolSource(self.dim, self.source, 2 * 10**6 + self.seed if seed is None else seed)
        pairs, flags = singular_pairs(stream.draw(n_samples, self.device), self._y, self._h.float(), thr)
        angles = dihedral_angles(self._y, pairs[:, 0], pairs[:, 1])
        return self._to_original(pairs), flags, angles

    def generate(self, n: int, **kwargs) -> torch.Tensor:
        """New codes by piecewise-linear interpolation that avoids the singular set; see
        :func:`acglab.ot.generate.ot_generate` for the parameters."""
        from acglab.ot.generate import ot_generate

        return ot_generate(self, n, **kwargs)

    def history_arrays(self) -> dict[str, np.ndarray]:
        """The fit history as arrays (for plots)."""
        keys = FitRecord.__dataclass_fields__.keys()
        return {k: np.array([getattr(r, k) for r in self.history]) for k in keys}

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        """Write targets, weights, heights and settings to an ``.npz`` (no pickle), atomically."""
        path = Path(path)
        meta = {
            "source": self.source,
            "seed": self.seed,
            "k_candidates": self.k_candidates,
            "converged": self.converged,
            "history": [asdict(r) for r in self.history],
        }
        arrays = {
            "targets": self.targets.cpu().numpy(),
            "weights": self.weights.cpu().numpy(),
            "heights": self.heights.double().cpu().numpy(),
            "meta": np.array(json.dumps(meta)),
        }

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

        return atomic_write(path, write, make_parents=False)

    @classmethod
    def load(cls, path, device="cpu") -> SemiDiscreteOT:
        """Read a solver written by :meth:`save` (``allow_pickle=False``)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                sdot = cls(
                    z["targets"],
                    z["weights"],
                    source=meta["source"],
                    device=device,
                    seed=meta["seed"],
                    heights=z["heights"],
                    k_candidates=meta["k_candidates"],
                )
        except (OSError, KeyError, ValueError) as err:
            raise OTInputError(f"cannot read OT state {path}: {err}") from None
        sdot.converged = meta.get("converged", False)
        sdot.history = [FitRecord(**r) for r in meta.get("history", [])]
        return sdot
