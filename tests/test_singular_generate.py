"""Singular sets and the AE-OT generator, checked against independent computations: dihedral
angles against numpy and the closed form 2 arctan(a), cell pairs against brute-force power
scores, generated codes against the interpolation formula, mode mixing against brute-force
distances; and the singular-set explorers' figures against the same numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from acglab.ot import (
    OTInputError,
    SemiDiscreteOT,
    neighbour_face_angles,
    off_support_fraction,
    raster_faces,
    same_label_fraction,
    support_radius,
)
from acglab.ot.generate import admissible_pairs, gaussian_generate, interpolate, naive_pairs_generate, ot_generate
from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD, dihedral_angles, facet_normals, singular_pairs
from acglab.ot.sources import SobolSource, source_sample
from acglab.viz.singular_widgets import generation_explorer, singular_set_explorer, tile_images

CENTERS = np.array([[-0.8, -0.5], [0.8, -0.5], [0.0, 0.8]])


def numpy_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between the vectors (a, -1) and (b, -1), row by row, straight from the definition."""
    na = np.concatenate([a, -np.ones((len(a), 1))], axis=1)
    nb = np.concatenate([b, -np.ones((len(b), 1))], axis=1)
    cos = (na * nb).sum(1) / (np.linalg.norm(na, axis=1) * np.linalg.norm(nb, axis=1))
    return np.arccos(np.clip(cos, -1.0, 1.0))


def brute_top(x: np.ndarray, y: np.ndarray, h: np.ndarray, k: int) -> np.ndarray:
    """Indices (M, k) of the k largest power scores <x, y_i> + h_i, best first (numpy, float64)."""
    scores = x @ y.T + h[None, :]
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


