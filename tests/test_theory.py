"""GAN theory against independent computations: scipy (entropy, jensenshannon,
wasserstein_distance, quad, norm), POT's wasserstein_1d, torch autograd and BCE, closed forms
(moment matching, -log 4 + 2 JSD, |shift|) and brute force; then the notebook explorers'
callbacks and the notebook runtime helpers."""

import math
import re

import numpy as np
import ot
import pytest
import torch
from scipy import integrate, stats
from scipy.spatial.distance import jensenshannon

from acglab.errors import AcglabError
from acglab.theory import (
    GaussianMixture,
    TheoryInputError,
    binary_cross_entropy,
    divergences_under_shift,
    fit_gaussian,
    gaussian_pdf,
    generator_logit_gradients,
    js_divergence,
    kl_divergence,
    kl_gaussians,
    logistic_discriminator,
    mode_counts,
    mode_shares,
    modes_covered,
    nearest_mode,
    optimal_discriminator,
    optimal_value,
    optimal_value_via_jsd,
    reverse_kl_divergence,
    ring_mode_centers,
    sample_ring,
    uniform_grid,
    uniform_pdf,
    value_from_bce,
    value_function,
    value_function_grid,
    wasserstein1_grid,
    wasserstein1_samples,
)

LOG4 = math.log(4.0)


def random_pmf(rng, n, zeros=0):
    p = rng.uniform(0.1, 1.0, size=n)
    p[:zeros] = 0.0
    rng.shuffle(p)
    return p / p.sum()


# ---------------------------------------------------------------- divergences


def test_kl_matches_scipy_entropy():
    rng = np.random.default_rng(0)
    for _ in range(5):
        p, q = random_pmf(rng, 12, zeros=3), random_pmf(rng, 12)
        assert kl_divergence(p, q) == pytest.approx(stats.entropy(p, q), rel=1e-12)
        assert reverse_kl_divergence(p, q) == pytest.approx(stats.entropy(q, p), rel=1e-12)
    # q = 0 where p > 0: infinite, as scipy says
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([1.0, 0.0, 0.0])
    assert np.isinf(kl_divergence(p, q)) and np.isinf(stats.entropy(p, q))


def test_kl_on_grid_matches_gaussian_closed_form_and_scipy():
    x, dx = uniform_grid(-15, 15, 6001)
    p, q = gaussian_pdf(x, 0.3, 0.8), gaussian_pdf(x, -1.0, 1.7)
    closed = kl_gaussians(0.3, 0.8, -1.0, 1.7)
    assert kl_divergence(p, q, dx) == pytest.approx(closed, abs=1e-6)
    assert kl_divergence(p, q, dx) == pytest.approx(stats.entropy(p * dx, q * dx), abs=1e-6)
    assert kl_divergence(p, q, dx) != pytest.approx(kl_divergence(q, p, dx), abs=1e-2)  # not symmetric


def test_jsd_matches_scipy_jensenshannon_squared():
    rng = np.random.default_rng(1)
    for _ in range(5):
        p, q = random_pmf(rng, 10, zeros=2), random_pmf(rng, 10, zeros=2)
        assert js_divergence(p, q) == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-9)
    x, dx = uniform_grid(-10, 10, 4001)
    p, q = gaussian_pdf(x, 0, 1), gaussian_pdf(x, 1.5, 0.6)
    assert js_divergence(p, q, dx) == pytest.approx(jensenshannon(p * dx, q * dx) ** 2, abs=1e-9)


def test_jsd_is_log2_for_disjoint_supports():
    p = np.array([0.2, 0.8, 0.0, 0.0])
    q = np.array([0.0, 0.0, 0.3, 0.7])
    assert js_divergence(p, q) == pytest.approx(math.log(2), abs=1e-12)
    assert jensenshannon(p, q) ** 2 == pytest.approx(math.log(2), abs=1e-12)


