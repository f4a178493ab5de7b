"""The small OT computations the notebooks draw (:mod:`acglab.ot.discrete`, :mod:`acglab.ot.potential_1d`,
:mod:`acglab.ot.raster`, :mod:`acglab.ot.neighbours`, :mod:`acglab.ot.support`), each checked against an
independent computation: POT's ``ot.emd`` on a cost matrix built by hand, closed forms, and brute force
in NumPy; and their place in the flat namespace :mod:`acglab.ot`."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import acglab.ot
from acglab.ot import (
    OTInputError,
    SemiDiscreteOT,
    brenier_potential,
    brenier_potential_1d,
    discrete_ot_plan,
    legendre_transform_1d,
    neighbour_face_angles,
    off_support,
    off_support_fraction,
    pixel_centres,
    probe_segment,
    raster_face_angles,
    split_sources,
    support_radius,
    transport_along_segment,
)
from acglab.ot.sources import source_sample

#: computations that the figure modules of acglab.viz once defined
MOVED = {
    "brenier_potential_1d",
    "legendre_transform_1d",
    "discrete_ot_plan",
    "split_sources",
    "HeightRecorder",
    "cell_map",
    "raster_cell_masses",
    "pixel_centres",
    "planar_targets",
    "raster_faces",
    "support_radius",
    "off_support_fraction",
    "same_label_fraction",
    "neighbour_face_angles",
    "probe_segment",
}


def facet_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between the vectors (a, -1) and (b, -1), row by row, from the definition."""
    na = np.concatenate([a, -np.ones((len(a), 1))], axis=1)
    nb = np.concatenate([b, -np.ones((len(b), 1))], axis=1)
    cos = (na * nb).sum(1) / (np.linalg.norm(na, axis=1) * np.linalg.norm(nb, axis=1))
    return np.arccos(np.clip(cos, -1.0, 1.0))


@pytest.fixture(scope="module")
def two_blobs():
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1], 30)
    y = np.array([[-0.6, 0.0], [0.6, 0.1]])[labels] + 0.05 * rng.standard_normal((60, 2))
    return SemiDiscreteOT(y, seed=0).fit(tol=0.15, error="mean", time_limit=5), y, labels


# ---------------------------------------------------------------------------- the flat namespace
def test_moved_names_live_in_acglab_ot_and_not_in_viz():
    for name in MOVED:
        assert name in acglab.ot.__all__ and hasattr(acglab.ot, name), name
        assert getattr(acglab.ot, name).__module__.startswith("acglab.ot."), name
    for module in ("ot_figures", "ot_widgets", "singular_widgets", "detector_widgets"):
        viz = importlib.import_module(f"acglab.viz.{module}")
        defined = {k for k, v in vars(viz).items() if getattr(v, "__module__", None) == viz.__name__}
        assert not (MOVED | {"source_grid", "pca_projection"}) & defined, module


# ---------------------------------------------------------------------------- discrete OT
def test_discrete_plan_is_pot_emd_on_the_half_squared_distance():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    a, b = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(5))
    plan, cost = discrete_ot_plan(x, a, y, b)
    import ot

    c = 0.5 * ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    expected = ot.emd(a, b, c)
    np.testing.assert_allclose(plan, expected, atol=1e-12)
    assert cost == pytest.approx(float(ot.emd2(a, b, c)), abs=1e-12)
    assert cost == pytest.approx(float((expected * c).sum()), abs=1e-12)
    assert np.count_nonzero(plan > 1e-12) <= 7 + 5 - 1  # a vertex of the transport polytope
    brute = [k for k in range(7) if np.count_nonzero(plan[k] > 1e-9 * plan[k].sum()) > 1]
    np.testing.assert_array_equal(split_sources(plan), brute)