@pytest.fixture(scope="module")
def clusters():
    """Three tight, well-separated clusters of 40 targets each, and a fitted solver."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    y = (CENTERS[labels] + 0.05 * rng.standard_normal((120, 2))).astype(np.float32)
    sdot = SemiDiscreteOT(y, seed=0).fit(tol=0.1, error="mean", time_limit=5)
    return sdot, y.astype(np.float64), labels


# ---------------------------------------------------------------------------- dihedral angles
def test_dihedral_angle_closed_form():
    """(a, 0, -1) and (-a, 0, -1) meet at 2 arctan(a); equal targets at 0; the angle is symmetric."""
    a = np.array([0.0, 0.1, 0.5, 1.0, 3.0])
    y = torch.tensor(np.concatenate([np.stack([a, 0 * a], 1), np.stack([-a, 0 * a], 1)]), dtype=torch.float64)
    i = torch.arange(len(a))
    j = i + len(a)
    np.testing.assert_allclose(dihedral_angles(y, i, j).numpy(), 2 * np.arctan(a), atol=1e-7)
    np.testing.assert_allclose(dihedral_angles(y, j, i).numpy(), 2 * np.arctan(a), atol=1e-7)
    assert float(dihedral_angles(y, i[:1], i[:1])) == 0.0
    # 1 = arccos(cos 1): with y_i = 0, |y_j| = tan(1) the normals meet at exactly 1 rad
    y1 = torch.tensor([[0.0], [math.tan(1.0)]], dtype=torch.float64)
    assert float(dihedral_angles(y1, torch.tensor([0]), torch.tensor([1]))) == pytest.approx(1.0, abs=1e-9)


def test_dihedral_angles_match_numpy_arccos():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(50, 5))
    i, j = rng.integers(0, 50, 200), rng.integers(0, 50, 200)
    got = dihedral_angles(torch.tensor(y), torch.tensor(i), torch.tensor(j)).numpy()
    np.testing.assert_allclose(got, numpy_angle(y[i], y[j]), atol=1e-7)
    normals = facet_normals(torch.tensor(y)).numpy()
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(normals[:, :-1] / -normals[:, -1:], y, atol=1e-10)


# ---------------------------------------------------------------------------- singular sets
def test_pairs_across_clusters_are_singular(clusters):
    """Neighbouring cells in different clusters meet above the threshold; within a cluster below."""
    sdot, y, labels = clusters
    x = source_sample("cube", 20000, 2, seed=5)
    pairs, singular = singular_pairs(x, sdot.targets, sdot.heights)
    pairs, singular = pairs.numpy(), singular.numpy()
    # brute force: the same pairs from numpy scores, the same flags from numpy angles
    top = brute_top(x.numpy().astype(np.float64), y, sdot.heights.numpy().astype(np.float64), 2)
    brute = {tuple(p) for p in np.sort(top, axis=1)}
    assert len(brute ^ {tuple(p) for p in pairs}) <= 0.01 * len(brute)  # float32 ties only
    np.testing.assert_array_equal(singular, numpy_angle(y[pairs[:, 0]], y[pairs[:, 1]]) > DEFAULT_ANGLE_THRESHOLD)
    cross = labels[pairs[:, 0]] != labels[pairs[:, 1]]
    assert cross.sum() >= 2 and (~cross).sum() >= 100
    assert singular[cross].all()
    assert singular[~cross].mean() < 0.02


def test_singular_report_against_brute_force(clusters):
    sdot, y, labels = clusters
    x = source_sample("cube", 3000, 2, seed=9)
    rep = sdot.singular_report(x, k=3, threshold=0.5)
    h = sdot.heights.numpy().astype(np.float64)
    top = brute_top(x.numpy().astype(np.float64), y, h, 3)
    agree = (rep.cells.numpy() == top).all(1)
    assert agree.mean() > 0.99
    angles = numpy_angle(np.repeat(y[top[:, :1]], 2, 1).reshape(-1, 2), y[top[:, 1:]].reshape(-1, 2)).reshape(-1, 2)
    np.testing.assert_allclose(rep.angles.numpy()[agree], angles[agree], atol=1e-5)
    np.testing.assert_array_equal(rep.crossing.numpy()[agree], angles[agree, 0] > 0.5)
    # the face distance d: stepping d along the face normal from x lands on the face (equal scores)
    i, j = top[agree, 0], top[agree, 1]
    xa = x.numpy().astype(np.float64)[agree]
    u = (y[j] - y[i]) / np.linalg.norm(y[j] - y[i], axis=1, keepdims=True)
    on_face = xa + rep.face_distance.numpy()[agree, None] * u
    gap = ((on_face * y[i]).sum(1) + h[i]) - ((on_face * y[j]).sum(1) + h[j])
    np.testing.assert_allclose(gap, 0.0, atol=1e-4)


# ---------------------------------------------------------------------------- the generator
def test_admissible_pairs_match_brute_force(clusters):
    """Pairs (best cell, one of the next k - 1 cells) with angle <= threshold, for k = 2 and 6."""
    sdot, y, _ = clusters
    x = source_sample("cube", 4000, 2, seed=3)
    h = sdot.heights
    found = {}
    for k in (2, 6):
        top = brute_top(x.numpy().astype(np.float64), y, h.numpy().astype(np.float64), k)
        best = np.repeat(top[:, :1], k - 1, axis=1).ravel()
        other = top[:, 1:].ravel()
        ok = numpy_angle(y[best], y[other]) <= 0.3
        brute = {(int(a), int(b)) for a, b in zip(best[ok], other[ok])}
        got = {tuple(p) for p in admissible_pairs(x, sdot.targets, h, k=k, threshold=0.3).tolist()}
        assert len(brute ^ got) <= 0.01 * len(brute)
        found[k] = got
    assert len(found[6]) > 2 * len(found[2])


@pytest.mark.parametrize("w,k", [(0.75, 20), (0.3, 2), (0.0, 5), (1.0, 5)])
def test_generated_codes_are_the_interpolation_formula(clusters, w, k):
    sdot, y, _ = clusters
    made = ot_generate(sdot, 300, k=k, w=w, seed=11, return_pairs=True)
    p = made.pairs.numpy()
    expected = (1 - w) * y[p[:, 0]] + w * y[p[:, 1]]
    np.testing.assert_allclose(made.codes.numpy(), expected, atol=1e-6)
    np.testing.assert_array_equal(made.weights.numpy(), np.full(300, w, dtype=np.float32))
    assert (numpy_angle(y[p[:, 0]], y[p[:, 1]]) <= DEFAULT_ANGLE_THRESHOLD + 1e-6).all()
    # each pair is (best cell, one of the next k - 1 cells) of a sample of the generator's stream
    x = SobolSource(2, "cube", 11).draw(max(300 * 3, 64)).numpy().astype(np.float64)
    top = brute_top(x, y, sdot.heights.numpy().astype(np.float64), k)
    allowed = {(int(a), int(b)) for row in top for a, b in zip([row[0]] * (k - 1), row[1:])}
    assert np.mean([tuple(q) in allowed for q in p.tolist()]) > 0.99
    assert np.array_equal(ot_generate(sdot, 300, k=k, w=w, seed=11).numpy(), made.codes.numpy())


def test_interpolate_with_one_weight_per_pair():
    y = torch.tensor([[0.0, 0.0], [2.0, 4.0], [-1.0, 1.0]])
    pairs = torch.tensor([[0, 1], [1, 2], [2, 0]])
    w = torch.tensor([0.25, 0.5, 1.0])
    expected = np.array([[0.5, 1.0], [0.5, 2.5], [0.0, 0.0]])
    np.testing.assert_allclose(interpolate(y, pairs, w).numpy(), expected)


def test_ot_samples_stay_on_the_support_and_naive_ones_do_not(clusters):
    """Mode mixing measured by brute-force distances to the nearest target."""
    sdot, y, labels = clusters
    nn = np.sort(np.linalg.norm(y[:, None] - y[None], axis=2), axis=1)[:, 1]
    r = 2 * np.median(nn)
    assert support_radius(y) == pytest.approx(r)

    def brute_off(points):
        d = np.linalg.norm(np.asarray(points, dtype=np.float64)[:, None] - y[None], axis=2).min(1)
        return float(np.mean(d > r))

    made = ot_generate(sdot, 400, seed=1, return_pairs=True)
    naive = naive_pairs_generate(sdot.targets, 400, w=0.75, seed=1)
    gauss = gaussian_generate(sdot.targets, 400, seed=1)
    off = {name: brute_off(p) for name, p in (("ot", made.codes), ("naive", naive), ("gauss", gauss))}
    for name, p in (("ot", made.codes), ("naive", naive), ("gauss", gauss)):
        assert off_support_fraction(p, y, r) == pytest.approx(off[name])
    assert off["ot"] < 0.05
    assert off["naive"] > off["ot"] + 0.3 and off["gauss"] > off["ot"] + 0.3
    assert same_label_fraction(made.pairs, labels) == pytest.approx(
        np.mean(labels[made.pairs[:, 0].numpy()] == labels[made.pairs[:, 1].numpy()])
    )
    assert same_label_fraction(made.pairs, labels) > 0.95


def test_naive_pairs_are_midpoints_and_gaussian_matches_moments(clusters):
    sdot, y, _ = clusters
    mid = naive_pairs_generate(sdot.targets, 50, w=0.5, seed=2).numpy().astype(np.float64)
    midpoints = (0.5 * (y[:, None] + y[None])).reshape(-1, 2)
    assert np.linalg.norm(mid[:, None] - midpoints[None], axis=2).min(1).max() < 1e-6
    g = gaussian_generate(sdot.targets, 40000, seed=0).numpy().astype(np.float64)
    np.testing.assert_allclose(g.mean(0), y.mean(0), atol=0.02)
    np.testing.assert_allclose(np.cov(g.T), np.cov(y.T), atol=0.02)


def test_bad_input(clusters):
    sdot, _, _ = clusters
    with pytest.raises(OTInputError, match="no admissible pair"):
        ot_generate(sdot, 10, threshold=0.0)
    with pytest.raises(OTInputError, match="threshold"):
        ot_generate(sdot, 10, threshold=-1.0)
    with pytest.raises(OTInputError, match="shape"):
        sdot.singular_report(torch.zeros(5, 3))
    with pytest.raises(OTInputError, match="at least 2 targets"):
        SemiDiscreteOT(np.zeros((1, 2)))
    with pytest.raises(OTInputError, match="2-D targets|plane"):
        singular_set_explorer(SemiDiscreteOT(np.random.default_rng(0).normal(size=(10, 3))))
    with pytest.raises(OTInputError, match="dimension"):
        off_support_fraction(np.zeros((3, 2)), np.zeros((4, 3)), 1.0)
    with pytest.raises(OTInputError, match="labels"):
        neighbour_face_angles(sdot, np.zeros(7))
    with pytest.raises(OTInputError, match="NaN"):
        support_radius(np.array([[0.0, np.nan], [1.0, 1.0]]))


# ---------------------------------------------------------------------------- the explorers
def test_singular_set_explorer_updates_in_place(clusters):
    sdot, y, labels = clusters
    ex = singular_set_explorer(sdot, labels, threshold=0.7, resolution=80)
    figure = ex.figure
    faces = len(figure.data[1].x) + len(figure.data[2].x)
    assert faces > 0 and len(figure.data[2].x) > 0
    ex.sliders["threshold"].value = 1.9  # above every angle between these targets
    assert ex.figure is figure and len(figure.data[2].x) == 0 and len(figure.data[1].x) == faces
    ex.sliders["threshold"].value = 0.0
    assert len(figure.data[1].x) == 0 and len(figure.data[2].x) == faces
    # the probe marker's image is T(x) of the probe marker
    ex.sliders["probe"].value = 0.2
    x_probe = np.array([[figure.data[4].x[0], figure.data[4].y[0]]])
    t_probe = y[brute_top(x_probe, y, sdot.heights.numpy().astype(np.float64), 1)[0, 0]]
    np.testing.assert_allclose([figure.data[7].x[0], figure.data[7].y[0]], t_probe, atol=1e-6)


def test_generation_explorer_readout_matches_measures(clusters):
    sdot, y, labels = clusters
    ex = generation_explorer(sdot, n=200, labels=labels, seed=4)
    ex.sliders["weight"].value = 0.5
    naive = naive_pairs_generate(sdot.targets, 200, w=0.5, seed=4)
    expected = off_support_fraction(naive, y, support_radius(y))
    np.testing.assert_allclose(np.c_[ex.figure.data[3].x, ex.figure.data[3].y], naive.numpy(), atol=1e-6)
    assert f"random pairs: <b>{100 * expected:.1f}%</b>" in ex.readout.value
    ex.sliders["threshold"].value = 0.0
    assert "no admissible pair" in ex.readout.value and len(ex.figure.data[1].x) == 0


def test_tile_images_layout():
    images = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    tiled = tile_images(images, columns=2, gap=1, fill=-1.0)
    assert tiled.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(tiled[0:2, 4:7], images[1])
    np.testing.assert_array_equal(tiled[6:8, 0:3], images[4])
    assert (tiled[2] == -1).all() and (tiled[:, 3] == -1).all() and (tiled[6:8, 4:7] == -1).all()
    assert np.isfinite(tile_images(images)).all()


def test_raster_faces_are_the_cell_changes_between_neighbouring_pixels():
    axis = np.array([0.0, 1.0, 2.0])
    cells = np.array([[0, 0, 1], [0, 2, 1], [2, 2, 2]])  # cells[j, i]: pixel at x = axis[i], y = axis[j]
    xy, pairs = raster_faces(axis, cells)
    found = sorted((tuple(p), tuple(q)) for p, q in zip(xy.tolist(), pairs.tolist()))
    brute = []
    for j in range(3):
        for i in range(3):
            for dj, di in ((0, 1), (1, 0)):
                if j + dj < 3 and i + di < 3 and cells[j, i] != cells[j + dj, i + di]:
                    brute.append(((axis[i] + di / 2, axis[j] + dj / 2), (cells[j, i], cells[j + dj, i + di])))
    assert found == sorted(brute) and len(found) == 6
