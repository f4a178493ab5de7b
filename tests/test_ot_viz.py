"""The numbers of the semi-discrete OT notebook (the cell raster and its masses, the 1-D potential and
its Legendre dual, exact discrete OT, the height record; :mod:`acglab.ot`) and its figures and slider
explorers (:mod:`acglab.viz.ot_figures`, :mod:`acglab.viz.ot_widgets`), each checked against an
independent computation: closed forms, brute-force maxima in NumPy, scipy's convex hull and linear
programme, and the solver's own assignment and Monte-Carlo cell masses."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment, linprog
from scipy.spatial import ConvexHull

from acglab.ot import (
    HeightRecorder,
    SemiDiscreteOT,
    brenier_potential_1d,
    cell_map,
    discrete_ot_plan,
    legendre_transform_1d,
    pixel_centres,
    raster_cell_masses,
    split_sources,
)
from acglab.ot.targets import OTInputError
from acglab.viz.ot_figures import (
    brenier_surface_figure,
    cell_colorscale,
    compact_cell_indices,
    kantorovich_plan_figure,
    plan_comparison_figure,
    power_diagram_figure,
    transport_segments,
)
from acglab.viz.ot_widgets import brenier_1d_explorer, power_diagram_explorer


def brute_force_cells(points: np.ndarray, y: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """argmax_i <x, y_i> + h_i in float64, by an explicit loop over targets (scores, cells)."""
    best = np.full(len(points), -np.inf)
    cells = np.zeros(len(points), dtype=int)
    for i in range(len(y)):
        s = points @ y[i] + h[i]
        better = s > best
        best[better], cells[better] = s[better], i
    return best, cells


def lower_envelope(p: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Lower convex envelope of the points (y_i, v_i) at p, by brute force over all pairs."""
    out = np.full(len(p), np.inf)
    for i in range(len(y)):
        for j in range(len(y)):
            lo, hi = y[i], y[j]
            if hi < lo:
                continue
            inside = (p >= lo) & (p <= hi)
            if hi == lo:
                val = np.full(len(p), v[i])
            else:
                t = (p - lo) / (hi - lo)
                val = (1 - t) * v[i] + t * v[j]
            out[inside] = np.minimum(out[inside], val[inside])
    return out


@pytest.fixture(scope="module")
def planar_problem():
    rng = np.random.default_rng(3)
    y = rng.uniform(-0.45, 0.45, (12, 2))
    h = 0.05 * rng.standard_normal(12)
    return y, h - h.mean()


@pytest.fixture(scope="module")
def recorded_fit():
    rng = np.random.default_rng(1)
    y = rng.uniform(-0.4, 0.4, (10, 2))
    w = np.full(10, 0.1)
    recorder = HeightRecorder()
    solver = SemiDiscreteOT(y, w, seed=0, init="zero").fit(tol=0.15, callback=recorder, max_steps=400)
    return y, w, recorder, solver


# ---------------------------------------------------------------------------- grids and cells
def test_pixel_centres_layout():
    axis, points = pixel_centres(4)
    np.testing.assert_allclose(axis, [-0.375, -0.125, 0.125, 0.375])
    grid = points.reshape(4, 4, 2)
    np.testing.assert_allclose(grid[2, 1], [axis[1], axis[2]])  # row j = y, column i = x
    with pytest.raises(OTInputError, match="resolution"):
        pixel_centres(0)


def test_cell_map_agrees_with_solver_assign(planar_problem):
    y, h = planar_problem
    solver = SemiDiscreteOT(y, heights=h, seed=0)
    cells = cell_map(y, solver.heights.numpy(), resolution=120)
    _, points = pixel_centres(120)
    solver_cells = solver.assign(points).numpy()
    differ = np.flatnonzero(cells.ravel() != solver_cells)
    # only float32 ties may differ: there both cells score the same up to rounding
    scores = points @ y.T + h
    rows = np.arange(len(points))[differ]
    assert np.all(np.abs(scores[rows, cells.ravel()[differ]] - scores[rows, solver_cells[differ]]) < 1e-5)
    assert len(differ) <= 3
    _, brute = brute_force_cells(points, y, h)
    assert np.mean(brute == cells.ravel()) > 0.999


def test_raster_masses_match_a_closed_form():
    # y = (+-1, 0), h = (c, -c): cell 0 is the half-plane x >= -c, of mass 1/2 + c in the square
    c = 0.1
    cells = cell_map(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([c, -c]), resolution=300)
    masses = raster_cell_masses(cells, 2)
    assert masses.sum() == pytest.approx(1.0)
    assert abs(masses[0] - (0.5 + c)) <= 1 / 300


