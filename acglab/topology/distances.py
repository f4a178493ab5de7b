r"""Bottleneck and Wasserstein distances between persistence diagrams (gudhi; Wasserstein
through POT).

Both match the bars of one diagram to the bars of the other or to the diagonal (a bar matched
to the diagonal is "noise that vanished"). With the ground metric :math:`\|\cdot\|_p` on the
(birth, death) plane, a bar :math:`(b, d)` is at distance :math:`2^{1/p}|d - b|/2` from the
diagonal (:math:`|d - b|/2` for :math:`p = \infty`). Over all such partial matchings
:math:`\pi`,

.. math::
    d_B(A, B) = \min_\pi \max_{a} \|a - \pi(a)\|_\infty, \qquad
    W_q(A, B) = \Big(\min_\pi \sum_{a} \|a - \pi(a)\|_p^q\Big)^{1/q}.

**Essential bars (death = inf).** With ``essential="match"`` (the default, as gudhi does) the
essential bars of the two diagrams are matched only to each other, at cost
:math:`|b_a - b_{a'}|` between births; when the diagrams have different numbers of them the
distance is ``inf``. With ``essential="drop"`` they are removed first and only finite bars are
compared (useful for clouds cut at different ``max_edge_length``).

Superlevel diagrams (``birth >= death``, essential deaths ``-inf``) are compared after negating
both coordinates, which leaves both distances unchanged and is the form gudhi expects.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from acglab.topology.inputs import TopologyInputError, bars_of, is_superlevel


def _comparable_pair(a, b, dimension: int, essential: str) -> tuple[np.ndarray, np.ndarray]:
    """Bars of ``dimension`` of both diagrams, in sublevel form, with essential bars kept or
    dropped."""
    if essential not in ("match", "drop"):
        raise TopologyInputError(f"essential must be 'match' or 'drop', got {essential!r}")
    pa, pb = bars_of(a, dimension), bars_of(b, dimension)
    sa, sb = is_superlevel(pa), is_superlevel(pb)
    if sa != sb and len(pa) and len(pb):
        raise TopologyInputError(
            "one diagram is of a sublevel and the other of a superlevel filtration; "
            "compute both with the same filtration"
        )
    if sa or sb:
        pa, pb = -pa, -pb
    if essential == "drop":
        pa, pb = pa[np.isfinite(pa[:, 1])], pb[np.isfinite(pb[:, 1])]
    return pa, pb


def bottleneck_distance(a, b, dimension: int = 0, essential: str = "match") -> float:
    r"""Bottleneck distance :math:`d_B` between two diagrams (ground metric :math:`L_\infty`).

    Parameters
    ----------
    a, b : diagram dicts (bars of ``dimension`` are compared) or bar arrays (n, 2).
    dimension : homology dimension compared when ``a`` and ``b`` are dicts.
    essential : ``"match"`` or ``"drop"`` (see the module notes); ``inf`` when matched
        essential counts differ.

    Returns
    -------
    float, exact (gudhi's exact algorithm).
    """
    import gudhi

    pa, pb = _comparable_pair(a, b, dimension, essential)
    return float(gudhi.bottleneck_distance(pa, pb, e=0))


def wasserstein_distance(
    a, b, order: float = 1.0, internal_p: float = math.inf, dimension: int = 0, essential: str = "match"
) -> float:
    r"""Wasserstein distance :math:`W_q` between two diagrams.

    Parameters
    ----------
    a, b : diagram dicts (bars of ``dimension`` are compared) or bar arrays (n, 2).
    order : the exponent :math:`q \ge 1`.
    internal_p : the ground metric :math:`L_p` on the plane, :math:`1 \le p \le \infty`.
    dimension : homology dimension compared when ``a`` and ``b`` are dicts.
    essential : ``"match"`` or ``"drop"`` (see the module notes); ``inf`` when matched
        essential counts differ.
    """
    if not float(order) >= 1 or math.isinf(float(order)):
        raise TopologyInputError(f"order must be a finite number >= 1 (use bottleneck_distance for inf), got {order!r}")
    if not float(internal_p) >= 1:
        raise TopologyInputError(f"internal_p must be >= 1, got {internal_p!r}")
    from gudhi.wasserstein import wasserstein_distance as gudhi_wasserstein

    pa, pb = _comparable_pair(a, b, dimension, essential)
    with warnings.catch_warnings():  # gudhi warns when essential counts differ: we document inf
        warnings.simplefilter("ignore", UserWarning)
        return float(
            gudhi_wasserstein(pa, pb, order=float(order), internal_p=float(internal_p), keep_essential_parts=True)
        )