def test_w1_grid_matches_scipy_pot_and_closed_form():
    x, dx = uniform_grid(-10, 14, 4801)
    for shift in (0.0, 0.7, 2.0, 3.5):
        p, q = gaussian_pdf(x, 0, 1), gaussian_pdf(x, shift, 1)
        w1 = wasserstein1_grid(p, q, dx)
        assert w1 == pytest.approx(stats.wasserstein_distance(x, x, p, q), abs=1e-9)
        assert w1 == pytest.approx(ot.wasserstein_1d(x, x, p / p.sum(), q / q.sum(), p=1), abs=1e-9)
        assert w1 == pytest.approx(shift, abs=2 * dx)  # W1 between a distribution and its shift is |s|


def test_w1_samples_matches_scipy():
    rng = np.random.default_rng(2)
    u, v = rng.normal(size=40), rng.normal(1.0, 2.0, size=25)
    wu, wv = rng.uniform(size=40), rng.uniform(size=25)
    assert wasserstein1_samples(u, v) == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-12)
    assert wasserstein1_samples(u, v, wu, wv) == pytest.approx(stats.wasserstein_distance(u, v, wu, wv), rel=1e-12)


def test_divergences_under_shift_closed_forms():
    shifts = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 3.0])
    out = divergences_under_shift(shifts, width=1.0)
    # two uniforms of width 1 overlapping on 1 - s: JSD = s log 2 for s < 1, log 2 after
    expected_jsd = np.minimum(shifts, 1.0) * math.log(2)
    assert np.allclose(out["jsd"], expected_jsd, atol=2e-3)
    assert np.allclose(out["w1"], shifts, atol=2e-3)
    assert out["kl"][0] == pytest.approx(0.0, abs=1e-12) and np.all(np.isinf(out["kl"][1:]))
    assert np.ptp(out["jsd"][shifts >= 1.0]) < 1e-12  # flat: no gradient once disjoint


def test_divergence_input_errors():
    with pytest.raises(TheoryInputError):
        kl_divergence([0.5, 0.5], [1.0])
    with pytest.raises(TheoryInputError):
        js_divergence([0.5, -0.5], [0.5, 0.5])
    with pytest.raises(TheoryInputError):
        wasserstein1_grid([0.0, 0.0], [1.0, 0.0], 1.0)
    with pytest.raises(AcglabError):
        uniform_grid(1.0, 0.0)


# ---------------------------------------------------------------- GAN value function


def test_bce_matches_torch_and_value_function_is_minus_bce():
    rng = np.random.default_rng(3)
    d_real, d_fake = rng.uniform(0.01, 0.99, 30), rng.uniform(0.01, 0.99, 20)
    labels = rng.integers(0, 2, 30).astype(float)
    torch_bce = torch.nn.functional.binary_cross_entropy(torch.tensor(d_real), torch.tensor(labels)).item()
    assert binary_cross_entropy(d_real, labels) == pytest.approx(torch_bce, rel=1e-12)
    brute = np.mean(np.log(d_real)) + np.mean(np.log(1 - d_fake))
    assert value_function(d_real, d_fake) == pytest.approx(brute, rel=1e-12)
    assert value_from_bce(d_real, d_fake) == pytest.approx(brute, rel=1e-12)
    assert value_function(np.full(5, 0.5), np.full(7, 0.5)) == pytest.approx(-LOG4)
    assert value_function([1.0], [0.0]) == 0.0  # perfect, confident discriminator
    assert value_function([0.0], [0.5]) == -math.inf  # confidently wrong


def test_generator_gradients_match_autograd():
    logits = torch.tensor([-6.0, -2.0, 0.0, 1.5], requires_grad=True)
    d = torch.sigmoid(logits)
    sat = torch.autograd.grad(torch.log(1 - d).sum(), logits)[0].numpy()
    d = torch.sigmoid(logits)
    non_sat = torch.autograd.grad((-torch.log(d)).sum(), logits)[0].numpy()
    grads = generator_logit_gradients(torch.sigmoid(logits).detach().numpy())
    assert np.allclose(grads["saturating"], sat, atol=1e-6)
    assert np.allclose(grads["non_saturating"], non_sat, atol=1e-6)


def _densities(x):
    data = GaussianMixture((-1.5, 1.0), (0.5, 0.8), (0.4, 0.6))
    return data.pdf(x), gaussian_pdf(x, 0.8, 1.3)


