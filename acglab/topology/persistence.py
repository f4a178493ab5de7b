r"""Persistence diagrams of point clouds (Rips and Alpha complexes) and images (cubical
complexes), computed with gudhi.

Samples :math:`y_1, \dots, y_n` of the empirical measure :math:`\nu` (thesis eq. 1.5) only
show the support :math:`\Sigma(\nu)` (thesis eq. 1.6) up to noise. Persistent homology grows a
complex on the samples as a scale :math:`t` increases and records, for every homology class,
the scale at which it is born and the scale at which it dies. Long bars are features of the
support (its components :math:`H_0`, loops :math:`H_1`, cavities :math:`H_2`); short bars are
sampling noise.

**One scale for both complexes (the diameter scale).** All point-cloud diagrams here are
reported as Rips edge lengths: a simplex enters at the largest distance between two of its
vertices. gudhi's Alpha complex filters by the *squared* radius :math:`\alpha = r^2` of the
smallest empty ball circumscribing a simplex; we report :math:`t = 2\sqrt{\alpha} = 2r` (the
ball's diameter). On this scale

* :math:`H_0` of Alpha and Rips coincide exactly: both are the merge heights of single-linkage
  clustering (the Euclidean minimum spanning tree's edges are Gabriel edges, which enter the
  Alpha complex at :math:`(|pq|/2)^2`);
* higher dimensions are interleaved: with :math:`\mathrm{Alpha}(t)` homotopic to the Čech
  complex of balls of radius :math:`t/2`, :math:`\mathrm{Alpha}(t) \subseteq \mathrm{Rips}(t)
  \subseteq \mathrm{Alpha}(t\sqrt{2d/(d+1)})` (Jung's theorem), so a loop of a circle dies up to
  :math:`\sqrt{4/3} \approx 1.155` times later in Alpha than in Rips in the plane.

Alpha is exact and fast in dimension :math:`d \le 3` (about 0.01 s for 1000 points in 2-D)
but explodes above (minutes in 8-D); Rips works in any dimension but grows like
:math:`n^{k+2}` for :math:`H_k`, so ``max_edge_length`` (a cut) and ``sparse`` (an
approximation) keep it tractable.
"""

from __future__ import annotations

import math

import numpy as np

from acglab.topology.inputs import Diagrams, TopologyInputError, as_image, as_point_cloud

#: point clouds of at most this dimension use the Alpha complex under ``complex="auto"``
ALPHA_MAX_DIM = 3
#: coefficient field of the homology (gudhi's default; Z/11 sees no torsion of small order)
COEFF_FIELD = 11


def alpha_to_diameter(alpha_square):
    r"""gudhi Alpha filtration values (squared radii :math:`r^2`) on the diameter scale,
    :math:`t = 2\sqrt{r^2}`; ``inf`` stays ``inf``. Accepts a scalar or an array."""
    return 2.0 * np.sqrt(np.maximum(np.asarray(alpha_square, dtype=np.float64), 0.0))


def diameter_to_alpha(scale: float) -> float:
    r"""The inverse of :func:`alpha_to_diameter`: :math:`r^2 = (t/2)^2`."""
    return (float(scale) / 2.0) ** 2


def _check_dimension(max_dimension: int) -> int:
    if int(max_dimension) != max_dimension or max_dimension < 0:
        raise TopologyInputError(f"max_dimension must be a homology dimension 0, 1, 2, ..., got {max_dimension!r}")
    return int(max_dimension)


def _check_cut(max_edge_length: float) -> float:
    cut = float(max_edge_length)
    if not cut > 0:
        raise TopologyInputError(f"max_edge_length must be positive, got {max_edge_length!r}")
    return cut


def sort_bars(bars: np.ndarray) -> np.ndarray:
    """Bars (n, 2) ordered longest first (essential ones first), then by birth."""
    bars = np.asarray(bars, dtype=np.float64).reshape(-1, 2)
    with np.errstate(invalid="ignore"):
        length = np.abs(bars[:, 1] - bars[:, 0])
    return bars[np.lexsort((bars[:, 0], -length))]