def test_raster_masses_match_the_solver_monte_carlo(planar_problem):
    y, h = planar_problem
    solver = SemiDiscreteOT(y, heights=h, seed=0)
    raster = raster_cell_masses(cell_map(y, h, resolution=300), len(y))
    np.testing.assert_allclose(raster, solver.cell_masses(2**16).numpy(), atol=4e-3)


def test_cell_colorscale_has_one_band_per_cell():
    scale = cell_colorscale(5)
    assert len(scale) == 10 and scale[0][0] == 0 and scale[-1][0] == 1
    assert len({colour for _, colour in scale}) == 5
    with pytest.raises(OTInputError):
        cell_colorscale(0)


def test_compact_cell_indices_keep_the_values():
    cells = np.arange(300).reshape(20, 15)
    small, large = compact_cell_indices(cells % 30, 30), compact_cell_indices(cells, 300)
    assert small.dtype == np.uint8 and large.dtype == np.uint16
    np.testing.assert_array_equal(small, cells % 30)
    np.testing.assert_array_equal(large, cells)


def test_transport_segments_break_between_arrows():
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    tx = np.array([[2.0, 3.0], [4.0, 5.0]])
    xs, ys = transport_segments(x, tx)
    np.testing.assert_array_equal(xs[[0, 1, 3, 4]], [0, 2, 1, 4])
    np.testing.assert_array_equal(ys[[0, 1, 3, 4]], [0, 3, 1, 5])
    assert np.isnan(xs[2]) and np.isnan(ys[5])


def test_planar_helpers_reject_other_dimensions():
    with pytest.raises(OTInputError, match="2-D targets"):
        cell_map(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(OTInputError, match="heights"):
        cell_map(np.zeros((4, 2)), np.zeros(3))


# ---------------------------------------------------------------------------- recorder
def test_height_recorder_keeps_every_step(recorded_fit):
    y, _, recorder, solver = recorded_fit
    assert len(recorder) == len(solver.history) == recorder.heights.shape[0] > 1
    assert recorder.heights.shape[1] == len(y)
    np.testing.assert_array_equal(recorder.heights[0], np.zeros(len(y)))  # init="zero"
    np.testing.assert_allclose(recorder.heights[-1], solver.heights.double().numpy(), atol=1e-6)
    np.testing.assert_array_equal(recorder.steps, [r.step for r in solver.history])
    np.testing.assert_allclose(recorder.errors, solver.history_arrays()["max_rel_error"])


# ---------------------------------------------------------------------------- one dimension
def test_brenier_potential_1d_is_the_upper_envelope():
    rng = np.random.default_rng(0)
    y, h, x = rng.normal(size=6), rng.normal(size=6), np.linspace(-2, 2, 101)
    f, cells = brenier_potential_1d(x, y, h)
    pieces = np.array([[xi * yi + hi for yi, hi in zip(y, h)] for xi in x])
    np.testing.assert_allclose(f, pieces.max(axis=1))
    np.testing.assert_array_equal(cells, pieces.argmax(axis=1))


def test_1d_cells_of_closed_form_heights_have_the_weights():
    # sorted targets, boundaries b_i = -1/2 + cumulative weight: h_{i+1} = h_i - b_i (y_{i+1} - y_i)
    y = np.array([-1.0, -0.3, 0.2, 0.9])
    w = np.array([0.1, 0.4, 0.3, 0.2])
    b = -0.5 + np.cumsum(w)[:-1]
    h = np.concatenate([[0.0], -np.cumsum(b * np.diff(y))])
    x = (np.arange(100_000) + 0.5) / 100_000 - 0.5
    _, cells = brenier_potential_1d(x, y, h)
    np.testing.assert_allclose(np.bincount(cells, minlength=4) / len(x), w, atol=2e-5)


def test_legendre_transform_of_half_square_is_itself():
    x = np.linspace(-3, 3, 6001)
    p = np.linspace(-2, 2, 81)
    np.testing.assert_allclose(legendre_transform_1d(x, x**2 / 2, p), p**2 / 2, atol=1e-6)


def test_legendre_transform_of_abs_is_zero_on_the_unit_interval():
    x = np.linspace(-2, 2, 4001)
    p = np.linspace(-1, 1, 21)
    np.testing.assert_allclose(legendre_transform_1d(x, np.abs(x), p), 0.0, atol=1e-12)


def test_legendre_transform_of_max_affine_is_the_lower_envelope():
    y = np.array([-1.0, -0.4, 0.1, 0.5, 1.2])
    h = np.array([-0.17, 0.07, 0.12, -0.05, -0.09])  # the point (0.5, 0.05) lies above the envelope
    x = np.linspace(-5, 5, 40_001)
    f, _ = brenier_potential_1d(x, y, h)
    p = np.linspace(y.min(), y.max(), 301)
    dual = legendre_transform_1d(x, f, p)
    np.testing.assert_allclose(dual, lower_envelope(p, y, -h), atol=1e-3)
    assert legendre_transform_1d(x, f, [0.5])[0] < -h[3] - 0.01  # F*(y_3) is below -h_3: an empty cell


def test_legendre_transform_rejects_mismatched_samples():
    with pytest.raises(OTInputError):
        legendre_transform_1d(np.zeros(3), np.zeros(4), [0.0])


# ---------------------------------------------------------------------------- discrete OT
def test_discrete_ot_plan_matches_a_linear_programme():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(4, 2))
    a, b = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(4))
    plan, cost = discrete_ot_plan(x, a, y, b)
    np.testing.assert_allclose(plan.sum(1), a, atol=1e-12)
    np.testing.assert_allclose(plan.sum(0), b, atol=1e-12)
    c = 0.5 * ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    rows = np.kron(np.eye(5), np.ones(4))
    cols = np.kron(np.ones(5), np.eye(4))
    lp = linprog(c.ravel(), A_eq=np.vstack([rows, cols]), b_eq=np.concatenate([a, b]), bounds=(0, None))
    assert cost == pytest.approx(lp.fun, abs=1e-10)
    assert len(split_sources(plan)) <= len(y) - 1  # a vertex has at most M + N - 1 non-zeros