def test_optimal_discriminator_beats_perturbations():
    x, dx = uniform_grid(-10, 10, 2001)
    p_data, p_g = _densities(x)
    d_star = optimal_discriminator(p_data, p_g)
    v_star = value_function_grid(d_star, p_data, p_g, dx)
    rng = np.random.default_rng(4)
    logit = np.log(d_star) - np.log1p(-d_star)
    for scale in (1e-3, 0.1, 1.0):
        perturbed = 1 / (1 + np.exp(-(logit + scale * rng.normal(size=x.shape))))
        assert value_function_grid(perturbed, p_data, p_g, dx) < v_star
    # nor can any sigmoid discriminator do better (brute-force search over a family)
    best = max(
        value_function_grid(logistic_discriminator(x, k, t), p_data, p_g, dx)
        for k in np.linspace(-6, 6, 25)
        for t in np.linspace(-3, 3, 25)
    )
    assert best <= v_star + 1e-12


def test_optimal_value_is_minus_log4_plus_two_jsd():
    x, dx = uniform_grid(-14, 14, 5601)
    p_data = gaussian_pdf(x, 0.0, 1.0)
    for mean, width in [(0.0, 1.0), (0.5, 1.0), (2.0, 0.5), (-3.0, 2.0), (9.0, 1.0)]:
        p_g = gaussian_pdf(x, mean, width)
        jsd_scipy = jensenshannon(p_data * dx, p_g * dx) ** 2
        assert optimal_value(p_data, p_g, dx) == pytest.approx(-LOG4 + 2 * jsd_scipy, abs=1e-6)
        assert optimal_value_via_jsd(p_data, p_g, dx) == pytest.approx(-LOG4 + 2 * jsd_scipy, abs=1e-6)
    assert optimal_value(p_data, p_data, dx) == pytest.approx(-LOG4, abs=1e-9)
    assert np.allclose(optimal_discriminator(p_data, p_data), 0.5)
    # disjoint supports: D* is 1 on the data and 0 on the fakes, V(D*, G) = 0
    assert optimal_value(uniform_pdf(x, 0, 1), uniform_pdf(x, 5, 6), dx) == 0.0


def test_optimal_value_matches_monte_carlo():
    """Sample x ~ p_data and x ~ p_g, evaluate D* there: the sample mean of V is the integral."""
    rng = np.random.default_rng(5)
    data = GaussianMixture((-1.5, 1.0), (0.5, 0.8), (0.4, 0.6))
    real, fake = data.sample(200_000, rng), rng.normal(0.8, 1.3, 200_000)
    d_star = lambda z: data.pdf(z) / (data.pdf(z) + stats.norm.pdf(z, 0.8, 1.3))  # noqa: E731
    mc = value_function(d_star(real), d_star(fake))
    x, dx = uniform_grid(-12, 12, 4801)
    p_data, p_g = _densities(x)
    assert optimal_value(p_data, p_g, dx) == pytest.approx(mc, abs=0.01)


# ---------------------------------------------------------------- fitting


@pytest.mark.parametrize(
    "target",
    [
        GaussianMixture.bimodal(6.0),
        GaussianMixture.bimodal(2.5, sigma=0.7),
        GaussianMixture((-2.0, 1.0, 4.0), (0.5, 1.0, 0.8), (0.2, 0.5, 0.3)),
    ],
)
def test_forward_kl_fit_is_moment_matching(target):
    w, m, s = (np.asarray(a) for a in (target.weights, target.means, target.sigmas))
    mean = float(w @ m)
    var = float(w @ (s**2 + m**2)) - mean**2
    fit = fit_gaussian(target, "forward")
    assert fit.mu == pytest.approx(mean, abs=1e-4)
    assert fit.sigma == pytest.approx(math.sqrt(var), abs=1e-4)
    quad = integrate.quad(
        lambda t: target.pdf(t) * (target.logpdf(t) - stats.norm.logpdf(t, fit.mu, fit.sigma)),
        -30,
        30,
        points=list(m),
        limit=200,
    )[0]
    assert fit.divergence == pytest.approx(quad, abs=1e-6)


