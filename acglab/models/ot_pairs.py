r"""Pairs of OT cells: neighbour tables, partner draws and the singular-set test.

After a fit, every fitted entry i (cell :math:`W_i` of the Brenier potential) has a row of
neighbouring cells (:func:`neighbour_table`). A sample standing in cell i gets one partner j of
that row (:func:`draw_partners`), and :func:`pair_cells` keeps the pair when the facets of
:math:`W_i, W_j` meet at a dihedral angle of at most the threshold (the face :math:`W_i | W_j` is
not in the singular set, :func:`acglab.ot.singular.dihedral_angles`) and, on request, the two
labels are known and equal. A kept pair gives the interpolation of thesis section 2.2,
:math:`z = (1 - w)\, y_i + w\, y_j` (:func:`interpolate_features`). Everything a pairing decided
is kept per sample in an :class:`OTStepRecord`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from acglab.ot.singular import dihedral_angles


@dataclass
class OTStepRecord:
    """Per-sample details of a pairing (:func:`pair_cells`): the samples of the last training step
    or the draws of a generation (CPU tensors, for tests and figures).

    cells (B,): fitted entry whose cell holds the sample; partners (B,): drawn neighbour (-1 if
    the cell has none); angles (B,): dihedral angle between their facets (NaN without partner);
    replaced (B,) bool; labels (B,): the sample's label (-1: unknown); partner_labels (B,): the
    partner's label (-1: unknown or no partner); cross_class (B,) bool: the sample has a partner
    and both labels are known and differ (whether or not it was replaced).
    """

    cells: torch.Tensor
    partners: torch.Tensor
    angles: torch.Tensor
    replaced: torch.Tensor
    labels: torch.Tensor | None = None
    partner_labels: torch.Tensor | None = None
    cross_class: torch.Tensor | None = None


def neighbour_table(cells: torch.Tensor, n: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """Up to k second-best cells per best cell, from the top-2 cells (M, 2) of source points.

    Source points are visited in a random order (``generator``); the first k points found in
    cell i give row i. Returns (n, k) long, rows filled from the left, -1 where a cell has fewer
    than k points.
    """
    order = torch.randperm(cells.shape[0], generator=generator).to(cells.device)
    best, second = cells[order, 0], cells[order, 1]
    sort = torch.argsort(best, stable=True)
    best, second = best[sort], second[sort]
    counts = torch.bincount(best, minlength=n)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(best.shape[0], device=best.device) - starts[best]
    keep = rank < k
    table = torch.full((n, k), -1, dtype=torch.long, device=cells.device)
    table[best[keep], rank[keep]] = second[keep]
    return table


def draw_partners(table: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One entry per row of a left-filled table (B, k), uniformly among its valid entries (-1 if none)."""
    valid = (table >= 0).sum(1)
    u = torch.rand(table.shape[0], generator=generator).to(table.device)
    pick = torch.minimum((u * valid).long(), (valid - 1).clamp(min=0))
    partner = table.gather(1, pick.unsqueeze(1)).squeeze(1)
    return torch.where(valid > 0, partner, torch.full_like(partner, -1))


def class_pairs(
    labels: torch.Tensor, partner_labels: torch.Tensor, has: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(same, cross) masks (B,) of pairs with a partner (``has``) whose labels are both known
    (>= 0) and equal, or both known and different. An unknown label matches nothing."""
    known = has & (labels >= 0) & (partner_labels >= 0)
    return known & (labels == partner_labels), known & (labels != partner_labels)


def interpolate_features(own: torch.Tensor, partner: torch.Tensor, w: float) -> torch.Tensor:
    """z = (1 - w) y_i + w y_j (thesis section 2.2, AE-OT's generator), rows of (B, D)."""
    return (1 - w) * own + w * partner


def pair_cells(
    cells: torch.Tensor,
    labels: torch.Tensor,
    neighbours: torch.Tensor,
    codes: torch.Tensor,
    fit_labels: torch.Tensor,
    generator: torch.Generator,
    threshold: float,
    same_class: bool,
) -> tuple[torch.Tensor, torch.Tensor, OTStepRecord]:
    """Partner, dihedral angle and class test of samples standing in fitted cells.

    Each sample of cell ``cells[b]`` (labelled ``labels[b]``, -1: unknown) draws a partner from
    its row of the neighbour table ``neighbours`` (N, k); the pair is kept when the cell has a
    partner other than itself, the facets of the two cells meet at a dihedral angle <=
    ``threshold`` (on the fitted ``codes`` (N, d)) and, with ``same_class``, the sample's label
    equals the partner's fitted label (``fit_labels`` (N,), both known).

    Returns ``partner`` (B,): the partner, or the sample's own cell where it has none (a valid
    index either way), ``kept`` (B,) bool, both on the cells' device, and the
    :class:`OTStepRecord` of the pairs (CPU).
    """
    partners = draw_partners(neighbours[cells], generator)
    has = (partners >= 0) & (partners != cells)
    partner = torch.where(has, partners, cells)
    angles = dihedral_angles(codes, cells, partner)
    partner_labels = torch.where(has, fit_labels[partner], torch.full_like(labels, -1))
    same, cross = class_pairs(labels, partner_labels, has)
    kept = has & (angles <= threshold)
    if same_class:
        kept = kept & same
    record = OTStepRecord(
        cells.cpu(),
        partners.cpu(),
        torch.where(has, angles, torch.full_like(angles, float("nan"))).cpu(),
        kept.cpu(),
        labels.cpu(),
        partner_labels.cpu(),
        cross.cpu(),
    )
    return partner, kept, record


def pair_counts(record: OTStepRecord, threshold: float) -> dict:
    """Diagnostics of a pairing: ``replaced`` (pairs kept), ``blocked`` (pairs across the singular
    set), ``class_refused`` (pairs that passed the angle test but were refused for their labels)
    and ``cross_class`` (share of the kept pairs whose labels differ; 0 when none was kept)."""
    replaced = int(record.replaced.sum())
    pair = (record.partners >= 0) & (record.partners != record.cells)
    angle_ok = pair & (record.angles <= threshold)
    return {
        "replaced": replaced,
        "blocked": int((pair & ~angle_ok).sum()),
        "class_refused": int((angle_ok & ~record.replaced).sum()),
        "cross_class": float((record.replaced & record.cross_class).sum()) / replaced if replaced else 0.0,
    }


def generation_settings(
    options, fit_count: int, warmup: int, n, threshold: float | None, weight: float | None, same_class: bool | None
) -> tuple[float, float, bool]:
    """The checked settings of :meth:`OTFeatureModule.generated_features` (``None``: the module's
    ``options``); :class:`ModelConfigError` for a bad value or a module not fitted yet."""
    from acglab.errors import ModelConfigError

    threshold = float(options.threshold if threshold is None else threshold)
    weight = float(options.weight if weight is None else weight)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ModelConfigError(f"the number of draws must be an integer >= 1, got {n!r}")
    if not 0 <= threshold <= math.pi or not 0 <= weight <= 1:
        raise ModelConfigError(f"threshold must lie in [0, pi] and weight in [0, 1], got {threshold!r} and {weight!r}")
    if fit_count < 2:
        raise ModelConfigError(
            "the OT module has not been fitted yet: train the model until its bank holds "
            f"{max(2, warmup)} features (it refits every {options.refit_every} steps)"
        )
    return threshold, weight, bool(options.same_class if same_class is None else same_class)