def test_equal_masses_give_a_permutation():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    plan, cost = discrete_ot_plan(x, np.full(6, 1 / 6), y, np.full(6, 1 / 6))
    c = 0.5 * ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    r, col = linear_sum_assignment(c)
    assert cost == pytest.approx(c[r, col].mean())
    assert split_sources(plan).size == 0
    np.testing.assert_array_equal(plan.argmax(1)[r], col)


def test_split_sources_finds_a_split_point():
    plan, _ = discrete_ot_plan(np.zeros((1, 2)), [1.0], np.array([[1.0, 0.0], [-1.0, 0.0]]), [0.5, 0.5])
    np.testing.assert_array_equal(split_sources(plan), [0])


def test_discrete_ot_plan_rejects_bad_weights():
    with pytest.raises(OTInputError, match="equal totals"):
        discrete_ot_plan(np.zeros((2, 2)), [0.5, 0.5], np.ones((2, 2)), [0.5, 0.6])
    with pytest.raises(OTInputError, match="shapes"):
        discrete_ot_plan(np.zeros((2, 2)), [1.0], np.ones((2, 2)), [0.5, 0.5])


# ---------------------------------------------------------------------------- static figures
def test_power_diagram_at_zero_heights_has_hull_cells(planar_problem):
    y, _ = planar_problem
    fig = power_diagram_figure(y, np.zeros(len(y)), resolution=200)
    non_empty = len(np.unique(np.asarray(fig.data[0].z)))
    assert non_empty == len(ConvexHull(y).vertices)
    assert f"{non_empty} of {len(y)} non-empty" in fig.layout.title.text


def test_brenier_surface_is_the_max_of_the_planes(planar_problem):
    y, h = planar_problem
    fig = brenier_surface_figure(y, h, resolution=30)
    _, points = pixel_centres(30)
    best, cells = brute_force_cells(points, y, h)
    np.testing.assert_allclose(np.asarray(fig.data[0].z).ravel(), best, atol=1e-5)
    assert np.mean(np.asarray(fig.data[0].surfacecolor).ravel() == cells) > 0.99


def test_plan_comparison_marks_the_disagreements(planar_problem):
    y, h = planar_problem
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (50, 2))
    a = np.arange(50) % len(y)
    b = a.copy()
    b[:7] = (b[:7] + 1) % len(y)
    fig = plan_comparison_figure(x, y, a, b, resolution=50, heights=h)
    circled = [t for t in fig.data if t.name == "the two disagree"]
    assert all(len(t.x) == 7 for t in circled) and len(circled) == 2
    assert "7 of 50 differ" in fig.layout.annotations[1].text