def test_reverse_kl_fit_lands_on_one_mode():
    fit = fit_gaussian(GaussianMixture.bimodal(10.0), "reverse")
    assert abs(fit.mu) == pytest.approx(5.0, abs=1e-2) and fit.sigma == pytest.approx(1.0, abs=1e-2)
    # q = one component, p = q/2 on its support: KL(q || p) = log 2
    assert fit.divergence == pytest.approx(math.log(2), abs=1e-3)
    heavier_right = GaussianMixture((-4.0, 4.0), (1.0, 1.0), (0.3, 0.7))
    fit = fit_gaussian(heavier_right, "reverse")
    assert fit.mu == pytest.approx(4.0, abs=2e-2)
    assert fit.divergence == pytest.approx(-math.log(0.7), abs=1e-3)
    forward = fit_gaussian(GaussianMixture.bimodal(10.0), "forward")
    assert forward.sigma > 4.0  # the forward fit spreads over both modes


def test_fit_rejects_bad_direction():
    with pytest.raises(TheoryInputError):
        fit_gaussian(GaussianMixture.bimodal(2.0), "sideways")


# ---------------------------------------------------------------- ring and mode counting


def test_mode_counting_on_hand_made_samples():
    centers = ring_mode_centers(8, 2.0)
    assert np.allclose(centers[2], [0.0, 2.0]) and np.allclose(np.linalg.norm(centers, axis=1), 2.0)
    near0 = np.repeat(centers[:1], 20, axis=0) + 0.01  # 20 points at mode 0
    near3 = centers[3] + np.array([[0.1, 0.0]] * 12)  # 12 points 0.1 from mode 3
    few5 = np.repeat(centers[5:6], 5, axis=0)  # 5 points at mode 5: below min_count
    between = np.array([[0.0, 0.0]] * 30) + [0.3, 0.3]  # 30 points far from every mode
    pts = np.concatenate([near0, near3, few5, between])
    counts = mode_counts(pts, centers, std=0.05, coverage_std=3.0)
    brute = np.zeros(8, int)
    for p in pts:
        d = [math.dist(p, c) for c in centers]
        if min(d) <= 0.15:
            brute[int(np.argmin(d))] += 1
    assert counts.tolist() == brute.tolist() == [20, 0, 0, 12, 0, 5, 0, 0]
    assert modes_covered(pts, centers, std=0.05, min_count=10) == 2
    assert modes_covered(pts, centers, std=0.05, min_count=5) == 3
    assert modes_covered(pts, centers, std=0.01, min_count=10) == 1  # radius 0.03 drops mode 3
    shares = mode_shares(pts, centers)
    assert shares.sum() == pytest.approx(1.0) and shares[0] == pytest.approx(20 / 67)


def test_sample_ring_and_nearest_mode():
    pts, modes = sample_ring(500, 8, 2.0, 0.05, rng=0)
    idx, dist = nearest_mode(pts, ring_mode_centers(8, 2.0))
    assert np.array_equal(idx, modes)
    assert dist.max() < 0.3 and modes_covered(pts, ring_mode_centers(), 0.05) == 8
    with pytest.raises(TheoryInputError):
        nearest_mode(np.zeros((3, 2)), np.zeros((2, 3)))


# ---------------------------------------------------------------- toy GAN


def test_toy_gan_is_reproducible_and_validates():
    from acglab.theory.toy_gan import ToyGANConfig, toy_gan_preset, train_toy_gan

    cfg = ToyGANConfig(steps=30, snapshot_every=10, n_eval=200)
    a, b = train_toy_gan(cfg), train_toy_gan(cfg)
    assert np.array_equal(a.samples, b.samples) and a.steps.tolist() == [0, 10, 20, 30]
    assert a.samples.shape == (4, 200, 2) and a.shares.shape == (4, 8)
    c = train_toy_gan(ToyGANConfig(steps=30, snapshot_every=10, n_eval=200, seed=1))
    assert not np.allclose(a.samples[-1], c.samples[-1])
    with pytest.raises(TheoryInputError):
        train_toy_gan(ToyGANConfig(loss="vae"))
    with pytest.raises(TheoryInputError):
        toy_gan_preset("nope")
    with pytest.raises(TheoryInputError):
        toy_gan_preset("collapse", learning_rate=1.0)
    assert toy_gan_preset("collapse", quick=False).steps > toy_gan_preset("collapse", quick=True).steps


