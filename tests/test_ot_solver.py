"""Semi-discrete OT solver against independent computations: the 1-D quantile map, POT's
exact ot.emd on a large source sample, brute-force assignment, and the Monte-Carlo floor."""

import numpy as np
import ot
import pytest
import torch

from acglab.ot import OTInputError, SemiDiscreteOT, source_sample
from acglab.ot.candidates import CandidateCache


def blobs(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(4, d, generator=g) * 2
    return centres[torch.randint(4, (n,), generator=g)] + 0.3 * torch.randn(n, d, generator=g)


def test_one_dimensional_quantile_map():
    """In 1-D the OT map from U[-0.5, 0.5] is the monotone quantile map: cell i is the
    interval between the cumulative weights c_{i-1} and c_i (shifted by -0.5)."""
    rng = np.random.default_rng(0)
    y = np.sort(rng.normal(size=12))[:, None]
    w = rng.uniform(0.5, 1.5, size=12)
    w /= w.sum()
    sdot = SemiDiscreteOT(y, w, source="cube", seed=1).fit(tol=0.03, error="max")
    h = sdot.heights.double().numpy()
    ys = y[:, 0]
    # boundary between consecutive cells where <x,y_i>+h_i = <x,y_{i+1}>+h_{i+1}
    boundaries = (h[:-1] - h[1:]) / (ys[1:] - ys[:-1])
    expected = np.cumsum(w)[:-1] - 0.5
    assert np.allclose(boundaries, expected, atol=0.004)
    x = torch.linspace(-0.4999, 0.4999, 2001)[:, None]
    quantile = np.searchsorted(np.cumsum(w), x[:, 0].numpy() + 0.5)
    agree = (sdot.assign(x).numpy() == quantile).mean()
    assert agree > 0.99


def test_cell_masses_match_targets_2d():
    y = blobs(64, 2)
    w = torch.rand(64, generator=torch.Generator().manual_seed(3)) + 0.5
    w = w / w.sum()
    sdot = SemiDiscreteOT(y, w, seed=0).fit(tol=0.05)
    assert sdot.converged
    rel = sdot.relative_errors(n_samples=2**20, seed=123)  # an independent stream
    assert float(rel.max()) < 0.08
    hist = sdot.history_arrays()
    assert hist["max_rel_error"][-1] <= hist["max_rel_error"][0]


def test_assignment_matches_pot_emd_cost():
    """Our map's transport cost on a source sample is within 1% of POT's exact discrete OT
    between that sample and the weighted targets."""
    y = blobs(24, 2, seed=5).double()
    w = np.full(24, 1 / 24)
    sdot = SemiDiscreteOT(y, w, seed=0).fit(tol=0.02, error="max")
    x = source_sample("cube", 2400, 2, seed=99).double()
    cost = ot.dist(x.numpy(), y.numpy()) / 2  # |x - y|^2 / 2
    plan = ot.emd(np.full(2400, 1 / 2400), w, cost)
    exact = float((plan * cost).sum())
    ours = float(((x - sdot.transport(x).double()) ** 2).sum(1).mean() / 2)
    assert abs(ours - exact) / exact < 0.01
    # and most samples are sent where the exact plan sends them
    assert (plan.argmax(1) == sdot.assign(x).numpy()).mean() > 0.9


def test_gaussian_source():
    y = blobs(32, 3, seed=2)
    sdot = SemiDiscreteOT(y, source="gaussian", seed=0).fit(tol=0.05)
    assert sdot.converged
    assert float(sdot.relative_errors(2**19, seed=7).max()) < 0.1


def test_candidate_cache_is_exact_under_height_changes():
    y = blobs(300, 5, seed=1)
    x = source_sample("cube", 20000, 5, seed=4)
    h = torch.zeros(300)
    cache = CandidateCache(x, y, h, k=4)
    g = torch.Generator().manual_seed(0)
    for scale in [0.01, 0.05, 0.2, 1.0]:
        h = h + scale * torch.randn(300, generator=g)
        idx, best = cache.assign(h)
        brute = (x @ y.T + h).argmax(1)
        assert torch.equal(idx, brute)
        assert torch.allclose(best, (x @ y.T + h).max(1).values, atol=1e-4)
    assert cache.full_rows > 20000  # large changes forced recomputation


def test_warm_start_takes_far_fewer_steps():
    y = blobs(200, 4, seed=8)
    cold = SemiDiscreteOT(y, seed=0).fit(tol=0.1)
    drift = y + 0.01 * torch.randn(y.shape, generator=torch.Generator().manual_seed(1))
    warm = SemiDiscreteOT(drift, seed=0, heights=cold.heights).fit(tol=0.1)
    fresh = SemiDiscreteOT(drift, seed=0, init="zero").fit(tol=0.1)
    assert warm.converged and fresh.converged
    assert len(warm.history) * 3 < len(fresh.history)


def test_energy_is_minimised_at_fitted_heights():
    """E(h) = int F dmu - sum nu h is convex with minimum at the fitted heights: perturbing h
    in random directions raises the (common-sample) energy estimate."""
    y = blobs(20, 2, seed=4)
    sdot = SemiDiscreteOT(y, seed=0).fit(tol=0.02)
    x = source_sample("cube", 2**18, 2, seed=11)
    w = sdot.weights

    def energy(h):
        return float((x @ y.T + h).max(1).values.double().mean() - (w * h.double()).sum())

    h0 = sdot.heights
    e0 = energy(h0)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        d = torch.randn(20, generator=g)
        assert energy(h0 + 0.05 * d) > e0


def test_save_load_roundtrip(tmp_path):
    y = blobs(30, 3)
    sdot = SemiDiscreteOT(y, seed=0).fit(tol=0.1)
    path = sdot.save(tmp_path / "ot.npz")
    back = SemiDiscreteOT.load(path)
    assert torch.allclose(back.heights, sdot.heights, atol=1e-6)
    x = source_sample("cube", 1000, 3, seed=2)
    assert torch.equal(back.assign(x), sdot.assign(x))
    assert len(back.history) == len(sdot.history)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(OTInputError):
        SemiDiscreteOT.load(tmp_path / "bad.npz")


def test_monte_carlo_floor_formula():
    """The predicted noise matches the spread of i.i.d. cell-mass estimates."""
    from acglab.ot import monte_carlo_noise

    n, m = 50, 20000
    w = torch.full((n,), 1 / n, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    errs = []
    for _ in range(200):
        counts = torch.bincount(torch.randint(n, (m,), generator=g), minlength=n).double() / m
        errs.append(((counts - w).abs() / w).mean())
    predicted = monte_carlo_noise(w, m, "mean")
    assert abs(float(torch.stack(errs).mean()) - predicted) / predicted < 0.05


@pytest.mark.parametrize(
    "bad, msg",
    [
        (np.array([[0.0, np.nan], [1.0, 1.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 1.0]]), "NaN or inf"),
        (np.zeros((1, 3)), "at least 2"),
        (np.zeros(5), "2-D"),
    ],
)
def test_bad_targets(bad, msg):
    with pytest.raises(OTInputError, match=msg):
        SemiDiscreteOT(bad)


def test_bad_weights_and_dims():
    y = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.raises(OTInputError, match="sum to 1"):
        SemiDiscreteOT(y, np.ones(5))
    with pytest.raises(OTInputError, match="shape"):
        SemiDiscreteOT(y, np.ones(4) / 4)
    with pytest.raises(OTInputError, match="positive"):
        SemiDiscreteOT(y, np.array([0.5, 0.5, 0.0, 0.0, 0.0]))
    sdot = SemiDiscreteOT(y).fit(tol=0.2)
    with pytest.raises(OTInputError, match="shape"):
        sdot.assign(torch.zeros(3, 4))  # d mismatch


def test_duplicate_targets_are_merged():
    y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    sdot = SemiDiscreteOT(y, seed=0).fit(tol=0.05)
    masses = sdot.cell_masses(2**18)
    assert torch.allclose(masses, torch.full((4,), 0.25, dtype=masses.dtype), atol=0.02)
    assert sdot.heights[0] == sdot.heights[2]
    idx = sdot.assign(torch.zeros(10, 2) + torch.tensor([-0.4, -0.4]))
    assert set(idx.tolist()) <= {0, 1, 3}


def test_candidate_counts_equal_brute_force_under_height_changes():
    y = blobs(200, 4, seed=2)
    x = source_sample("cube", 30000, 4, seed=5)
    h = torch.zeros(200)
    cache = CandidateCache(x, y, h, k=4)
    g = torch.Generator().manual_seed(1)
    rebuilt = 0
    for step in range(40):
        scale = 1e-3 if step < 30 else 0.3  # many small Adam-like steps, then large jumps
        h = h + scale * torch.randn(200, generator=g)
        before = id(getattr(cache, "_ref", None))
        counts, total = cache.counts(h)
        rebuilt += before != id(cache._ref)
        scores = x.double() @ y.double().T + h.double()
        top2 = scores.topk(2, dim=1)
        clear = (top2.values[:, 0] - top2.values[:, 1]) > 1e-4  # float32 near-ties may go either way
        brute = torch.bincount(top2.indices[clear, 0], minlength=200).double()
        ours = torch.bincount(cache.assign(h)[0][clear], minlength=200).double()
        assert torch.equal(brute, ours)
        assert (counts - torch.bincount(top2.indices[:, 0], minlength=200).double()).abs().sum() <= 2 * (~clear).sum()
        assert abs(total - float(top2.values[:, 0].sum())) < 1e-3 * len(x)
    assert 1 < rebuilt < 40  # small steps reuse the reference, large ones rebuild it


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"n": 0}, "positive integer"),
        ({"n": 10, "w": float("nan")}, "w must be"),
        ({"n": 10, "k": 1}, "k must be"),
        ({"n": 10, "oversample": 0}, "oversample"),
    ],
)
def test_generator_rejects_bad_parameters(kwargs, msg):
    sdot = SemiDiscreteOT(blobs(20, 2, seed=3), seed=0)
    with pytest.raises(OTInputError, match=msg):
        sdot.generate(**kwargs)


def test_naive_generators_validate_targets():
    from acglab.ot.generate import gaussian_generate, naive_pairs_generate

    with pytest.raises(OTInputError, match="at least 2"):
        gaussian_generate(torch.zeros(1, 3), 5)
    with pytest.raises(OTInputError, match="NaN"):
        naive_pairs_generate(torch.tensor([[0.0, float("nan")], [1.0, 1.0]]), 5)
    y = blobs(10, 2, seed=4).double()
    assert naive_pairs_generate(y, 7).dtype == torch.float64
