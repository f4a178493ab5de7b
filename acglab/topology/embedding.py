r"""UMAP embeddings of high-dimensional features (e.g. latent codes of real and fake faces)
into 2-D or 3-D for plotting.

UMAP builds the fuzzy k-nearest-neighbour graph of the data (``n_neighbors`` sets how local the
structure it keeps is) and lays it out in :math:`\mathbb{R}^m` by minimising the cross-entropy
between that graph and the same kind of graph of the layout; ``min_dist`` is how tightly
points may pack in the layout. Clusters and their neighbourhoods survive; distances between
far-apart clusters and cluster sizes do not, so read topology (what touches what) from the
picture, not geometry, and measure distances with :mod:`acglab.topology.persistence` on the
original features.

umap-learn compiles its kernels with numba on first use: the first call in a process takes
tens of seconds, later ones are fast. It is imported only when an embedding is computed.
"""

from __future__ import annotations

import numpy as np

from acglab.topology.inputs import TopologyInputError, as_point_cloud


def umap_embedding(
    x,
    n_components: int = 2,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    seed: int | None = 0,
    metric: str = "euclidean",
) -> np.ndarray:
    """UMAP layout of the rows of ``x``.

    Parameters
    ----------
    x : array (n, d) of features, n > n_components + 1.
    n_components : 2 or 3, the dimension of the layout.
    n_neighbors : size of the neighbourhoods kept (clipped to n - 1).
    min_dist : smallest distance between points of the layout, in [0, 1).
    seed : random seed; with a seed the layout is reproducible (UMAP then runs on one thread),
        with ``None`` it uses all threads and differs from run to run.
    metric : any metric name umap-learn accepts (``"euclidean"``, ``"cosine"``, ...).

    Returns
    -------
    float32 array (n, n_components).
    """
    pts = as_point_cloud(x)
    n = pts.shape[0]
    if n_components not in (2, 3):
        raise TopologyInputError(f"n_components must be 2 or 3 (a layout to plot), got {n_components!r}")
    if n <= n_components + 1:
        raise TopologyInputError(
            f"UMAP needs more than {n_components + 1} points for a {n_components}-D layout, got {n}"
        )
    if int(n_neighbors) < 2:
        raise TopologyInputError(f"n_neighbors must be >= 2, got {n_neighbors!r}")
    if not 0 <= float(min_dist) < 1:
        raise TopologyInputError(f"min_dist must be in [0, 1), got {min_dist!r}")
    import umap  # first import compiles numba kernels (slow): keep it out of module import

    reducer = umap.UMAP(
        n_components=int(n_components),
        n_neighbors=min(int(n_neighbors), n - 1),
        min_dist=float(min_dist),
        metric=metric,
        random_state=None if seed is None else int(seed),
        n_jobs=1 if seed is not None else -1,
    )
    try:
        layout = reducer.fit_transform(pts)
    except ValueError as err:  # e.g. an unknown metric name
        raise TopologyInputError(f"UMAP failed: {err}") from None
    return np.asarray(layout, dtype=np.float32)


class LinearProjection:
    """The principal-component projection of a point cloud: ``(x - mean) @ components.T``.

    Unlike UMAP it is linear, so other points (cluster centres, a path between two codes) land
    where the same map puts them, and straight lines stay straight.
    """

    def __init__(self, mean: np.ndarray, components: np.ndarray, explained: np.ndarray):
        self.mean, self.components, self.explained = mean, components, explained

    def __call__(self, x) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean) @ self.components.T).astype(np.float32)


def pca_projection(x, n_components: int = 2) -> LinearProjection:
    """The projection of the rows of ``x`` (n, d) onto their ``n_components`` principal axes
    (right singular vectors of the centred data, largest first; each axis' sign fixed so that
    its largest coordinate is positive). ``explained``: the share of the variance each axis holds."""
    pts = as_point_cloud(x).astype(np.float64)
    if not 1 <= int(n_components) <= pts.shape[1]:
        raise TopologyInputError(f"n_components must lie in [1, {pts.shape[1]}], got {n_components!r}")
    mean = pts.mean(0)
    _, s, vt = np.linalg.svd(pts - mean, full_matrices=False)
    vt = vt[: int(n_components)]
    vt *= np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])[:, None]
    var = s**2
    return LinearProjection(mean, vt, var[: int(n_components)] / max(var.sum(), 1e-300))
