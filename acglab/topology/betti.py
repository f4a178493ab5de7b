r"""Betti numbers at a scale, and the number of well-separated components of a point cloud.

A bar :math:`[b, d)` of a sublevel filtration is alive at scale :math:`t` when
:math:`b \le t < d`; the Betti number :math:`\beta_k(t)` counts the alive bars of dimension
:math:`k`. For a point cloud on the diameter scale (see :mod:`acglab.topology.persistence`),
:math:`\beta_0(t)` is the number of connected components of the graph joining points at
distance :math:`\le t`, i.e. the number of clusters single linkage gives when cut at :math:`t`.

A data set with several modes has several well-separated components, and a continuous
generator cannot map a connected latent space onto them without sending some latent codes
into the gaps between them: the singular samples behind forgery traces (thesis laws 1.1-1.3).
:func:`separated_components` reads that number of components off the :math:`H_0` diagram.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from acglab.topology.inputs import TopologyInputError, as_diagrams, as_point_cloud, bars_of, is_superlevel
from acglab.topology.persistence import point_cloud_persistence


def betti_curve(bars, scales) -> np.ndarray:
    r"""Number of bars alive at each scale.

    A sublevel bar :math:`(b, d)` with :math:`b \le d` is alive on :math:`b \le t < d`; a
    superlevel bar (:math:`d < b`, from ``cubical_persistence(..., "superlevel")``) is alive on
    :math:`d < t \le b`, i.e. while :math:`\{I \ge t\}` holds the class. An essential bar
    never dies: it is alive at every scale from its birth on, ``t = inf`` included.

    bars: (n, 2); scales: scalar or array (m,) -> int array of the shape of ``scales``.
    """
    b = bars_of(bars, 0)
    t = np.asarray(scales, dtype=np.float64)
    birth, death = b[:, 0], b[:, 1]
    t_row = t.reshape(1, -1)
    if is_superlevel(b):
        alive = ((death[:, None] < t_row) | np.isneginf(death)[:, None]) & (t_row <= birth[:, None])
    else:
        alive = (birth[:, None] <= t_row) & ((t_row < death[:, None]) | np.isposinf(death)[:, None])
    return alive.sum(axis=0).reshape(t.shape)


def betti_numbers(diagrams, scale: float) -> dict[int, int]:
    r"""Betti numbers :math:`\beta_k(t)` at one scale: ``{k: number of bars of dimension k alive
    at t}`` for every dimension of the diagram (see :func:`betti_curve` for "alive")."""
    if math.isnan(float(scale)):
        raise TopologyInputError(f"scale must be a number, got {scale!r}")
    return {k: int(betti_curve(bars, float(scale))) for k, bars in as_diagrams(diagrams).items()}


def count_components(x, scale: float) -> int:
    r""":math:`\beta_0(t)`: the number of connected components of the graph joining the points of
    ``x`` (n, d) at distance :math:`\le t`. Builds only edges up to ``scale``."""
    scale = float(scale)
    if not scale >= 0:
        raise TopologyInputError(f"scale must be non-negative, got {scale!r}")
    pts = as_point_cloud(x)
    if scale == 0 or pts.shape[0] == 1:
        return int(np.unique(pts, axis=0).shape[0])
    h0 = point_cloud_persistence(pts, max_dimension=0, max_edge_length=scale)[0]
    return int(betti_curve(h0, scale))


class ComponentGap(NamedTuple):
    """The split of a point cloud into well-separated components.

    Every scale ``lower <= t < upper`` gives ``n_components`` components; ``upper / lower`` is
    the gap ratio (``inf`` when no split was accepted: then ``upper`` is ``inf``)."""

    n_components: int
    lower: float
    upper: float

    @property
    def ratio(self) -> float:
        """How many times longer the last merge kept apart is than the first one allowed."""
        return self.upper / self.lower if self.lower > 0 else math.inf

    @property
    def scale(self) -> float:
        r"""A scale in the middle of the gap, :math:`\sqrt{\mathrm{lower} \cdot \mathrm{upper}}`
        (``inf`` when there is no finite gap)."""
        return math.inf if math.isinf(self.upper) else math.sqrt(self.lower * self.upper)


def merge_heights(h0) -> np.ndarray:
    r"""The finite death times :math:`d_1 \ge d_2 \ge \dots` of an :math:`H_0` diagram (bars (m, 2)
    or a diagram dict holding them), largest first: the scales at which two components merge
    (single-linkage heights on the diameter scale). Essential bars (death ``inf``) are left out."""
    deaths = bars_of(h0, 0)[:, 1]
    return np.sort(deaths[np.isfinite(deaths)])[::-1]


def largest_h0_gap(h0, min_ratio: float = 2.0, max_components: int = 20) -> ComponentGap:
    r"""Number of well-separated components from the largest gap between :math:`H_0` deaths.

    With finite :math:`H_0` death times sorted decreasingly, :math:`d_1 \ge d_2 \ge \dots \ge
    d_m`, and :math:`e` essential bars, cutting at a scale :math:`t \in [d_{j+1}, d_j)` leaves
    :math:`e + j` components. The split chosen is

    .. math:: j^* = \arg\max_{1 \le j \le J} d_j / d_{j+1},
        \qquad J = \min(m - 1,\; \text{max\_components} - e),

    accepted when :math:`d_{j^*} / d_{j^*+1} \ge` ``min_ratio``; otherwise the cloud is
    :math:`e` components (usually one). The ratio makes the rule independent of the unit.
    :math:`j \le m - 1` keeps at least one merge below the cut (no split into single points),
    and ``max_components`` keeps the search away from the tail of tiny merge heights between
    near-duplicate points.

    Parameters
    ----------
    h0 : bars (m, 2) of dimension 0 (births 0), or a diagram dict holding them.
    min_ratio : smallest gap ratio that counts as a separation (> 1).
    max_components : largest number of components considered.
    """
    if not float(min_ratio) > 1:
        raise TopologyInputError(f"min_ratio must be > 1, got {min_ratio!r}")
    if int(max_components) < 1:
        raise TopologyInputError(f"max_components must be >= 1, got {max_components!r}")
    n_essential = int(np.isinf(bars_of(h0, 0)[:, 1]).sum())
    deaths = merge_heights(h0)
    if deaths.size == 0:
        return ComponentGap(max(n_essential, 1), 0.0, math.inf)
    n_cuts = min(deaths.size - 1, int(max_components) - n_essential)
    if n_cuts >= 1:
        with np.errstate(divide="ignore"):
            ratios = deaths[:n_cuts] / deaths[1 : n_cuts + 1]
        j = int(np.argmax(ratios))
        if ratios[j] >= float(min_ratio):
            return ComponentGap(n_essential + j + 1, float(deaths[j + 1]), float(deaths[j]))
    return ComponentGap(n_essential, float(deaths[0]), math.inf)


def separated_components(x, min_ratio: float = 2.0, max_components: int = 20) -> ComponentGap:
    """:func:`largest_h0_gap` of the :math:`H_0` diagram of a point cloud ``x`` (n, d): the
    number of well-separated components (modes) a generator of these samples must respect."""
    h0 = point_cloud_persistence(x, max_dimension=0)[0]
    return largest_h0_gap(h0, min_ratio, max_components)
