"""acglab.topology: persistence, Betti numbers, diagram distances, UMAP and figures, each checked
against an independent computation (scipy, scikit-learn, brute-force matchings, closed forms)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import ndimage
from scipy.cluster.hierarchy import linkage
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import cdist

from acglab.errors import AcglabError
from acglab.topology import (
    ComponentGap,
    TopologyInputError,
    alpha_persistence,
    alpha_to_diameter,
    barcode_figure,
    betti_curve,
    betti_numbers,
    bottleneck_distance,
    count_components,
    cubical_persistence,
    diameter_to_alpha,
    embedding_figure,
    largest_h0_gap,
    merge_heights,
    persistence_diagram_figure,
    point_cloud_persistence,
    rips_persistence,
    separated_components,
    umap_embedding,
    wasserstein_distance,
)


def noisy_circle(n=150, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * np.pi, n)
    return np.c_[np.cos(theta), np.sin(theta)] + rng.normal(scale=noise, size=(n, 2))


def blobs(centers, n_per=60, std=0.3, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.asarray(centers, dtype=float)
    x = np.concatenate([c + std * rng.normal(size=(n_per, centers.shape[1])) for c in centers])
    return x, np.repeat(np.arange(len(centers)), n_per)


def graph_components(x, scale):
    """Connected components of the graph joining points at distance <= scale (scipy)."""
    return connected_components(cdist(x, x) <= scale, directed=False)[0]


# ---------------------------------------------------------------- persistence of point clouds


@pytest.mark.parametrize("dim, complex_", [(5, "auto"), (2, "auto"), (2, "rips"), (3, "alpha")])
def test_h0_deaths_are_single_linkage_merge_heights(dim, complex_):
    x = np.random.default_rng(dim).normal(size=(80, dim))
    h0 = point_cloud_persistence(x, max_dimension=0, complex=complex_)[0]
    finite = h0[np.isfinite(h0[:, 1])]
    assert np.isinf(h0[:, 1]).sum() == 1
    np.testing.assert_array_equal(h0[:, 0], 0.0)
    heights = linkage(x, method="single")[:, 2]
    np.testing.assert_allclose(np.sort(finite[:, 1]), np.sort(heights), rtol=1e-9, atol=1e-12)


def test_alpha_scale_matches_rips_scale():
    # two points at distance L: gudhi's alpha value is (L/2)^2, reported as L like Rips
    assert alpha_to_diameter(diameter_to_alpha(3.0)) == pytest.approx(3.0)
    two = alpha_persistence([[0.0, 0.0], [3.0, 4.0]])[0]
    np.testing.assert_allclose(two, [[0.0, np.inf], [0.0, 5.0]])

    x = noisy_circle(n=200, seed=1)
    alpha, rips = alpha_persistence(x), rips_persistence(x)
    np.testing.assert_allclose(np.sort(alpha[0][:, 1]), np.sort(rips[0][:, 1]), rtol=1e-9)
    # H1: Alpha(t) ⊆ Rips(t) ⊆ Alpha(t * sqrt(2d/(d+1))), so the circle's loop dies within that factor
    loop_alpha = alpha[1][0]
    loop_rips = rips[1][0]
    assert loop_alpha[0] == pytest.approx(loop_rips[0], rel=1e-6)
    ratio = loop_alpha[1] / loop_rips[1]
    assert 1.0 - 1e-9 <= ratio <= math.sqrt(4 / 3) + 1e-9


def test_loop_of_evenly_spaced_circle_points_dies_at_closed_form_scales():
    # 60 points on the unit circle: the Alpha loop dies when the circumscribed ball (radius 1)
    # fills it, diameter 2; the Rips loop dies at the chord of a third of the circle, sqrt(3)
    # (Adamaszek-Adams), which meets the sqrt(4/3) interleaving bound exactly
    theta = 2 * np.pi * np.arange(60) / 60
    x = np.c_[np.cos(theta), np.sin(theta)]
    alpha, rips = alpha_persistence(x)[1], rips_persistence(x)[1]
    chord = 2 * math.sin(math.pi / 60)
    assert alpha[0] == pytest.approx([chord, 2.0], rel=1e-6)
    assert rips[0] == pytest.approx([chord, math.sqrt(3)], rel=1e-6)
    # complex="auto": Alpha in the plane, Rips once the same circle sits in 4-D
    assert point_cloud_persistence(x)[1][0] == pytest.approx([chord, 2.0], rel=1e-6)
    in_4d = np.c_[x, np.zeros((60, 2))]
    assert point_cloud_persistence(in_4d)[1][0] == pytest.approx([chord, math.sqrt(3)], rel=1e-6)


@pytest.mark.parametrize("complex_", ["alpha", "rips"])
def test_noisy_circle_has_one_component_and_one_loop(complex_):
    diagrams = point_cloud_persistence(noisy_circle(), max_dimension=1, complex=complex_)
    assert betti_numbers(diagrams, 0.8) == {0: 1, 1: 1}
    assert betti_numbers(diagrams, 2.5) == {0: 1, 1: 0}
    # before the points join up there are many components
    assert betti_numbers(diagrams, 0.01)[0] > 50


def test_torus_betti_numbers():
    rng = np.random.default_rng(0)
    u, v = rng.uniform(0, 2 * np.pi, (2, 1500))
    x = np.c_[(2 + 0.8 * np.cos(v)) * np.cos(u), (2 + 0.8 * np.cos(v)) * np.sin(u), 0.8 * np.sin(v)]
    diagrams = point_cloud_persistence(x, max_dimension=2)  # 3-D: Alpha
    assert betti_numbers(diagrams, 1.2) == {0: 1, 1: 2, 2: 1}


def test_rips_with_edge_collapse_equals_full_rips():
    import gudhi

    x = np.random.default_rng(3).normal(size=(40, 8))
    ours = rips_persistence(x, max_dimension=2)
    st = gudhi.RipsComplex(points=x).create_simplex_tree(max_dimension=3)
    st.compute_persistence()
    for k in range(3):
        full = st.persistence_intervals_in_dimension(k)
        assert len(ours[k]) == len(full)
        np.testing.assert_allclose(ours[k][np.lexsort(ours[k].T[::-1])], full[np.lexsort(full.T[::-1])])


def test_rips_cut_turns_bars_alive_at_the_cut_into_essential_ones():
    x, _ = blobs([[0, 0, 0, 0], [6, 0, 0, 0], [0, 6, 0, 0]], n_per=30, std=0.3)
    h0 = rips_persistence(x, max_dimension=0, max_edge_length=2.0)[0]
    assert np.isinf(h0[:, 1]).sum() == graph_components(x, 2.0) == 3
    assert h0[np.isfinite(h0[:, 1]), 1].max() <= 2.0


def test_sparse_rips_is_a_multiplicative_approximation():
    # a noisy circle in 5-D: on a log scale the sparse diagram is within log(1 + eps) of the exact one
    rng = np.random.default_rng(0)
    x = np.zeros((150, 5))
    x[:, :2] = noisy_circle(n=150, seed=2)
    x += rng.normal(scale=0.03, size=x.shape)
    exact = rips_persistence(x, max_dimension=1)[1]
    for eps in (0.2, 0.5):
        sparse = rips_persistence(x, max_dimension=1, sparse=eps)
        assert betti_numbers(sparse, 1.0) == {0: 1, 1: 1}
        assert bottleneck_distance(np.log(exact), np.log(sparse[1])) <= math.log(1 + eps) + 1e-9
    assert not np.array_equal(sparse[1], exact)  # the approximation did change the diagram


# ---------------------------------------------------------------- Betti numbers and components


def test_two_blobs_have_two_components_at_a_mid_scale():
    x, _ = blobs([[0, 0], [5, 0]], n_per=80, std=0.3)
    diagrams = point_cloud_persistence(x, max_dimension=1)
    assert betti_numbers(diagrams, 2.5)[0] == 2
    assert count_components(x, 2.5) == 2
    assert count_components(x, 10.0) == 1


@pytest.mark.parametrize("dim", [2, 6])
def test_count_components_matches_graph_components(dim):
    x, _ = blobs(np.random.default_rng(9).uniform(0, 6, size=(4, dim)), n_per=25, std=0.4, seed=dim)
    h0 = point_cloud_persistence(x, max_dimension=0)[0]
    for scale in [0.05, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0]:
        expected = graph_components(x, scale)
        assert count_components(x, scale) == expected
        assert betti_curve(h0, scale) == expected
    np.testing.assert_array_equal(betti_curve(h0, [0.2, 8.0]), [graph_components(x, 0.2), graph_components(x, 8.0)])


def test_count_components_at_zero_counts_distinct_points():
    assert count_components([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]], 0.0) == 2
    assert count_components([[1.0, 2.0, 3.0, 4.0]], 5.0) == 1


def test_largest_h0_gap_on_hand_made_bars():
    bars = np.array([[0, np.inf], [0, 10.0], [0, 9.0], [0, 1.0], [0, 0.9], [0, 0.8]])
    # cuts: 10/9, 9/1, 1/0.9, 0.9/0.8 -> the gap 9/1 leaves 1 + 2 components
    assert largest_h0_gap(bars) == ComponentGap(3, 1.0, 9.0)
    assert largest_h0_gap(bars).ratio == pytest.approx(9.0)
    assert largest_h0_gap(bars, min_ratio=10.0).n_components == 1
    # with at most 2 components only the cut 10/9 is considered; it is too small a gap at ratio 2
    assert largest_h0_gap(bars, max_components=2) == ComponentGap(1, 10.0, math.inf)
    assert largest_h0_gap(bars, max_components=2, min_ratio=1.05) == ComponentGap(2, 9.0, 10.0)
    assert largest_h0_gap(np.array([[0, np.inf]])) == ComponentGap(1, 0.0, math.inf)


def test_merge_heights_are_the_single_linkage_heights_largest_first():
    x = np.random.default_rng(7).normal(size=(60, 3))
    diagrams = point_cloud_persistence(x, max_dimension=0)
    heights = merge_heights(diagrams)  # the dict and its bars give the same
    np.testing.assert_array_equal(heights, merge_heights(diagrams[0]))
    np.testing.assert_allclose(heights, np.sort(linkage(x, method="single")[:, 2])[::-1], rtol=1e-9, atol=1e-12)
    bars = np.array([[0, 1.0], [0, np.inf], [0, 3.0], [0, 0.0]])
    np.testing.assert_array_equal(merge_heights(bars), [3.0, 1.0, 0.0])
    assert merge_heights(np.zeros((0, 2))).shape == (0,)


def test_separated_components_finds_modes_at_unequal_separations():
    # A and B 12 apart, C 50 beyond: the largest absolute gap would split off C alone, the
    # largest ratio sees three modes
    x, truth = blobs([[0, 0, 0, 0, 0, 0], [12, 0, 0, 0, 0, 0], [60, 0, 0, 0, 0, 0]], n_per=60, std=0.3)
    gap = separated_components(x)
    assert gap.n_components == 3
    assert gap.lower < gap.scale < gap.upper
    assert count_components(x, gap.scale) == 3
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import adjusted_rand_score

    single = AgglomerativeClustering(n_clusters=None, distance_threshold=gap.scale, linkage="single").fit(x)
    assert single.n_clusters_ == 3
    assert adjusted_rand_score(truth, single.labels_) == pytest.approx(1.0)


def test_one_gaussian_is_one_component():
    x = np.random.default_rng(4).normal(size=(300, 3))
    gap = separated_components(x)
    assert gap.n_components == 1 and math.isinf(gap.upper)
    assert count_components(x, gap.scale) == 1


# ---------------------------------------------------------------- cubical complexes of images


def smooth_image(seed=0, shape=(40, 48)):
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.normal(size=shape), 2.0)


EIGHT = np.ones((3, 3), dtype=int)
FOUR = ndimage.generate_binary_structure(2, 1)


def holes(mask, background_structure):
    """Bounded components of the complement of ``mask`` (those not touching the border)."""
    lab, n = ndimage.label(~mask, structure=background_structure)
    border = np.unique(np.r_[lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    return n - len(set(border.tolist()) - {0})


@pytest.mark.parametrize("connectivity, structure, background", [(8, EIGHT, FOUR), (4, FOUR, EIGHT)])
@pytest.mark.parametrize("filtration", ["superlevel", "sublevel"])
def test_cubical_betti_numbers_match_labelled_level_sets(connectivity, structure, background, filtration):
    img = smooth_image(seed=connectivity)
    diagrams = cubical_persistence(img, filtration=filtration, connectivity=connectivity)
    for q in [0.1, 0.3, 0.5, 0.7, 0.9]:
        t = float(np.quantile(img, q)) + 1e-9 * (1 if filtration == "sublevel" else -1)
        mask = img >= t if filtration == "superlevel" else img <= t
        betti = betti_numbers(diagrams, t)
        assert betti[0] == ndimage.label(mask, structure=structure)[1]
        assert betti[1] == holes(mask, background)


def test_k_bright_blobs_are_k_superlevel_components():
    yy, xx = np.mgrid[0:64, 0:64]
    centers = [(10, 12), (15, 50), (40, 30), (55, 8), (52, 55)]
    img = sum(np.exp(-((yy - r) ** 2 + (xx - c) ** 2) / (2 * 3.0**2)) for r, c in centers)
    diagrams = cubical_persistence(img, filtration="superlevel")
    h0 = diagrams[0]
    assert np.all(h0[:, 0] >= h0[:, 1])  # superlevel bars run downwards
    assert np.isneginf(h0[:, 1]).sum() == 1
    assert betti_numbers(diagrams, 0.5)[0] == ndimage.label(img >= 0.5, structure=EIGHT)[1] == len(centers)
    # every blob is born at its peak
    np.testing.assert_allclose(np.sort(h0[:, 0])[-len(centers) :], 1.0, atol=1e-3)


# ---------------------------------------------------------------- distances between diagrams


def diagonal_distance(bars, p):
    return (bars[:, 1] - bars[:, 0]) / 2 * (2 ** (1 / p) if np.isfinite(p) else 1.0)


def augmented_costs(a, b, p):
    """Cost matrix of matchings between a and b with the diagonal, (n+m, n+m)."""
    n, m = len(a), len(b)
    c = np.zeros((n + m, n + m))
    c[:n, :m] = cdist(a, b, "chebyshev") if np.isinf(p) else cdist(a, b, "minkowski", p=p)
    c[:n, m:] = diagonal_distance(a, p)[:, None]
    c[n:, :m] = diagonal_distance(b, p)[None, :]
    return c


def brute_bottleneck(a, b):
    c = augmented_costs(a, b, np.inf)
    return min(max(c[i, j] for i, j in enumerate(perm)) for perm in itertools.permutations(range(len(c))))


def brute_wasserstein(a, b, q, p):
    c = augmented_costs(a, b, p) ** q
    rows, cols = linear_sum_assignment(c)
    return c[rows, cols].sum() ** (1 / q)


def random_diagram(rng, n):
    birth = rng.uniform(0, 1, n)
    return np.c_[birth, birth + rng.uniform(0.05, 1, n)]


def test_distance_of_a_diagram_to_itself_is_zero():
    diagrams = point_cloud_persistence(noisy_circle(n=80), max_dimension=1)
    for k in (0, 1):
        assert bottleneck_distance(diagrams, diagrams, dimension=k) == 0.0
        assert wasserstein_distance(diagrams, diagrams, dimension=k) == pytest.approx(0.0, abs=1e-12)


def test_bottleneck_of_single_points_closed_form():
    rng = np.random.default_rng(0)
    for _ in range(20):
        (a,), (b,) = random_diagram(rng, 1), random_diagram(rng, 1)
        closed = min(max(abs(a[0] - b[0]), abs(a[1] - b[1])), max((a[1] - a[0]) / 2, (b[1] - b[0]) / 2))
        assert bottleneck_distance([a], [b]) == pytest.approx(closed, rel=1e-12)


def test_bottleneck_matches_brute_force_matching():
    rng = np.random.default_rng(1)
    for n, m in [(2, 3), (3, 3), (1, 4)]:
        a, b = random_diagram(rng, n), random_diagram(rng, m)
        assert bottleneck_distance(a, b) == pytest.approx(brute_bottleneck(a, b), rel=1e-9)


def test_wasserstein_closed_form_and_brute_force():
    a, b = np.array([[0.0, 2.0]]), np.array([[0.0, 2.5], [1.0, 1.4]])
    # match (0,2)-(0,2.5) at 0.5 and send (1,1.4) to the diagonal at 0.2
    assert wasserstein_distance(a, b, order=1) == pytest.approx(0.7)
    assert wasserstein_distance(a, b, order=1, internal_p=2) == pytest.approx(0.5 + 0.4 / math.sqrt(2))
    assert wasserstein_distance(a, b, order=2) == pytest.approx(math.sqrt(0.5**2 + 0.2**2))
    rng = np.random.default_rng(2)
    for q, p in [(1, np.inf), (2, np.inf), (1, 2.0), (2, 1.0)]:
        a, b = random_diagram(rng, 5), random_diagram(rng, 7)
        assert wasserstein_distance(a, b, order=q, internal_p=p) == pytest.approx(
            brute_wasserstein(a, b, q, p), rel=1e-6
        )


def test_essential_bars_are_matched_by_birth_or_dropped():
    a = np.array([[0.0, 1.0], [0.0, np.inf]])
    b = np.array([[0.0, 2.0], [0.5, np.inf]])
    c = np.array([[0.0, 1.0]])
    assert bottleneck_distance(a, b) == pytest.approx(1.0)  # max(finite 1.0, essential 0.5)
    assert wasserstein_distance(a, b) == pytest.approx(1.0 + 0.5)
    assert math.isinf(bottleneck_distance(a, c)) and math.isinf(wasserstein_distance(a, c))
    assert bottleneck_distance(a, c, essential="drop") == 0.0
    assert wasserstein_distance(a, b, essential="drop") == pytest.approx(1.0)


def test_superlevel_diagrams_compare_like_their_mirror_images():
    img1, img2 = smooth_image(seed=1), smooth_image(seed=2)
    up1, up2 = cubical_persistence(img1, "superlevel"), cubical_persistence(img2, "superlevel")
    down1, down2 = cubical_persistence(-img1, "sublevel"), cubical_persistence(-img2, "sublevel")
    for k in (0, 1):
        expected = bottleneck_distance(down1, down2, dimension=k)
        assert expected > 0
        assert bottleneck_distance(up1, up2, dimension=k) == pytest.approx(expected)
        assert wasserstein_distance(up1, up2, dimension=k) == pytest.approx(
            wasserstein_distance(down1, down2, dimension=k)
        )
    with pytest.raises(TopologyInputError, match="superlevel"):
        bottleneck_distance(up1, down1)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: point_cloud_persistence(np.zeros(5)), "2-D array"),
        (lambda: point_cloud_persistence([[0.0, np.nan]]), "NaN"),
        (lambda: point_cloud_persistence(np.zeros((3, 2)), complex="cech"), "complex must be"),
        (lambda: rips_persistence(np.zeros((3, 2)), max_edge_length=0), "max_edge_length"),
        (lambda: rips_persistence(np.zeros((3, 2)), max_dimension=-1), "max_dimension"),
        (lambda: cubical_persistence(np.zeros((4, 4, 3))), "grey"),
        (lambda: cubical_persistence(np.zeros((4, 4)), filtration="upper"), "filtration"),
        (lambda: cubical_persistence(np.zeros((4, 4)), connectivity=6), "connectivity"),
        (lambda: count_components(np.zeros((3, 2)), -1.0), "non-negative"),
        (lambda: bottleneck_distance(np.zeros((2, 3)), np.zeros((0, 2))), r"shape \(n, 2\)"),
        (lambda: wasserstein_distance([[0, 1.0]], [[0, 1.0]], order=0.5), "order"),
        (lambda: largest_h0_gap([[0, 1.0]], min_ratio=1.0), "min_ratio"),
        (lambda: umap_embedding(np.zeros((10, 4)), n_components=4), "n_components"),
        (lambda: umap_embedding(np.zeros((3, 4))), "more than 3 points"),
        (lambda: embedding_figure(np.zeros((5, 4))), r"\(n, 2\) or \(n, 3\)"),
    ],
)
def test_bad_input_raises_one_line_error(call, message):
    with pytest.raises(TopologyInputError, match=message) as info:
        call()
    assert isinstance(info.value, AcglabError) and "\n" not in str(info.value)


# ---------------------------------------------------------------- UMAP


@pytest.fixture(scope="module")
def two_clusters():
    x, labels = blobs([np.zeros(10), np.full(10, 4.0)], n_per=150, std=1.0, seed=7)
    return x, labels, umap_embedding(x, n_components=2, n_neighbors=15, seed=0)


def test_umap_shape_and_determinism(two_clusters):
    x, _, emb = two_clusters
    assert emb.shape == (300, 2) and emb.dtype == np.float32 and np.isfinite(emb).all()
    np.testing.assert_array_equal(umap_embedding(x, n_components=2, n_neighbors=15, seed=0), emb)
    emb3 = umap_embedding(x, n_components=3, seed=1)
    assert emb3.shape == (300, 3)


def test_umap_keeps_separated_clusters_apart(two_clusters):
    from sklearn.neighbors import NearestNeighbors

    x, labels, emb = two_clusters
    # the clusters are separated in the input: every 10-NN of a point shares its label there
    k = 10
    _, idx_in = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    assert (labels[idx_in[:, 1:]] == labels[:, None]).mean() == 1.0
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(emb).kneighbors(emb)
    assert (labels[idx[:, 1:]] == labels[:, None]).mean() >= 0.99


def test_umap_clips_neighbours_on_small_inputs():
    x = np.random.default_rng(0).normal(size=(12, 5))
    assert umap_embedding(x, n_neighbors=50, seed=0).shape == (12, 2)


# ---------------------------------------------------------------- figures


def test_persistence_diagram_figure_traces():
    import plotly.graph_objects as go

    diagrams = point_cloud_persistence(noisy_circle(n=60), max_dimension=1)
    fig = persistence_diagram_figure(diagrams)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert [t.name for t in fig.data] == ["H0", "H1", "diagonal", "inf"]
    assert all(isinstance(t, go.Scatter) for t in fig.data)
    h0 = diagrams[0]
    np.testing.assert_allclose(fig.data[0].x, h0[:, 0])
    finite_max = max(b[np.isfinite(b)].max() for b in diagrams.values())
    drawn_inf = np.asarray(fig.data[0].y)[np.isinf(h0[:, 1])]
    assert drawn_inf.size == 1 and drawn_inf[0] > finite_max
    np.testing.assert_allclose(np.asarray(fig.data[0].y)[np.isfinite(h0[:, 1])], h0[np.isfinite(h0[:, 1]), 1])
    assert fig.data[3].y[0] == pytest.approx(drawn_inf[0])
    assert len(fig.data[1].x) == len(diagrams[1])
    assert isinstance(persistence_diagram_figure(diagrams, widget=True), go.FigureWidget)


def test_superlevel_diagram_draws_minus_inf_below():
    diagrams = cubical_persistence(smooth_image(), "superlevel")
    fig = persistence_diagram_figure(diagrams)
    y = np.asarray(fig.data[0].y)
    assert y[np.isneginf(diagrams[0][:, 1])][0] < np.min(diagrams[0][np.isfinite(diagrams[0])])


def test_barcode_figure_has_one_segment_per_bar():
    diagrams = {0: np.array([[0.0, np.inf], [0.0, 0.5], [0.0, 0.2]]), 1: np.array([[0.3, 0.9]])}
    fig = barcode_figure(diagrams, widget=True)
    assert [t.name for t in fig.data] == ["H0", "H1"]
    xs0 = list(fig.data[0].x)
    assert xs0.count(None) == 3
    assert xs0[1] > 0.9  # the essential bar, longest first, runs to the inf level
    assert list(fig.data[1].x) == [0.3, 0.9, None]


def test_embedding_figure_2d_and_3d():
    import plotly.graph_objects as go

    rng = np.random.default_rng(0)
    labels = np.array([1, 0, 1, 1, 0])
    text = [f"video{i}" for i in range(5)]
    fig = embedding_figure(rng.normal(size=(5, 2)), labels, hover_text=text, label_names={0: "fake", 1: "real"})
    assert [t.name for t in fig.data] == ["fake", "real"]
    assert all(isinstance(t, go.Scatter) for t in fig.data)
    assert list(fig.data[1].text) == ["video0", "video2", "video3"]
    emb3 = rng.normal(size=(5, 3))
    fig3 = embedding_figure(emb3, labels, widget=True)
    assert isinstance(fig3, go.FigureWidget) and all(isinstance(t, go.Scatter3d) for t in fig3.data)
    np.testing.assert_allclose(fig3.data[0].z, emb3[labels == 0, 2])
    assert [t.name for t in embedding_figure(emb3).data] == ["points"]