def simplex_tree_diagrams(simplex_tree, max_dimension: int, min_persistence: float = 0.0, rescale=None) -> Diagrams:
    """Persistence of a gudhi ``SimplexTree`` or ``CubicalComplex`` as ``{k: bars (n_k, 2)}``
    for ``k = 0 .. max_dimension``, each sorted by :func:`sort_bars`.

    gudhi skips the top dimension of a simplex tree unless asked; it is asked exactly when that
    dimension is wanted, so a complex of isolated points still has its :math:`H_0`.
    ``rescale`` maps filtration values to the reported scale (e.g. :func:`alpha_to_diameter`).
    """
    options = dict(homology_coeff_field=COEFF_FIELD, min_persistence=min_persistence)
    if hasattr(simplex_tree, "expansion"):  # a SimplexTree (a CubicalComplex has all dimensions)
        options["persistence_dim_max"] = simplex_tree.dimension() <= max_dimension
    simplex_tree.compute_persistence(**options)
    out = {}
    for k in range(max_dimension + 1):
        bars = np.asarray(simplex_tree.persistence_intervals_in_dimension(k), dtype=np.float64).reshape(-1, 2)
        if rescale is not None:
            bars = rescale(bars)
        out[k] = sort_bars(bars + 0.0)  # + 0.0 turns -0.0 into 0.0
    return out


def rips_persistence(
    x,
    max_dimension: int = 1,
    max_edge_length: float = math.inf,
    sparse: float | None = None,
    min_persistence: float = 0.0,
) -> Diagrams:
    r"""Persistence of the Vietoris–Rips filtration of a point cloud.

    A simplex :math:`\sigma` enters at :math:`t(\sigma) = \max_{p, q \in \sigma} \|p - q\|_2`.

    Parameters
    ----------
    x : array (n, d) of points.
    max_dimension : highest homology dimension computed (simplices up to ``max_dimension + 1``
        are built).
    max_edge_length : edges longer than this are left out. Classes still alive at the cut are
        reported as essential (death ``inf``), so count them as "alive beyond the cut".
    sparse : if given, gudhi's sparse Rips with approximation parameter :math:`\varepsilon`:
        far fewer simplices, and its diagram is within a multiplicative factor
        :math:`1 + \varepsilon` of the exact one (on a log scale). ``None`` builds the exact
        complex, reduced by edge collapses (which keep the persistence of a flag complex
        unchanged) before the higher simplices are added.
    min_persistence : bars of this length or shorter are dropped (0 drops only empty bars).

    Returns
    -------
    dict ``{k: bars (n_k, 2)}`` for ``k = 0 .. max_dimension``, on the diameter scale.
    """
    import gudhi

    pts = as_point_cloud(x)
    max_dimension = _check_dimension(max_dimension)
    cut = _check_cut(max_edge_length)
    if sparse is not None and not float(sparse) > 0:
        raise TopologyInputError(f"sparse (the approximation parameter) must be positive, got {sparse!r}")
    rips = gudhi.RipsComplex(points=pts, max_edge_length=cut, sparse=None if sparse is None else float(sparse))
    if sparse is None and max_dimension >= 1:
        st = rips.create_simplex_tree(max_dimension=1)
        st.collapse_edges(nb_iterations=1)
        st.expansion(max_dimension + 1)
    else:
        st = rips.create_simplex_tree(max_dimension=max_dimension + 1)
    return simplex_tree_diagrams(st, max_dimension, min_persistence)


