"""The steps of SemiDiscreteOT.fit (acglab.ot.fit_steps) and the snapshot candidate cache against
independent computations: brute-force assignment on independent points, torch's Adam, and the
noise model's sample sizes."""

import importlib.util
import math
from pathlib import Path

import pytest
import torch

from acglab.ot import SemiDiscreteOT, monte_carlo_noise, source_sample
from acglab.ot.candidates import CandidateCache
from acglab.ot.fit_cache import SnapshotCandidateCache
from acglab.ot.fit_steps import NOISE_SHARE, HeightAdam, MonteCarloCells, grown_sample_count, initial_sample_count

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def mixture(n, d, seed=0):
    """Eight Gaussian clusters, as the benchmark's stand-in for latent codes."""
    g = torch.Generator().manual_seed(seed)
    centres = 2.0 * torch.randn(8, d, generator=g)
    return centres[torch.randint(8, (n,), generator=g)] + 0.5 * torch.randn(n, d, generator=g)


def brute_force_errors(y, h, n=2**19, seed=5):
    """Max relative cell-mass error of heights h for uniform weights, by a full argmax over all
    cells on i.i.d. uniform points of the cube (independent of the solver's Sobol samples)."""
    g = torch.Generator().manual_seed(seed)
    counts = torch.zeros(y.shape[0], dtype=torch.float64)
    for _ in range(n // 2**16):
        x = torch.rand(2**16, y.shape[1], generator=g, dtype=torch.float64) - 0.5
        counts += torch.bincount((x @ y.double().T + h.double()).argmax(1), minlength=y.shape[0]).double()
    return float((counts / n * y.shape[0] - 1).abs().max())


@pytest.mark.parametrize("n, d, tol", [(256, 8, 0.3), (128, 64, 0.3), (256, 8, 0.6)])
def test_low_accuracy_fit_reaches_its_tolerance_on_independent_points(n, d, tol):
    y = mixture(n, d)
    sdot = SemiDiscreteOT(y, seed=0).fit(tol=tol)
    assert sdot.converged
    # brute force on i.i.d. points: its own noise (about 0.1 for N = 256 and 2^19 points) adds up
    # with the fit's error as sqrt(a^2 + b^2)
    noise = monte_carlo_noise(torch.full((n,), 1 / n, dtype=torch.float64), 2**19)
    assert brute_force_errors(y, sdot.heights) < math.hypot(tol, noise)
    assert float(sdot.relative_errors(2**19, seed=123).max()) < tol
    # the set was sized for tol: no larger than the size whose predicted noise is NOISE_SHARE tol,
    # but for the rounding of grown_sample_count
    last = sdot.history[-1]
    need = n * (math.sqrt(2 * math.log(2 * n)) / (NOISE_SHARE * tol)) ** 2
    assert last.samples <= max(initial_sample_count(n), 1.125 * need)


def test_growth_stops_at_the_size_the_tolerance_needs():
    m, tol = 2**16, 0.1
    noise = 0.15  # at the floor: the set needs (0.15 / 0.085)^2 = 3.1x more samples
    grown = grown_sample_count(m, noise, tol, True, 2**24)
    want = m * (noise / (NOISE_SHARE * tol)) ** 2
    assert want <= grown <= 1.0625 * want + 1
    assert grown_sample_count(m, 10.0, tol, True, 2**24) == 4 * m  # at most x4 per level
    assert grown_sample_count(m, noise, tol, False, 2**24) == 2 * m  # a stall doubles
    assert grown_sample_count(m, 0.086, tol, True, 2**24) > m  # always grows
    assert grown_sample_count(m, noise, tol, True, 100_000) == 100_000
    assert initial_sample_count(1024) == 4096 and initial_sample_count(10) == 4096
    assert initial_sample_count(3000) == 16384


def test_height_adam_is_torch_adam_for_uniform_weights():
    n = 50
    w = torch.full((n,), 1 / n, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    h = torch.randn(n, generator=g, dtype=torch.float64)
    ref = torch.nn.Parameter(h.clone())
    opt = torch.optim.Adam([ref], lr=0.03, betas=(0.9, 0.999), eps=1e-12 / n)
    adam = HeightAdam(h)
    for _ in range(20):
        grad = torch.randn(n, generator=g, dtype=torch.float64) / n
        h = adam.step(h, grad, 0.03, w)
        ref.grad = grad.clone()
        opt.step()
    assert torch.allclose(h, ref.detach(), rtol=1e-10, atol=1e-12)


def test_monte_carlo_cells_gradient_and_energy_are_brute_force_on_their_samples():
    y = mixture(60, 3, seed=1)
    w = torch.rand(60, generator=torch.Generator().manual_seed(2), dtype=torch.float64) + 0.5
    w /= w.sum()
    h = 0.1 * torch.randn(60, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    timing = {"sampling": 0.0, "full": 0.0, "candidates": 0.0}
    cells = MonteCarloCells(y, h, 5000, "cube", seed=4, k=3, chunk_bytes=2**20, timing=timing)
    cells.grow(12000, h)
    x = cells.cache.x
    # the stream's points (drawn in float32: within one rounding of the float64 draw)
    assert x.shape == (12000, 3) and torch.allclose(x, source_sample("cube", 12000, 3, seed=4), rtol=0, atol=6e-8)
    for step in range(5):
        hh = h + 0.02 * step * torch.randn(60, generator=torch.Generator().manual_seed(step), dtype=torch.float64)
        grad, energy = cells.gradient(hh, w)
        scores = x.double() @ y.double().T + hh.float().double()
        mass = torch.bincount(scores.argmax(1), minlength=60).double() / len(x)
        assert (grad - (mass - w)).abs().max() <= 2 / len(x)  # float32 near-ties may go either way
        expected = float(scores.max(1).values.mean() - (w * hh).sum())
        assert abs(energy - expected) < 1e-4


def brute(x, y, h):
    scores = x.double() @ y.double().T + h.double()
    top2 = scores.topk(2, dim=1)
    clear = (top2.values[:, 0] - top2.values[:, 1]) > 1e-4  # float32 near-ties may go either way
    return top2, clear


def test_snapshot_cache_is_exact_through_merges_and_growth():
    y = mixture(200, 5, seed=2)
    x = source_sample("cube", 30000, 5, seed=4)
    h = torch.zeros(200)
    cache = SnapshotCandidateCache(x[:20000], y, h, k=3)
    cache.MAX_SNAPSHOTS = 4  # merge often
    g = torch.Generator().manual_seed(0)
    for step in range(40):
        h = h + (0.3 if step % 10 == 9 else 0.005) * torch.randn(200, generator=g)
        if step == 20:
            cache.extend(x[20000:], h)
        rows = len(cache)
        top2, clear = brute(x[:rows], y, h)
        counts, total = cache.counts(h)
        idx, best = cache.assign(h)
        assert torch.equal(idx[clear], top2.indices[clear, 0])
        assert (counts - torch.bincount(top2.indices[:, 0], minlength=200).double()).abs().sum() <= 2 * (~clear).sum()
        assert abs(total - float(top2.values[:, 0].sum())) < 1e-3 * rows
        assert cache.snapshots.shape[0] <= cache.MAX_SNAPSHOTS
    # every bound is still an upper bound on the cells outside the candidates
    scores = x.double() @ y.double().T + h.double()
    outside = scores.scatter(1, cache.cand.long(), -math.inf).max(1).values
    assert bool((outside <= cache.bounds(h).double() + 1e-4).all())


def test_snapshot_bounds_need_fewer_full_passes_when_heights_go_back_and_forth():
    """Adam's late steps oscillate: summed rises loosen CandidateCache's bounds, net rises do not."""
    y = mixture(300, 6, seed=3)
    x = source_sample("cube", 20000, 6, seed=6)
    h0 = torch.zeros(300)
    caches = [CandidateCache(x, y, h0, k=3), SnapshotCandidateCache(x, y, h0, k=3)]
    d = 0.01 * torch.randn(300, generator=torch.Generator().manual_seed(1))
    for step in range(60):
        h = h0 + (d if step % 2 else -d)
        results = [c.assign(h) for c in caches]
        assert torch.equal(results[0][0], results[1][0])
    assert caches[1].full_rows < caches[0].full_rows / 2


def test_bench_sdot_quick_prints_the_comparison_and_the_table(capsys):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_sdot.py"
    spec = importlib.util.spec_from_file_location("bench_sdot", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    results = bench.main(["--quick", "--sections", "published,table", "--threads", "1"])
    out = capsys.readouterr().out
    published, table = results
    ours, base = published["rows"]
    assert ours["error"] <= base["error"] and published["ratio"] == pytest.approx(base["seconds"] / ours["seconds"])
    assert "faster" in out and "AE-OT loop" in out
    assert [(r["N"], r["d"], r["tol"]) for r in table["rows"]] == [
        (n, d, t) for n, d in bench.QUICK_SIZES for t in bench.QUICK_TOLS
    ]
    assert all(r["error"] <= 1.1 * r["tol"] for r in table["rows"])
