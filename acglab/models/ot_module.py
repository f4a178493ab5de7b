r"""The geometric (AE-OT) module of ACG: OT-guided interpolation of bottleneck features.

Thesis section 2.2 (eq. 2.6 and the interpolation that extends it) and the companion code's
``OTBlock`` fit a semi-discrete optimal transport map from the uniform measure on the cube
:math:`[-\frac12, \frac12]^d` to the empirical measure of encoded features (AE-OT), then
replace a feature :math:`y_i` by the interpolation towards a neighbouring target :math:`y_j`,

.. math:: z_i = (1 - w)\, y_i + w\, y_j, \qquad w = 0.75,

only when the facets of the cells :math:`W_i, W_j` of the Brenier potential meet at a dihedral
angle below 0.7 rad (the face :math:`W_i | W_j` is not in the *singular set*): features are mixed
inside a mode of the data, never across a gap between modes. The classifier sees :math:`z`, the
gradient goes straight through to the encoder, :math:`z = y + (z - y)\,\text{.detach()}`.

How this module does it during training (nothing happens in eval mode):

1. **Memory bank.** Every step pushes the batch's detached bottleneck features (B, D) into a
   FIFO bank of ``bank_size`` entries (the companion code fits the current batch alone).
2. **OT coordinates.** OT is fitted in ``dim`` dimensions: a fixed random orthonormal projection
   :math:`P \in \mathbb R^{D\times d}` (seeded; none when ``dim`` is ``None`` or >= D), then centring
   and scaling so the bank's codes have RMS norm ``code_radius`` (the dihedral angles depend on
   that scale, see :mod:`acglab.ot.singular`): :math:`c = (yP - \mu) / s`.
3. **Refit** every ``refit_every`` steps (first as soon as the bank holds ``warmup`` entries):
   :class:`~acglab.ot.solver.SemiDiscreteOT` on the bank's codes with a loose tolerance (mean
   relative cell-mass error 0.2) and a step cap. Warm start: an entry still in the bank keeps its
   height relative to the Voronoi start :math:`v_i = -\frac{\kappa}{2}|c_i|^2` (the residual
   :math:`h_i - v_i` is kept, since the normalisation moves a little between fits); a new entry
   :math:`c` gets the height of a tangent plane from below to the stayed entries' Brenier
   potential, :math:`h = \min_x F(x) - \langle x, c\rangle` over Sobol points, so its cell starts
   (nearly) empty and the fit only has to grow it. (Giving new entries the mean residual instead
   makes their cells far too large, and the warm start no better than a cold one.)
   After the fit, ``2^k >= 16 N`` scrambled-Sobol source points give each cell up to
   ``neighbours`` second-best cells of source points lying in it: a table of its top-2 pairs.
4. **Replacement.** Batch sample b's cell is that of its own bank entry when the batch was part
   of the fit (refit steps), otherwise that of its nearest fitted entry (Euclidean, in OT
   coordinates). Its partner j is one entry of that cell's table, drawn at random (seeded by the
   step, so a resumed run repeats it); if angle(i, j) <= ``threshold`` (:mod:`acglab.models.ot_pairs`)
   the feature becomes :math:`z_b = (1 - w) y_b + w y_j` with :math:`y_b` the sample's own feature
   (:math:`y_i` on refit steps) and :math:`y_j` the partner's full feature; otherwise it is kept.
5. **Labels** (optional). ``forward(features, labels)`` stores each sample's class label with its
   bank entry (-1 where none was given; the training loop gives 1 = real, 0 = fake) and a fit
   keeps the labels of its entries. The labels never change which cell or partner is drawn, nor
   the angle test; they are recorded (``cross_class``: the partner's label is known and differs
   from the sample's) and, with ``same_class=True``, they also gate the replacement (below).

**The same-class variant** (``OTOptions.same_class``) and **the default d = 32**: why, in
:mod:`acglab.models.ot_options`. The module's timings are in ``benchmarks/RESULTS.md`` (training speed).

The bank, its labels, the last fit (features, labels, codes, heights, normalisation, neighbour
table) and the counters are buffers, so ``state_dict`` holds everything and a resumed run
continues exactly (fits are deterministic unless ``time_limit`` is set). A ``state_dict``
written before the labels existed loads too: its entries get the label -1 (unknown).
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from acglab.models.ot_options import OTOptions
from acglab.models.ot_pairs import (
    OTStepRecord,
    generation_settings,
    interpolate_features,
    neighbour_table,
    pair_cells,
    pair_counts,
)
from acglab.ot.power import topk_cells
from acglab.ot.solver import SemiDiscreteOT
from acglab.ot.sources import SobolSource
from acglab.ot.targets import random_orthonormal

#: Sobol points used to place the tangent planes of new bank entries at a refit
WARM_SAMPLES = 2**14


class OTFeatureModule(nn.Module):
    """OT-guided feature interpolation for bottleneck features (B, D) (module notes).

    ``forward(features, labels=None) -> (features_out, diagnostics)``; ``labels`` (B,) integer
    class labels (>= 0; negative: unknown), stored with the bank entries (module notes). In eval
    mode it returns its input and ``{}``. In training mode ``diagnostics`` has ``replaced``
    (samples replaced), ``refit`` (a fit ran this step), ``bank`` (entries held), ``blocked``
    (samples whose pair crosses the singular set), ``class_refused`` (samples whose pair passed
    the angle test but was refused for its labels: ``same_class`` only), ``cross_class``
    (fraction of the replaced samples whose partner has the other label; 0 when none was
    replaced) and, on refit steps, ``fit_error``, ``fit_steps``, ``fit_seconds``.
    """

    #: buffers a state_dict may lack (written before they existed); loaded as -1 (unknown label)
    OPTIONAL_BUFFERS = ("bank_labels", "fit_labels")

    def __init__(self, feature_dim: int, options: OTOptions | dict | None = None):
        super().__init__()
        self.options = options if isinstance(options, OTOptions) else OTOptions.from_dict(options)
        self.options.check()
        o = self.options
        n, d_full = o.bank_size, int(feature_dim)
        self.feature_dim = d_full
        self.project = o.dim is not None and o.dim < d_full
        d = o.dim if self.project else d_full
        self.code_dim = d
        self.warmup = min(o.warmup, n)
        if self.project:
            self.register_buffer("projection", random_orthonormal(d_full, d, o.seed))
        self.register_buffer("bank", torch.zeros(n, d_full))
        self.register_buffer("bank_labels", torch.full((n,), -1, dtype=torch.long))
        self.register_buffer("bank_count", torch.zeros((), dtype=torch.long))
        self.register_buffer("bank_next", torch.zeros((), dtype=torch.long))
        self.register_buffer("step", torch.zeros((), dtype=torch.long))
        self.register_buffer("refits", torch.zeros((), dtype=torch.long))
        self.register_buffer("last_fit_step", torch.zeros((), dtype=torch.long))
        self.register_buffer("fit_count", torch.zeros((), dtype=torch.long))
        self.register_buffer("fit_features", torch.zeros(n, d_full))
        self.register_buffer("fit_labels", torch.full((n,), -1, dtype=torch.long))
        self.register_buffer("fit_codes", torch.zeros(n, d))
        self.register_buffer("fit_heights", torch.zeros(n))
        self.register_buffer("fit_center", torch.zeros(d))
        self.register_buffer("fit_scale", torch.ones(()))
        self.register_buffer("fit_fresh", torch.zeros(n, dtype=torch.bool))
        self.register_buffer("cell_neighbours", torch.full((n, o.neighbours), -1, dtype=torch.long))
        self.last: OTStepRecord | None = None

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        # state_dicts from before the labels existed: every entry's label is unknown (-1)
        # (load_state_dict works on a copy of the caller's dict, which stays as it was)
        for name in self.OPTIONAL_BUFFERS:
            if prefix + name not in state_dict:
                state_dict[prefix + name] = torch.full_like(getattr(self, name), -1)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    # ------------------------------------------------------------------ coordinates
    def _project(self, y: torch.Tensor) -> torch.Tensor:
        return y @ self.projection if self.project else y

    def codes(self, features: torch.Tensor) -> torch.Tensor:
        """OT codes of features (B, D) -> (B, d) with the normalisation of the last fit."""
        return (self._project(features.float()) - self.fit_center) / self.fit_scale

    # ------------------------------------------------------------------ bank
    def _labels(self, labels, batch: int) -> torch.Tensor:
        """Labels (B,) long on the bank's device (-1 for all when ``None``; negative = unknown)."""
        if labels is None:
            return torch.full((batch,), -1, dtype=torch.long, device=self.bank.device)
        labels = torch.as_tensor(labels)
        if labels.ndim != 1 or labels.shape[0] != batch:
            from acglab.errors import ModelConfigError

            raise ModelConfigError(f"OT module labels must have shape ({batch},), got {tuple(labels.shape)}")
        labels = labels.detach().to(self.bank.device).long()
        return torch.where(labels >= 0, labels, torch.full_like(labels, -1))

    @torch.no_grad()
    def push(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Append detached features (B, D) and their labels (B,) (``None``: unknown, -1) to the
        FIFO bank; returns their slots (B,) (-1 for rows that did not fit when B > bank_size:
        only the last bank_size rows are kept)."""
        n = self.bank.shape[0]
        b = features.shape[0]
        keep = min(b, n)
        labels = self._labels(labels, b)
        slots = (self.bank_next + torch.arange(keep, device=self.bank.device)) % n
        self.bank[slots] = features[b - keep :].detach().float()
        self.bank_labels[slots] = labels[b - keep :]
        self.fit_fresh[slots] = False
        self.bank_next.copy_((self.bank_next + keep) % n)
        self.bank_count.copy_(torch.clamp(self.bank_count + keep, max=n))
        out = torch.full((b,), -1, dtype=torch.long, device=self.bank.device)
        out[b - keep :] = slots
        return out

    # ------------------------------------------------------------------ fitting
    @torch.no_grad()
    def refit(self) -> dict:
        """Fit semi-discrete OT on the bank (warm start), rebuild the neighbour table."""
        o = self.options
        n = int(self.bank_count)
        t0 = time.perf_counter()
        y = self.bank[:n]
        raw = self._project(y)
        center = raw.mean(0)
        rms = (raw - center).pow(2).sum(1).mean().sqrt()
        scale = (rms / o.code_radius).clamp_min(1e-12)
        codes = (raw - center) / scale
        heights = self._warm_heights(codes, n)
        sdot = SemiDiscreteOT(
            codes, source="cube", device=codes.device, seed=o.seed + 7919 * int(self.refits), heights=heights
        )
        sdot.fit(tol=o.tol, error=o.error, max_steps=o.max_steps, time_limit=o.time_limit, initial_samples=o.samples)
        h = sdot.heights.to(codes.device)
        m = 1 << max(12, math.ceil(math.log2(16 * n)))
        source = SobolSource(self.code_dim, "cube", o.seed + 104729 + 7919 * int(self.refits)).draw(m, codes.device)
        _, top2 = topk_cells(source, codes, h, 2)
        g = torch.Generator().manual_seed(o.seed + 1299709 * (int(self.refits) + 1))
        table = neighbour_table(top2, n, o.neighbours, g)

        self.fit_features[:n] = y
        self.fit_labels[:n] = self.bank_labels[:n]
        self.fit_codes[:n] = codes
        self.fit_heights[:n] = h
        self.fit_center.copy_(center)
        self.fit_scale.copy_(scale)
        self.fit_fresh[:n] = True
        self.cell_neighbours.fill_(-1)
        self.cell_neighbours[:n] = table
        self.fit_count.fill_(n)
        self.refits += 1
        self.last_fit_step.copy_(self.step)
        last = sdot.history[-1]
        return {
            "fit_error": float(last.mean_rel_error if o.error == "mean" else last.max_rel_error),
            "fit_steps": len(sdot.history),
            "fit_seconds": time.perf_counter() - t0,
        }

    def _warm_heights(self, codes: torch.Tensor, n: int) -> torch.Tensor | None:
        """Initial heights of a refit (module notes): stayed entries keep their residual over the
        Voronoi start; a new entry y gets the height of a tangent plane of the stayed entries'
        potential, min_x F(x) - <x, y> over Sobol points x, so its cell starts (nearly) empty."""
        old = int(self.fit_count)
        stayed = self.fit_fresh[:n].clone()
        stayed[old:] = False
        if old == 0 or not bool(stayed.any()):
            return None
        old_residual = self.fit_heights[:old].double() - SemiDiscreteOT.voronoi_heights(self.fit_codes[:old].double())
        heights = SemiDiscreteOT.voronoi_heights(codes.double())
        heights[stayed] += old_residual[stayed[:old]]
        new = ~stayed
        if bool(new.any()):
            x = SobolSource(self.code_dim, "cube", self.options.seed + 15485863 + int(self.refits)).draw(
                WARM_SAMPLES, codes.device
            )
            potential = topk_cells(x, codes[stayed], heights[stayed].float(), 1)[0][:, 0]
            tangent = torch.full((int(new.sum()),), float("inf"), device=codes.device)
            for start in range(0, WARM_SAMPLES, 4096):
                xs = x[start : start + 4096]
                gap = potential[start : start + 4096, None] - xs @ codes[new].T
                tangent = torch.minimum(tangent, gap.min(0).values)
            heights[new] = tangent.double()
        return heights

    def _due(self) -> bool:
        n = int(self.bank_count)
        if n < max(2, self.warmup):
            return False
        return int(self.fit_count) == 0 or int(self.step - self.last_fit_step) >= self.options.refit_every

    # ------------------------------------------------------------------ forward
    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        if not self.training:
            return features, {}
        labels = self._labels(labels, features.shape[0])
        self.step += 1
        slots = self.push(features, labels)
        diag = {
            "replaced": 0,
            "refit": False,
            "bank": int(self.bank_count),
            "blocked": 0,
            "class_refused": 0,
            "cross_class": 0.0,
        }
        if self._due():
            diag.update(self.refit())
            diag["refit"] = True
        if int(self.fit_count) < 2:
            self.last = None
            return features, diag
        out, self.last = self._replace(features, slots if diag["refit"] else None, labels)
        diag.update(pair_counts(self.last, self.options.threshold))
        return out, diag

    @torch.no_grad()
    def cells_of(self, features: torch.Tensor) -> torch.Tensor:
        """Fitted entry whose cell stands for each feature: the nearest fitted code, (B,) long."""
        n = int(self.fit_count)
        dist = torch.cdist(self.codes(features), self.fit_codes[:n], compute_mode="donot_use_mm_for_euclid_dist")
        return dist.argmin(1)

    def _replace(
        self, features: torch.Tensor, own_slots: torch.Tensor | None, labels: torch.Tensor
    ) -> tuple[torch.Tensor, OTStepRecord]:
        o = self.options
        y = features.detach().float()
        with torch.no_grad():
            if own_slots is not None and bool((own_slots >= 0).all()):
                cells = own_slots
            else:
                cells = self.cells_of(y)
            g = torch.Generator().manual_seed(o.seed * 1_000_003 + int(self.step))
            partner, replaced, record = pair_cells(
                cells, labels, self.cell_neighbours, self.fit_codes, self.fit_labels, g, o.threshold, o.same_class
            )
            z_gen = interpolate_features(y, self.fit_features[partner], o.weight)
            delta = torch.where(replaced.unsqueeze(1), z_gen - y, torch.zeros_like(y)).to(features.dtype)
        # straight-through: the value of z_gen, the gradient of the features (companion OTBlock)
        return features + delta, record

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def training_points(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Up to ``n`` generated features with their class, as extra training data.

        The draws of :meth:`generated_features` with ``same_class=True`` (a kept pair joins two
        fitted entries of the same known label, so :math:`z = (1 - w) y_i + w y_j` belongs to
        that class), from a generator seeded by the module's seed and its step counter, so that a
        resumed run draws the same points. Returns features (m, D) and labels (m,) long, m <= n;
        empty before the first fit.
        """
        fitted = int(self.fit_count)
        if n < 1 or fitted < 2:
            return self.fit_features.new_zeros((0, self.fit_features.shape[1])), self.fit_labels.new_zeros((0,))
        g = torch.Generator().manual_seed(self.options.seed * 1_000_003 + 500_009 + int(self.step))
        features, record = self.generated_features(n, g, same_class=True)
        labels = record.labels[record.replaced].to(features.device)
        return features, labels

    @torch.no_grad()
    def generated_features(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        threshold: float | None = None,
        weight: float | None = None,
        same_class: bool | None = None,
    ) -> tuple[torch.Tensor, OTStepRecord]:
        r"""New bottleneck features made from the last fit: AE-OT's generator (thesis section 2.2).

        Eq. 2.6, :math:`F_{geo} = T \circ f(\zeta)`, sends noise through the OT map to the fitted
        features :math:`y_i` and so only reproduces them; the thesis extends it by interpolating
        between neighbouring cells, never across the singular set. Each of the ``n`` draws takes

        - a fitted entry :math:`i`, uniformly (every cell carries the mass :math:`1/N` of the
          uniform source, up to the fit's tolerance, so this is the cell of a uniform noise point
          :math:`\zeta`),
        - a partner :math:`j`, uniformly among the cells of its row of the neighbour table
          (the second-best cells of the source points in :math:`W_i`, built at the fit),

        and keeps the pair when the facets of :math:`W_i, W_j` meet at a dihedral angle
        :math:`\theta_{ij} \le` ``threshold`` (:func:`acglab.ot.singular.dihedral_angles` on the
        fitted codes) and, with ``same_class``, the labels of :math:`i` and :math:`j` are known
        and equal; a kept pair gives

        .. math:: z = (1 - w)\, y_i + w\, y_j ,

        the value a training step substitutes for a feature of cell :math:`i` (module notes).

        Parameters
        ----------
        n : number of draws (at most ``n`` features come back: pairs across the singular set, and
            cells without neighbours, give none)
        generator : ``torch.Generator`` (CPU) of the draws; ``None``: one seeded with ``options.seed``
        threshold, weight : the angle threshold (rad, in [0, pi]) and w (in [0, 1]); ``None``: the
            module's options (0.7 and 0.75 by default)
        same_class : keep only pairs of fitted entries with the same known label; ``None``: the
            module's option (``False`` by default)

        Returns
        -------
        features : (m, D) float32 tensor, m <= n, one row per kept draw, in draw order
        record : :class:`OTStepRecord` of all n draws: ``cells`` (n,) i, ``partners`` (n,) j (-1
            without partner), ``angles`` (n,) :math:`\theta_{ij}` (NaN without partner),
            ``replaced`` (n,) bool, the kept draws, and the fitted labels of i and j with their
            ``cross_class`` flags

        Raises
        ------
        ModelConfigError
            No fit yet (fewer than two fitted entries), ``n < 1``, or threshold/weight out of range.
        """
        threshold, weight, same_class = generation_settings(
            self.options, int(self.fit_count), self.warmup, n, threshold, weight, same_class
        )
        g = generator if generator is not None else torch.Generator().manual_seed(self.options.seed)
        cells = torch.randint(0, int(self.fit_count), (n,), generator=g).to(self.fit_codes.device)
        partner, kept, record = pair_cells(
            cells,
            self.fit_labels[cells],
            self.cell_neighbours,
            self.fit_codes,
            self.fit_labels,
            g,
            threshold,
            same_class,
        )
        features = interpolate_features(self.fit_features[cells[kept]], self.fit_features[partner[kept]], weight)
        return features, record