@pytest.mark.slow
def test_quick_presets_collapse_and_cover():
    """The notebook's story, in quick mode with its seed: the fast generator collapses, the
    WGAN-GP run covers the ring, and the exercise's fix (a faster discriminator) works."""
    from acglab.theory.toy_gan import toy_gan_preset, train_toy_gan

    collapse = train_toy_gan(toy_gan_preset("collapse", quick=True, seed=0))
    assert collapse.covered[-1] <= 2 and collapse.shares[-1].max() >= 0.9
    assert collapse.covered.max() <= 2  # never spreads out along the way
    wgan = train_toy_gan(toy_gan_preset("wgan-gp", quick=True, seed=0))
    assert wgan.covered[-1] >= 6 and wgan.shares[-1].max() < 0.3
    fixed = train_toy_gan(toy_gan_preset("collapse", quick=True, seed=0, lr_d=2e-3))
    assert fixed.covered[-1] >= 6


# ---------------------------------------------------------------- explorers


def test_optimal_discriminator_explorer_updates_in_place():
    from acglab.viz.gan_widgets import optimal_discriminator_explorer

    ex = optimal_discriminator_explorer(mean=2.0, width=1.0, x_range=(-8, 8))
    fig = ex.figure
    x = np.asarray(fig.data[0].x)
    before = np.asarray(fig.data[2].y).copy()
    ex.sliders["mean"].value = -1.0
    ex.sliders["width"].value = 0.5
    assert ex.figure is fig  # same figure, traces rewritten
    assert np.allclose(fig.data[1].y, stats.norm.pdf(x, -1.0, 0.5))
    p = stats.norm.pdf(x, 0, 1)
    assert np.allclose(fig.data[2].y, p / (p + stats.norm.pdf(x, -1.0, 0.5)))
    assert not np.allclose(fig.data[2].y, before)
    ex.sliders["mean"].value = 0.0
    ex.sliders["width"].value = 1.0
    assert np.allclose(fig.data[2].y, 0.5)
    assert "-1.3863" in ex.readout.value and "-1.3863" in fig.layout.title.text
    ex.sliders["mean"].value = 5.0  # far right and wide: the integrals must still hold all of p_g
    ex.sliders["width"].value = 3.0
    by_integration, via_jsd = re.findall(r"<b>(-?[0-9.]+)</b>", ex.readout.value)
    assert by_integration == via_jsd


def test_kl_fit_explorer_updates_in_place():
    from acglab.viz.gan_widgets import kl_fit_explorer

    ex = kl_fit_explorer(separation=2.0)
    x = np.asarray(ex.figure.data[1].x)
    ex.sliders["separation"].value = 8.0
    assert np.allclose(ex.figure.data[1].y, stats.norm.pdf(x, 0.0, math.sqrt(17.0)), atol=1e-4)
    reverse = np.asarray(ex.figure.data[3].y)
    assert abs(abs(x[reverse.argmax()]) - 4.0) < 0.05  # reverse fit sits on one mode
    assert "σ = 4.12" in ex.figure.layout.annotations[0].text


def test_divergence_shift_explorer_updates_in_place():
    from acglab.viz.gan_widgets import divergence_shift_explorer

    ex = divergence_shift_explorer(shift=0.5)
    assert ex.figure.data[5].y[0] == pytest.approx(0.5 * math.log(2), abs=2e-3)
    ex.sliders["shift"].value = 2.5
    assert ex.figure.data[5].x[0] == pytest.approx(2.5) and ex.figure.data[6].x[0] == pytest.approx(2.5)
    assert ex.figure.data[5].y[0] == pytest.approx(math.log(2), abs=1e-9)
    assert ex.figure.data[6].y[0] == pytest.approx(2.5, abs=2e-3)
    x, q = np.asarray(ex.figure.data[1].x), np.asarray(ex.figure.data[1].y)
    assert x[q > 0].min() == pytest.approx(2.5, abs=0.01) and "infinite" in ex.readout.value


