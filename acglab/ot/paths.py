r"""Paths between two latent codes: straight, spherical and OT-aware, and what each one crosses.

Thesis section 1.1 (Figs. 1-3, 1-4): if the generated distribution :math:`\mu_\theta` is not a
connected (convex) set, a path AB sampled in the latent space passes a point C of the singular
set, which the decoder maps between the components, C' in Fig. 1-3: the interpolated face
shows artefacts (blur, two identities, one blue and one brown eye in Fig. 1-4). Laws 1.1-1.3
state this as the thesis' hypotheses. This module builds the three paths a notebook compares
and measures them against the codes' semi-discrete OT map (eq. 1.7, fitted by
:class:`~acglab.ot.solver.SemiDiscreteOT`):

- :func:`linear_path` -- :math:`z(t) = (1 - t)\,a + t\,b`;
- :func:`spherical_path` -- spherical linear interpolation (Shoemake 1985; White 2016 for
  generative models): the angle between a and b is swept uniformly and the norm interpolated
  linearly, so the path keeps the typical norm of Gaussian codes instead of cutting through
  the low-density centre;
- :func:`ot_route` + :func:`polyline_path` -- the OT-aware path: a chain of training codes
  :math:`y_{i_0} = a, y_{i_1}, \dots, y_{i_m} = b` in which consecutive codes own *neighbouring*
  power cells :math:`W_{i_k}, W_{i_{k+1}}` whose common face is regular (dihedral angle at most
  the threshold, :mod:`acglab.ot.singular`), found by Dijkstra's algorithm on the cell graph
  with edge lengths :math:`\|y_i - y_j\|`; its straight pieces are exactly the segments AE-OT
  draws its new codes from (:mod:`acglab.ot.generate`). Singular faces stay in the graph with
  a penalty larger than any regular route, so the route crosses the singular set as few times
  as possible and only where it must (a and b in different components of the regular graph).

:func:`path_report` places each point of a path against the codes: its distance to the
nearest training code, and whether the nearest segment between neighbouring codes is one AE-OT
interpolates along (``"regular"``), one whose cells meet on a singular face (``"singular"``),
or whether no such segment comes close (``"gap"``). A point of the last two kinds is a point
the OT generator never produces: the path is crossing the singular set there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from acglab.ot.targets import OTInputError

#: point kinds of :func:`path_report`
REGULAR, SINGULAR, GAP = 0, 1, 2
KIND_NAMES = ("regular", "singular", "gap")


def _endpoints(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size == 0:
        raise OTInputError(f"path endpoints must be vectors of one length, got {a.shape} and {b.shape}")
    return a, b


def _check_steps(steps: int) -> None:
    if not isinstance(steps, (int, np.integer)) or steps < 2:
        raise OTInputError(f"a path needs at least 2 steps, got {steps!r}")


def linear_path(a, b, steps: int) -> np.ndarray:
    """(steps, d) points :math:`(1 - t)a + tb`, t evenly spaced in [0, 1]."""
    a, b = _endpoints(a, b)
    _check_steps(steps)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) * a + t * b


def spherical_path(a, b, steps: int) -> np.ndarray:
    r"""(steps, d) spherical interpolation: direction by slerp, norm linearly.

    With :math:`\hat a, \hat b` the unit directions and :math:`\Omega` their angle,
    :math:`z(t) = ((1-t)\|a\| + t\|b\|)\,\frac{\sin((1-t)\Omega)\hat a + \sin(t\Omega)\hat b}{\sin\Omega}`.
    Equal directions (Omega ~ 0) give the straight path; opposite ones (Omega ~ pi) have no
    unique great circle and are refused.
    """
    a, b = _endpoints(a, b)
    _check_steps(steps)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return linear_path(a, b, steps)
    ua, ub = a / na, b / nb
    omega = float(np.arccos(np.clip(ua @ ub, -1.0, 1.0)))
    if omega < 1e-6:
        return linear_path(a, b, steps)
    if np.pi - omega < 1e-6:
        raise OTInputError("opposite endpoints: no unique great circle between them")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    return ((1 - t) * na + t * nb) * direction


def polyline_path(points, steps: int) -> np.ndarray:
    """(steps, d) points evenly spaced by arc length along the polyline through ``points`` (K, d)."""
    points = np.asarray(points, dtype=np.float64)
    _check_steps(steps)
    if points.ndim != 2 or points.shape[0] < 1:
        raise OTInputError(f"a polyline needs points (K, d), got shape {points.shape}")
    if points.shape[0] == 1:
        return np.repeat(points, steps, axis=0)
    lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
    if cumulative[-1] == 0:
        return np.repeat(points[:1], steps, axis=0)
    s = np.linspace(0.0, cumulative[-1], steps)
    piece = np.clip(np.searchsorted(cumulative, s, side="right") - 1, 0, len(lengths) - 1)
    local = (s - cumulative[piece]) / np.where(lengths[piece] > 0, lengths[piece], 1.0)
    return points[piece] + local[:, None] * (points[piece + 1] - points[piece])


@dataclass
class Route:
    """A chain of training codes from ``nodes[0]`` to ``nodes[-1]``.

    nodes : code indices in order; singular_steps : steps across a singular face (or, when
    the cells are not connected at all, the one direct jump); length : sum of the steps'
    Euclidean lengths.
    """

    nodes: list[int]
    singular_steps: int
    length: float


def _pair_lengths(y: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    return np.linalg.norm(y[pairs[:, 0]] - y[pairs[:, 1]], axis=1)


def ot_route(y, pairs, singular, start: int, end: int) -> Route:
    """Shortest chain of neighbouring cells from code ``start`` to code ``end`` (module notes).

    y : (N, d) codes; pairs : (P, 2) neighbouring cells (from
    :func:`acglab.ot.singular.singular_pairs`); singular : (P,) whether their face is singular.
    Regular faces cost their length; singular faces their length plus a penalty larger than the
    sum of all lengths, so the route has the fewest singular steps first and is shortest among
    those. Without any connection the route is the direct jump [start, end].
    """
    y = np.asarray(y, dtype=np.float64)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    singular = np.asarray(singular, dtype=bool).reshape(-1)
    n = y.shape[0]
    if not (0 <= start < n and 0 <= end < n):
        raise OTInputError(f"route ends must be code indices in [0, {n}), got {start} and {end}")
    if singular.shape[0] != pairs.shape[0]:
        raise OTInputError(f"{pairs.shape[0]} pairs but {singular.shape[0]} singular flags")
    if start == end:
        return Route([int(start)], 0, 0.0)
    lengths = _pair_lengths(y, pairs)
    penalty = float(lengths.sum()) + 1.0
    # a tiny floor keeps coincident codes connected (csgraph drops explicit zeros)
    cost = np.maximum(lengths, 1e-12) + penalty * singular
    graph = csr_matrix(
        (
            np.concatenate([cost, cost]),
            (np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]])),
        ),
        shape=(n, n),
    )
    dist, previous = dijkstra(graph, directed=False, indices=int(start), return_predecessors=True)
    if not np.isfinite(dist[end]):
        return Route([int(start), int(end)], 1, float(np.linalg.norm(y[start] - y[end])))
    nodes = [int(end)]
    while nodes[-1] != start:
        nodes.append(int(previous[nodes[-1]]))
    nodes.reverse()
    singular_set = {tuple(p) for p in np.sort(pairs[singular], axis=1).tolist()}
    steps = [tuple(sorted(s)) for s in zip(nodes[:-1], nodes[1:])]
    length = float(sum(np.linalg.norm(y[i] - y[j]) for i, j in steps))
    return Route(nodes, sum(s in singular_set for s in steps), length)


def segment_distances(points, a, b, chunk: int = 2**22) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each point (T, d) to the nearest of the segments [a_p, b_p] (P, d):
    returns (distance (T,), index of that segment (T,)); P = 0 gives inf and -1."""
    points, a, b = (np.asarray(v, dtype=np.float64) for v in (points, a, b))
    t_count = points.shape[0]
    if a.shape[0] == 0:
        return np.full(t_count, np.inf), np.full(t_count, -1, dtype=np.int64)
    direction = b - a
    length2 = np.maximum((direction**2).sum(1), 1e-300)
    best, which = np.full(t_count, np.inf), np.full(t_count, -1, dtype=np.int64)
    rows = max(1, chunk // max(1, a.shape[0] * a.shape[1]))
    for s in range(0, t_count, rows):
        z = points[s : s + rows, None, :]
        w = np.clip(((z - a[None]) * direction[None]).sum(2) / length2[None], 0.0, 1.0)
        d = np.linalg.norm(z - (a[None] + w[..., None] * direction[None]), axis=2)
        which[s : s + rows] = d.argmin(1)
        best[s : s + rows] = d[np.arange(d.shape[0]), which[s : s + rows]]
    return best, which


@dataclass
class PathReport:
    """Where the points of a path lie relative to the codes and their cell graph (module notes).

    nearest : (T,) index of the nearest code; distance : (T,) distance to it;
    regular_distance, singular_distance : (T,) distance to the nearest segment between codes
    of a regular (singular) face, inf when there is none; kind : (T,) ``REGULAR``, ``SINGULAR``
    or ``GAP``; radius : the distance beyond which a point is in a gap.
    """

    nearest: np.ndarray
    distance: np.ndarray
    regular_distance: np.ndarray
    singular_distance: np.ndarray
    kind: np.ndarray
    radius: float

    @property
    def crossing(self) -> np.ndarray:
        """(T,) points off the segments AE-OT interpolates along."""
        return self.kind != REGULAR

    def counts(self) -> dict[str, int]:
        """How many points of each kind."""
        return {name: int((self.kind == k).sum()) for k, name in enumerate(KIND_NAMES)}


def spacing(y) -> float:
    """Median distance from a code to its nearest other code."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.median(cKDTree(y).query(y, k=2)[0][:, 1]))


def path_report(path, y, pairs, singular, radius: float | None = None) -> PathReport:
    r"""Classify the points of ``path`` (T, d) against codes ``y`` (N >= 2, d) and their cell
    graph (``pairs`` (P, 2), ``singular`` (P,); see :func:`ot_route`).

    The segments :math:`[y_i, y_j]` of regular faces are where AE-OT generates new codes
    (eq. 2.6 and the interpolation that extends it); those of singular faces cross the
    singular set. A point is ``REGULAR`` when its nearest segment is regular, ``SINGULAR`` when
    it is singular, either within ``radius`` (default: :func:`spacing` of the codes), and
    ``GAP`` when no segment comes that close: the OT map generates nothing near it.
    """
    path, y = np.asarray(path, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if path.ndim != 2 or y.ndim != 2 or path.shape[1] != y.shape[1] or y.shape[0] < 2:
        raise OTInputError(f"path (T, d) and at least two codes (N, d) needed, got {path.shape} and {y.shape}")
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    singular = np.asarray(singular, dtype=bool).reshape(-1)
    if singular.shape[0] != pairs.shape[0]:
        raise OTInputError(f"{pairs.shape[0]} pairs but {singular.shape[0]} singular flags")
    radius = spacing(y) if radius is None else float(radius)
    distance, nearest = cKDTree(y).query(path, k=1)
    reg = pairs[~singular]
    sing = pairs[singular]
    regular_distance, _ = segment_distances(path, y[reg[:, 0]], y[reg[:, 1]])
    singular_distance, _ = segment_distances(path, y[sing[:, 0]], y[sing[:, 1]])
    kind = np.where(regular_distance <= singular_distance, REGULAR, SINGULAR)
    kind = np.where(np.minimum(regular_distance, singular_distance) > radius, GAP, kind).astype(np.int64)
    return PathReport(nearest.astype(np.int64), distance, regular_distance, singular_distance, kind, radius)