def test_kantorovich_figure_reports_splits():
    one_to_two = (np.zeros((1, 2)), [1.0], np.array([[1.0, 0.0], [1.0, 1.0]]), [0.5, 0.5])
    swap = (np.array([[0.0, 0.0], [0.0, 1.0]]), [0.5, 0.5], np.array([[1.0, 1.1], [1.0, 0.1]]), [0.5, 0.5])
    fig = kantorovich_plan_figure({"split": one_to_two, "map": swap})
    assert "1 source(s) split" in fig.layout.annotations[0].text
    assert "0 source(s) split" in fig.layout.annotations[1].text
    # the swap is optimal: each source goes to the target at its own height (cost 2 x 0.5 x 1.01 / 2)
    assert "cost 0.5050" in fig.layout.annotations[1].text


# ---------------------------------------------------------------------------- explorers
def test_power_diagram_explorer_follows_the_slider(recorded_fit):
    y, w, recorder, _ = recorded_fit
    ex = power_diagram_explorer(y, recorder, w, tol=0.15, resolution=60, n_arrows=12)
    assert ex.sliders["step"].value == 0 and ex.sliders["step"].max == len(recorder) - 1
    z0 = np.array(ex.figure.data[0].z)
    hull = len(ConvexHull(y).vertices)
    assert len(np.unique(z0)) == hull  # h = 0: only the hull targets own cells
    assert f"empty cells {len(y) - hull} of {len(y)}" in ex.readout.value
    arrows0 = np.array(ex.figure.data[1].x, dtype=float)

    last = len(recorder) - 1
    ex.sliders["step"].value = last
    z = np.array(ex.figure.data[0].z)
    np.testing.assert_array_equal(z, cell_map(y, recorder.heights[last], 60))
    assert not np.array_equal(z, z0)
    np.testing.assert_allclose(np.array(ex.figure.data[4].y), raster_cell_masses(z, len(y)))
    assert list(ex.figure.data[8].x) == [recorder.steps[last]]
    assert list(ex.figure.data[8].y) == pytest.approx([recorder.errors[last]])
    assert not np.array_equal(np.array(ex.figure.data[1].x, dtype=float), arrows0, equal_nan=True)
    # at the end every cell is non-empty and within a generous band around its weight
    masses = np.array(ex.figure.data[4].y)
    assert (masses > 0).all() and np.max(np.abs(masses - w) / w) < 0.5


def test_power_diagram_explorer_needs_a_recording():
    with pytest.raises(OTInputError, match="recorder"):
        power_diagram_explorer(np.zeros((3, 2)) + np.arange(3)[:, None], HeightRecorder())


def test_brenier_1d_explorer_follows_the_sliders():
    y = np.array([-1.0, -0.4, 0.1, 0.5, 1.2])
    w = np.array([0.1, 0.3, 0.2, 0.15, 0.25])
    b = -0.5 + np.cumsum(w)[:-1]
    h = np.concatenate([[0.0], -np.cumsum(b * np.diff(y))])
    h -= h.mean()
    ex = brenier_1d_explorer(y, h, w, n_grid=801)
    n = len(y)
    assert set(ex.sliders) == {f"h{i}" for i in range(n)}
    x = np.array(ex.figure.data[n].x)
    np.testing.assert_allclose(np.array(ex.figure.data[n].y), np.max(np.outer(x, y) + h, axis=1))
    for i in range(n):  # the fitted heights give every cell its weight
        assert f"cell {i}: {w[i]:.3f}" in ex.readout.value

    ex.sliders["h3"].value = h[3] - 0.1  # lift (y_3, -h_3) above the envelope: cell 3 disappears
    h_new = h.copy()
    h_new[3] -= 0.1
    np.testing.assert_allclose(np.array(ex.figure.data[n].y), np.max(np.outer(x, y) + h_new, axis=1))
    np.testing.assert_allclose(np.array(ex.figure.data[2 * n + 2].y), -h_new)
    assert len(ex.figure.data[n + 1 + 3].x) == 0  # no extent left for cell 3
    assert "cell 3: 0.000" in ex.readout.value
    p = np.array(ex.figure.data[2 * n + 1].x)
    np.testing.assert_allclose(np.array(ex.figure.data[2 * n + 1].y), lower_envelope(p, y, -h_new), atol=2e-3)


def test_brenier_1d_explorer_limits_the_number_of_sliders():
    with pytest.raises(OTInputError, match="2 to 8"):
        brenier_1d_explorer(np.arange(9.0), np.zeros(9))