# ---------------------------------------------------------------------------- one dimension
def test_brenier_potential_1d_is_the_d1_case_of_the_potential():
    rng = np.random.default_rng(1)
    y, h, x = rng.normal(size=7), rng.normal(size=7), rng.uniform(-3, 3, 500)
    f, cells = brenier_potential_1d(x, y, h)
    assert f.dtype == np.float64 and cells.dtype == np.int64
    as_2d = brenier_potential(torch.as_tensor(x[:, None]), torch.as_tensor(y[:, None]), torch.as_tensor(h))
    np.testing.assert_allclose(f, as_2d.numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(f, x * y[cells] + h[cells], rtol=0, atol=1e-15)


def test_brenier_potential_1d_closed_form_abs():
    # F(x) = max(-x, x) = |x|; the cell changes at 0
    x = np.linspace(-1, 1, 9)
    f, cells = brenier_potential_1d(x, [-1.0, 1.0], [0.0, 0.0])
    np.testing.assert_allclose(f, np.abs(x))
    np.testing.assert_array_equal(cells[x < 0], 0)
    np.testing.assert_array_equal(cells[x > 0], 1)
    with pytest.raises(OTInputError, match="heights"):
        brenier_potential_1d(x, [-1.0, 1.0], [0.0])


def test_legendre_transform_of_exp_is_p_log_p_minus_p():
    x = np.linspace(-8, 3, 110_001)
    p = np.linspace(0.05, 15, 60)
    np.testing.assert_allclose(legendre_transform_1d(x, np.exp(x), p), p * np.log(p) - p, atol=1e-6)


def test_legendre_transform_twice_gives_back_a_convex_function():
    x = np.linspace(-2, 2, 4001)
    f = np.maximum(x**2, 2 * x - 0.5)  # convex, slopes within [-4, 4]
    slopes = np.linspace(-4, 4, 8001)
    back = legendre_transform_1d(slopes, legendre_transform_1d(x, f, slopes), x)
    np.testing.assert_allclose(back, f, atol=1e-5)


# ---------------------------------------------------------------------------- the raster on any square
def test_pixel_centres_of_a_wider_square():
    axis, points = pixel_centres(3, -3.0, 3.0)
    np.testing.assert_allclose(axis, [-2.0, 0.0, 2.0])
    assert points.shape == (9, 2)
    np.testing.assert_allclose(points[5], [2.0, 0.0])  # row j = 1 (y = 0), column i = 2 (x = 2)
    with pytest.raises(OTInputError, match="low < high"):
        pixel_centres(3, 1.0, 1.0)


def test_raster_face_angles_match_the_definition():
    y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    cells = np.array([[1, 0], [0, 1], [2, 0], [3, 1], [0, 2]])
    angles, pairs, pair_angles = raster_face_angles(y, cells)
    np.testing.assert_allclose(angles, facet_angle(y[cells[:, 0]], y[cells[:, 1]]), atol=1e-12)
    np.testing.assert_array_equal(pairs, [[0, 1], [0, 2], [1, 3]])
    np.testing.assert_allclose(pair_angles, facet_angle(y[pairs[:, 0]], y[pairs[:, 1]]), atol=1e-12)
    empty = raster_face_angles(y, np.zeros((0, 2)))
    assert [a.shape for a in empty] == [(0,), (0, 2), (0,)]


# ---------------------------------------------------------------------------- the map along a probe
def test_transport_along_segment_against_brute_force(two_blobs):
    sdot, y, labels = two_blobs
    x, cells, image, jumps = transport_along_segment(sdot, [-0.5, -0.3], [0.5, 0.4], 101)
    t = np.linspace(0, 1, 101)[:, None]
    np.testing.assert_allclose(x, (1 - t) * np.array([-0.5, -0.3]) + t * np.array([0.5, 0.4]))
    scores = x @ y.T + sdot.heights.numpy().astype(np.float64)
    best = scores.argmax(1)
    assert np.mean(best == cells) > 0.98
    tie = best != cells  # float32 ties only
    assert np.all(scores[tie, best[tie]] - scores[tie, cells[tie]] < 1e-5)
    np.testing.assert_allclose(image, y[cells], atol=1e-6)
    np.testing.assert_allclose(jumps, np.linalg.norm(image[1:] - image[:-1], axis=1))
    assert labels[cells[0]] == 0 and labels[cells[-1]] == 1 and jumps.max() > 0.8  # crosses the gap
    with pytest.raises(OTInputError, match="2 points"):
        transport_along_segment(sdot, [0, 0], [1, 1], 1)


def test_probe_segment_joins_the_centroids_of_two_labels():
    points = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0], [12.0, 14.0], [5.0, 5.0]])
    start, end = probe_segment(np.array([3, 3, 7, 7, 9]), points)
    np.testing.assert_allclose(start, [1.0, 0.0])
    np.testing.assert_allclose(end, [11.0, 12.0])
    start, end = probe_segment(np.zeros(5), points)  # one label: across the whole width
    np.testing.assert_allclose([start, end], [[-12.6, 1.4], [12.6, -1.4]])


def test_neighbour_face_angles_against_brute_force_top_two(two_blobs):
    sdot, y, labels = two_blobs
    pairs, angles, same = neighbour_face_angles(sdot, labels, n_samples=4000, seed=3)
    x = source_sample(sdot.source, 4000, 2, seed=3).numpy().astype(np.float64)
    top = np.argsort(-(x @ y.T + sdot.heights.numpy().astype(np.float64)), axis=1, kind="stable")[:, :2]
    brute = {tuple(sorted(map(int, row))) for row in top}
    found = {tuple(map(int, p)) for p in pairs}
    assert len(found & brute) >= 0.97 * len(brute) and len(found - brute) <= 0.03 * len(found)
    np.testing.assert_allclose(angles, facet_angle(y[pairs[:, 0]], y[pairs[:, 1]]), atol=1e-5)
    np.testing.assert_array_equal(same, labels[pairs[:, 0]] == labels[pairs[:, 1]])


# ---------------------------------------------------------------------------- the support of the data
def test_support_radius_of_a_square_grid_is_factor_times_the_spacing():
    g = np.arange(6) * 0.3
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    assert support_radius(grid) == pytest.approx(0.6)
    assert support_radius(grid, factor=1.5) == pytest.approx(0.45)
    with pytest.raises(OTInputError, match="at least 2"):
        support_radius(grid[:1])
    with pytest.raises(OTInputError, match="positive"):
        support_radius(grid, factor=0.0)


def test_off_support_against_brute_force_distances():
    rng = np.random.default_rng(6)
    y, x = rng.normal(size=(40, 3)), 2 * rng.normal(size=(300, 3))
    r = 0.7
    brute = np.linalg.norm(x[:, None] - y[None], axis=2).min(1) > r
    np.testing.assert_array_equal(off_support(x, y, r), brute)
    np.testing.assert_array_equal(off_support(torch.as_tensor(x), y, r), brute)
    assert off_support_fraction(x, y, r) == pytest.approx(brute.mean())
    assert off_support(np.zeros((0, 3)), y, r).shape == (0,)
    with pytest.raises(OTInputError, match="radius"):
        off_support(x, y, 0.0)
    with pytest.raises(OTInputError, match="points"):
        off_support_fraction(np.zeros((0, 3)), y, r)
