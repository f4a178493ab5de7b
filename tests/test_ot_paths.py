"""Latent paths (acglab.ot.paths) against independent computations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from acglab.ot import OTInputError, SemiDiscreteOT
from acglab.ot.paths import (
    GAP,
    REGULAR,
    SINGULAR,
    linear_path,
    ot_route,
    path_report,
    polyline_path,
    segment_distances,
    spherical_path,
)


def test_linear_path_is_evenly_spaced_between_the_ends():
    a, b = np.array([1.0, -2.0, 0.5]), np.array([3.0, 2.0, -1.5])
    path = linear_path(a, b, 5)
    assert np.allclose(path[0], a) and np.allclose(path[-1], b)
    assert np.allclose(np.diff(path, axis=0), (b - a) / 4)
    with pytest.raises(OTInputError, match="steps"):
        linear_path(a, b, 1)
    with pytest.raises(OTInputError, match="one length"):
        linear_path(a, b[:2], 3)


def test_spherical_path_follows_the_great_circle_with_linear_norm():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=6), 2.5 * rng.normal(size=6)
    t = np.linspace(0, 1, 9)
    path = spherical_path(a, b, 9)
    # independent form: rotate in the plane of a and b (Gram-Schmidt basis u, v)
    u = a / np.linalg.norm(a)
    v = b / np.linalg.norm(b) - (u @ (b / np.linalg.norm(b))) * u
    v /= np.linalg.norm(v)
    omega = np.arccos(u @ b / np.linalg.norm(b))
    norms = (1 - t) * np.linalg.norm(a) + t * np.linalg.norm(b)
    expected = norms[:, None] * (np.cos(t * omega)[:, None] * u + np.sin(t * omega)[:, None] * v)
    assert np.allclose(path, expected, atol=1e-10)
    assert np.allclose(spherical_path(a, 3 * a, 4), linear_path(a, 3 * a, 4))
    with pytest.raises(OTInputError, match="opposite"):
        spherical_path(a, -a, 4)


def test_polyline_path_spaces_points_by_arc_length():
    points = np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 1.0]])  # length 4
    path = polyline_path(points, 9)
    assert np.allclose(path[0], points[0]) and np.allclose(path[-1], points[-1])
    assert np.allclose(path[6], [3.0, 0.0])  # 3/4 of the way = the corner
    # every step has length 0.5 along the polyline (straight pieces: Euclidean step 0.5 too)
    assert np.allclose(np.linalg.norm(np.diff(path, axis=0), axis=1), 0.5)
    assert np.allclose(polyline_path(points[:1], 3), np.repeat(points[:1], 3, axis=0))


def brute_force_route(y, pairs, singular, start, end):
    """Floyd-Warshall on (singular steps, length) compared lexicographically."""
    n = len(y)
    best = {(i, j): (np.inf, np.inf) for i in range(n) for j in range(n)}
    for i in range(n):
        best[i, i] = (0, 0.0)
    for (i, j), s in zip(pairs, singular):
        cost = (int(s), float(np.linalg.norm(y[i] - y[j])))
        best[i, j] = best[j, i] = min(best[i, j], cost)
    for k, i, j in itertools.product(range(n), repeat=3):
        via = (best[i, k][0] + best[k, j][0], best[i, k][1] + best[k, j][1])
        if via < best[i, j]:
            best[i, j] = via
    return best[start, end]


def test_ot_route_minimises_singular_steps_then_length():
    rng = np.random.default_rng(1)
    for _ in range(20):
        n = 9
        y = rng.normal(size=(n, 3))
        all_pairs = np.array(list(itertools.combinations(range(n), 2)))
        pairs = all_pairs[rng.random(len(all_pairs)) < 0.35]
        singular = rng.random(len(pairs)) < 0.4
        start, end = rng.choice(n, 2, replace=False)
        route = ot_route(y, pairs, singular, int(start), int(end))
        steps, length = brute_force_route(y, pairs, singular, start, end)
        if np.isinf(steps):
            assert route.nodes == [start, end] and route.singular_steps == 1
            continue
        assert route.nodes[0] == start and route.nodes[-1] == end
        assert route.singular_steps == steps
        assert route.length == pytest.approx(length)
        graph = {tuple(sorted(p)) for p in pairs.tolist()}
        assert all(tuple(sorted(s)) in graph for s in zip(route.nodes[:-1], route.nodes[1:]))
    assert ot_route(y, pairs, singular, 2, 2).nodes == [2]


def test_segment_distances_match_a_dense_sampling_of_the_segments():
    rng = np.random.default_rng(2)
    a, b, points = rng.normal(size=(7, 3)), rng.normal(size=(7, 3)), rng.normal(size=(11, 3))
    dist, which = segment_distances(points, a, b, chunk=50)
    w = np.linspace(0, 1, 20001)
    dense = a[:, None] + w[None, :, None] * (b - a)[:, None]  # (P, W, d)
    brute = np.linalg.norm(points[:, None, None] - dense[None], axis=3).min(2)  # (T, P)
    assert np.allclose(dist, brute.min(1), atol=1e-4) and np.array_equal(which, brute.argmin(1))
    empty, none = segment_distances(points, a[:0], b[:0])
    assert np.isinf(empty).all() and (none == -1).all()


def test_path_report_names_the_nearest_segment():
    y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    pairs, singular = np.array([[0, 1], [2, 0]]), np.array([False, True])
    path = np.array([[0.4, 0.05], [0.05, 0.4], [0.7, 0.7], [4.0, 3.9]])
    report = path_report(path, y, pairs, singular, radius=0.2)
    assert np.array_equal(report.nearest, np.linalg.norm(path[:, None] - y[None], axis=2).argmin(1))
    assert np.allclose(report.regular_distance, [0.05, 0.4, np.hypot(0.0, 0.7), np.hypot(3.0, 3.9)])
    assert np.allclose(report.singular_distance, [0.4, 0.05, 0.7, np.hypot(4.0, 2.9)])
    assert report.kind.tolist() == [REGULAR, SINGULAR, GAP, GAP]
    assert report.counts() == {"regular": 1, "singular": 1, "gap": 2}
    assert report.crossing.tolist() == [False, True, True, True]
    assert path_report(path, y, pairs, singular).radius == pytest.approx(1.0)  # codes' spacing


def two_blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.normal(size=(n, 2)) * 0.1 + [-1.0, 0.0], rng.normal(size=(n, 2)) * 0.1 + [1.0, 0.0]])
    return y, np.repeat([0, 1], n)


def test_cell_graph_of_two_blobs_separates_them_and_the_route_crosses_once():
    y, blob = two_blobs()
    sdot = SemiDiscreteOT(y, source="cube", seed=0).fit(tol=0.05, error="mean")
    pairs, singular, angles = (t.numpy() for t in sdot.cell_graph(2**15))
    assert np.array_equal(singular, angles > 0.7)
    assert np.array_equal(pairs, np.unique(np.sort(pairs, axis=1), axis=0))
    across = blob[pairs[:, 0]] != blob[pairs[:, 1]]
    assert across.any() and singular[across].all()  # the faces between the blobs are singular
    assert singular[~across].mean() < 0.1  # inside a blob almost none
    a, b = int(np.argmin(y[:40, 0] + 10 * np.abs(y[:40, 1]))), 40 + int(np.argmax(y[40:, 0]))
    inside = ot_route(y, pairs, singular, 0, 1)
    assert inside.singular_steps == 0 and all(blob[i] == 0 for i in inside.nodes)
    across_route = ot_route(y, pairs, singular, a, b)
    assert across_route.singular_steps == 1
    straight = path_report(linear_path(y[a], y[b], 41), y, pairs, singular)
    assert (straight.kind[15:26] == SINGULAR).all()  # the middle of the straight path crosses the singular set
    assert straight.distance[20] > 5 * np.median(straight.distance[:3])
    nodes = across_route.nodes
    k = next(i for i in range(len(nodes) - 1) if blob[nodes[i]] != blob[nodes[i + 1]])
    if k > 0:  # the route's pieces inside the first blob lie on regular segments
        routed = path_report(polyline_path(y[nodes[: k + 1]], 21), y, pairs, singular)
        assert routed.regular_distance.max() < 1e-9 and (routed.kind == REGULAR).all()