def alpha_persistence(
    x, max_dimension: int = 1, max_edge_length: float = math.inf, min_persistence: float = 0.0
) -> Diagrams:
    r"""Persistence of the Alpha filtration of a point cloud, reported on the diameter scale.

    gudhi gives each simplex the squared radius :math:`r^2` of its smallest empty
    circumscribing ball; we report :math:`t = 2r` (:func:`alpha_to_diameter`), which makes
    :math:`H_0` identical to :func:`rips_persistence` and higher dimensions comparable (see the
    module notes). Repeated points count once. Use it for :math:`d \le 3`.

    Parameters
    ----------
    x : array (n, d) of points.
    max_dimension : highest homology dimension returned (dimensions ``>= d`` have no bars).
    max_edge_length : simplices entering above this diameter-scale value are left out; classes
        alive at the cut are reported as essential.
    min_persistence : bars of this length or shorter (diameter scale) are dropped.

    Returns
    -------
    dict ``{k: bars (n_k, 2)}`` for ``k = 0 .. max_dimension``.
    """
    import gudhi

    pts = as_point_cloud(x)
    max_dimension = _check_dimension(max_dimension)
    cut = _check_cut(max_edge_length)
    st = gudhi.AlphaComplex(points=pts).create_simplex_tree(max_alpha_square=diameter_to_alpha(cut))
    # gudhi filters on squared radii: keep bars longer than min_persistence after rescaling
    diagrams = simplex_tree_diagrams(st, max_dimension, 0.0, rescale=alpha_to_diameter)
    if min_persistence > 0:
        diagrams = {k: b[(b[:, 1] - b[:, 0]) > min_persistence] for k, b in diagrams.items()}
    return diagrams


def point_cloud_persistence(
    x,
    max_dimension: int = 1,
    complex: str = "auto",
    max_edge_length: float = math.inf,
    sparse: float | None = None,
    min_persistence: float = 0.0,
) -> Diagrams:
    """Persistence diagrams of a point cloud on the diameter scale (Rips edge length).

    ``complex="auto"`` uses the Alpha complex for points of dimension ``d <= 3`` (exact and
    fast there) and the Rips complex above; ``"alpha"`` and ``"rips"`` force one. ``sparse``
    applies to Rips only. The other parameters and the result are those of
    :func:`rips_persistence` and :func:`alpha_persistence`.
    """
    pts = as_point_cloud(x)
    if complex not in ("auto", "alpha", "rips"):
        raise TopologyInputError(f"complex must be 'auto', 'alpha' or 'rips', got {complex!r}")
    if complex == "alpha" or (complex == "auto" and pts.shape[1] <= ALPHA_MAX_DIM):
        return alpha_persistence(pts, max_dimension, max_edge_length, min_persistence)
    return rips_persistence(pts, max_dimension, max_edge_length, sparse, min_persistence)


def cubical_persistence(
    image, filtration: str = "sublevel", connectivity: int = 8, min_persistence: float = 0.0
) -> Diagrams:
    r"""Persistence of the sublevel sets :math:`\{I \le t\}` or superlevel sets
    :math:`\{I \ge t\}` of a grey-level image, with a cubical complex.

    Parameters
    ----------
    image : array (H, W).
    filtration : ``"sublevel"`` (dark regions are born first: :math:`t` increases) or
        ``"superlevel"`` (bright regions are born first: :math:`t` decreases). Superlevel
        diagrams keep image values, so each bar has ``birth >= death`` and an essential class
        dies at ``-inf``.
    connectivity : 8 when pixels touching at a corner belong to one component (pixels are the
        squares of the complex), 4 when only pixels sharing a side do (pixels are its
        vertices). Holes (:math:`H_1`) are then bounded by the other connectivity.
    min_persistence : bars of this length or shorter are dropped.

    Returns
    -------
    dict ``{0: bars (n0, 2), 1: bars (n1, 2)}``.
    """
    import gudhi

    img = as_image(image)
    if filtration not in ("sublevel", "superlevel"):
        raise TopologyInputError(f"filtration must be 'sublevel' or 'superlevel', got {filtration!r}")
    if connectivity not in (4, 8):
        raise TopologyInputError(f"connectivity must be 4 or 8, got {connectivity!r}")
    sign = 1.0 if filtration == "sublevel" else -1.0
    values = sign * img
    cc = (
        gudhi.CubicalComplex(top_dimensional_cells=values)
        if connectivity == 8
        else gudhi.CubicalComplex(vertices=values)
    )
    return simplex_tree_diagrams(cc, 1, min_persistence, rescale=lambda bars: sign * bars)