def _fake_run(name_seed, covered_last):
    from acglab.theory.toy_gan import ToyGANConfig, ToyGANRun

    cfg = ToyGANConfig(seed=name_seed)
    rng = np.random.default_rng(name_seed)
    samples = rng.normal(size=(3, 50, 2))
    centers = ring_mode_centers()
    return ToyGANRun(
        config=cfg,
        steps=np.array([0, 10, 20]),
        samples=samples,
        covered=np.array([0, 1, covered_last]),
        shares=np.full((3, 8), 1 / 8),
        d_loss=np.zeros(20),
        g_loss=np.zeros(20),
        centers=centers,
    )


def test_mode_collapse_explorer_updates_in_place():
    from acglab.viz.gan_training_widgets import mode_collapse_explorer

    runs = {"a": _fake_run(0, 1), "b": _fake_run(1, 7)}
    ex = mode_collapse_explorer(runs)
    fig = ex.figure
    assert ex.sliders["snapshot"].value == 1  # starts in the middle of training
    assert np.allclose(fig.data[1].x, runs["a"].samples[1][:, 0])
    ex.sliders["snapshot"].value = 2
    assert np.allclose(fig.data[1].y, runs["a"].samples[2][:, 1])
    assert np.allclose(fig.data[3].x, runs["b"].samples[2][:, 0])
    assert fig.data[7].x[0] == 20 and fig.data[7].y[0] == 7  # marker of run b on the coverage curve
    assert fig.layout.annotations[1].text == "b: 7/8 modes" and "step <b>20</b>" in ex.readout.value
    ex.sliders["snapshot"].value = 0
    assert fig.data[6].x[0] == 0 and fig.layout.annotations[0].text == "a: 0/8 modes"
    assert len(fig.layout.shapes) == 16  # one coverage circle per mode and run
    bad = _fake_run(2, 3)
    bad.steps = np.array([0, 5, 20])
    with pytest.raises(TheoryInputError):
        mode_collapse_explorer({"a": runs["a"], "bad": bad})


# ---------------------------------------------------------------- notebook helpers


def test_quick_mode_setting(monkeypatch):
    from acglab import notebook as nb

    monkeypatch.delenv("ACGLAB_QUICK", raising=False)
    assert nb.quick_mode() is True
    for value, expected in [("1", True), ("true", True), ("0", False), ("OFF", False), (" no ", False)]:
        monkeypatch.setenv("ACGLAB_QUICK", value)
        assert nb.quick_mode() is expected
    monkeypatch.setenv("ACGLAB_QUICK", "maybe")
    with pytest.raises(AcglabError, match="ACGLAB_QUICK"):
        nb.quick_mode()


def test_device_and_seeding(monkeypatch):
    from acglab import notebook as nb

    monkeypatch.setenv("ACGLAB_DEVICE", "cpu")
    assert nb.device().type == "cpu"
    if not torch.cuda.is_available():
        monkeypatch.setenv("ACGLAB_DEVICE", "cuda")
        with pytest.raises(AcglabError):
            nb.device()
    monkeypatch.setenv("ACGLAB_DEVICE", "not-a-device")
    with pytest.raises(AcglabError):
        nb.device()
    g1 = nb.seed_everything(7)
    a = (torch.rand(3), np.random.rand(), g1.random())
    g2 = nb.seed_everything(7)
    b = (torch.rand(3), np.random.rand(), g2.random())
    assert torch.equal(a[0], b[0]) and a[1:] == b[1:]


def test_check_answer(capsys):
    from acglab import notebook as nb

    assert nb.check_answer(None, 1.0) is None
    assert "Not answered" in capsys.readouterr().out
    assert nb.check_answer(-1.386, -LOG4, tol=1e-3) is True
    assert nb.check_answer(-1.3, -LOG4, tol=1e-3, hint="log") is False
    assert "Hint: log" in capsys.readouterr().out
    assert nb.check_answer((0.693, 3.0), (math.log(2), 3.0), tol=1e-2) is True
    assert nb.check_answer((0.693,), (math.log(2), 3.0)) is False
    assert nb.check_answer(True, True) is True and nb.check_answer(False, True) is False
    assert nb.check_answer(math.inf, math.inf) is True and nb.check_answer(float("nan"), 0.0) is False
