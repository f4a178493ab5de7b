r"""A small GAN on the ring of Gaussians (:mod:`acglab.theory.ring`), to watch mode collapse
happen and to watch a Wasserstein critic avoid it.

A generator ``G: R^latent -> R^2`` and a discriminator ``D: R^2 -> R`` (small ReLU MLPs) play
one of two games:

* ``loss="gan"`` -- the article's game: the discriminator maximises
  :math:`V(D,G) = \mathbb E\log D(x) + \mathbb E\log(1-D(G(z)))` (it minimises its binary
  cross-entropy), the generator minimises the non-saturating loss
  :math:`-\mathbb E\log D(G(z))`.
* ``loss="wgan-gp"`` -- the WGAN game of thesis eqs. B.7–B.9: a critic :math:`\varphi`
  maximises :math:`\mathbb E\,\varphi(x) - \mathbb E\,\varphi(G(z))` (sign convention "high =
  data") minus ``gp_weight`` times a gradient penalty that keeps it roughly 1-Lipschitz, so that
  the maximum estimates :math:`W_1`; the generator minimises :math:`-\mathbb E\,\varphi(G(z))`.

Each training round updates the discriminator ``critic_steps`` times (the article's ``k``) and
the generator once. Snapshots of generated samples for one fixed batch of noise are kept,
together with the modes they cover.

Why collapse happens: for a *fixed* discriminator the generator's best response puts all of its
mass where :math:`D` is largest -- a single point. When the generator learns much faster than
the discriminator (preset ``"collapse"``) it keeps jumping to the discriminator's current
favourite mode and never spreads out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from acglab.theory.densities import TheoryInputError
from acglab.theory.ring import mode_counts, mode_shares, ring_mode_centers, sample_ring

LOSSES = ("gan", "wgan-gp")


@dataclass(frozen=True)
class ToyGANConfig:
    """Everything that defines a toy-GAN run (plain values; the seed makes it reproducible).

    ``critic_steps`` is the article's ``k`` (discriminator updates per generator update);
    ``std`` is the width of each ring mode; a mode is covered when ``min_count`` of the
    ``n_eval`` snapshot samples lie within ``coverage_std * std`` of its centre.
    """

    loss: str = "gan"
    steps: int = 1000
    batch_size: int = 128
    latent_dim: int = 2
    hidden: int = 64
    depth: int = 3
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5
    critic_steps: int = 1
    gp_weight: float = 0.1
    n_modes: int = 8
    radius: float = 2.0
    std: float = 0.05
    snapshot_every: int = 50
    n_eval: int = 1000
    coverage_std: float = 3.0
    min_count: int = 10
    seed: int = 0


#: Two configurations that differ in how the discriminator keeps up with the generator.
#: "collapse": vanilla GAN whose generator learns ten times faster than its discriminator;
#: "wgan-gp": Wasserstein critic with gradient penalty, three critic steps per generator step.
PRESETS: dict[str, ToyGANConfig] = {
    "collapse": ToyGANConfig(loss="gan", lr_g=2e-3, lr_d=2e-4, critic_steps=1),
    "wgan-gp": ToyGANConfig(loss="wgan-gp", lr_g=1e-3, lr_d=1e-3, critic_steps=3, gp_weight=0.1),
}

QUICK_STEPS = 1000
FULL_STEPS = 5000


def toy_gan_preset(name: str, quick: bool = True, **overrides) -> ToyGANConfig:
    """The preset ``name`` (see :data:`PRESETS`), trained for 1000 generator steps in quick mode
    and 5000 otherwise; keyword ``overrides`` replace any other field."""
    if name not in PRESETS:
        raise TheoryInputError(f"unknown toy-GAN preset {name!r}; choose one of {sorted(PRESETS)}")
    steps = QUICK_STEPS if quick else FULL_STEPS
    base = replace(PRESETS[name], steps=steps, snapshot_every=steps // 20)
    try:
        return replace(base, **overrides)
    except TypeError as err:
        raise TheoryInputError(f"bad toy-GAN override: {err}") from None


@dataclass
class ToyGANRun:
    """What a run leaves behind.

    steps: shape ``(S,)`` generator steps at each snapshot (0 = before training);
    samples: shape ``(S, n_eval, 2)`` generated points for one fixed noise batch;
    covered: shape ``(S,)`` modes covered at each snapshot; shares: shape ``(S, K)`` fraction of
    samples nearest each mode; d_loss, g_loss: shape ``(steps,)`` training losses;
    centers: shape ``(K, 2)``; seconds: wall time of the training.
    """

    config: ToyGANConfig
    steps: np.ndarray
    samples: np.ndarray
    covered: np.ndarray
    shares: np.ndarray
    d_loss: np.ndarray
    g_loss: np.ndarray
    centers: np.ndarray
    seconds: float = 0.0


def _mlp(n_in: int, n_out: int, hidden: int, depth: int) -> nn.Sequential:
    """``depth`` hidden ReLU layers of width ``hidden``, then a linear output layer."""
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""WGAN-GP penalty :math:`\mathbb E_{\hat x}(\|\nabla\varphi(\hat x)\| - 1)^2` at random points
    :math:`\hat x = t\,x + (1-t)\,G(z)` between real and generated samples (shapes ``(n, d)``)."""
    t = torch.rand(real.shape[0], 1, generator=generator)
    x_hat = (t * real + (1 - t) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1.0) ** 2).mean()


def _check(config: ToyGANConfig) -> None:
    if config.loss not in LOSSES:
        raise TheoryInputError(f"loss must be one of {LOSSES}, got {config.loss!r}")
    if (
        config.steps < 0
        or config.snapshot_every < 1
        or config.critic_steps < 1
        or config.batch_size < 2
        or config.hidden < 1
        or config.depth < 0
        or config.latent_dim < 1
        or config.n_eval < 1
    ):
        raise TheoryInputError(
            "need steps >= 0, snapshot_every >= 1, critic_steps >= 1, batch_size >= 2, "
            "hidden >= 1, depth >= 0, latent_dim >= 1 and n_eval >= 1"
        )
    if not (config.lr_g > 0 and config.lr_d > 0):
        raise TheoryInputError(f"learning rates must be > 0, got lr_g={config.lr_g}, lr_d={config.lr_d}")


def train_toy_gan(config: ToyGANConfig = ToyGANConfig(), progress: bool = False) -> ToyGANRun:
    """Train a generator/discriminator pair on the ring and keep snapshots (see the module
    docstring for the two games).

    Runs on CPU with one thread (these networks are too small to gain from more or from a GPU),
    so a seed gives the same run every time; the caller's global torch RNG and thread count are
    left untouched. ``progress`` shows a tqdm bar.
    """
    _check(config)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            run = _train(config, progress)
    finally:
        torch.set_num_threads(threads)
    run.seconds = time.perf_counter() - t0
    return run


def _critic_step(cfg: ToyGANConfig, G: nn.Module, D: nn.Module, opt_d, rng, gen) -> torch.Tensor:
    """One update of the discriminator (critic) on a fresh real and fake batch; returns its loss:
    the GAN's binary cross-entropy, or the WGAN critic loss with the gradient penalty."""
    real = torch.as_tensor(sample_ring(cfg.batch_size, cfg.n_modes, cfg.radius, cfg.std, rng)[0], dtype=torch.float32)
    with torch.no_grad():
        fake = G(torch.randn(cfg.batch_size, cfg.latent_dim, generator=gen))
    if cfg.loss == "gan":
        bce = nn.BCEWithLogitsLoss()
        d_loss = bce(D(real), torch.ones(cfg.batch_size, 1)) + bce(D(fake), torch.zeros(cfg.batch_size, 1))
    else:
        d_loss = D(fake).mean() - D(real).mean() + cfg.gp_weight * gradient_penalty(D, real, fake, gen)
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    return d_loss


def _train(cfg: ToyGANConfig, progress: bool) -> ToyGANRun:
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    centers = ring_mode_centers(cfg.n_modes, cfg.radius)
    G = _mlp(cfg.latent_dim, 2, cfg.hidden, cfg.depth)
    D = _mlp(2, 1, cfg.hidden, cfg.depth)
    betas = (cfg.beta1, 0.999) if cfg.loss == "gan" else (cfg.beta1, 0.9)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=betas)
    bce = nn.BCEWithLogitsLoss()
    z_eval = torch.randn(cfg.n_eval, cfg.latent_dim, generator=gen)
    ones = torch.ones(cfg.batch_size, 1)

    steps, samples, counts, shares = [], [], [], []
    d_hist = np.zeros(cfg.steps)
    g_hist = np.zeros(cfg.steps)

    def snapshot(step: int) -> None:
        with torch.no_grad():
            pts = G(z_eval).numpy().astype(float)
        steps.append(step)
        samples.append(pts)
        counts.append(mode_counts(pts, centers, cfg.std, cfg.coverage_std))
        shares.append(mode_shares(pts, centers))

    snapshot(0)
    for step in tqdm(range(1, cfg.steps + 1), disable=not progress, desc=f"toy GAN ({cfg.loss})"):
        for _ in range(cfg.critic_steps):
            d_loss = _critic_step(cfg, G, D, opt_d, rng, gen)
        fake_logits = D(G(torch.randn(cfg.batch_size, cfg.latent_dim, generator=gen)))
        g_loss = bce(fake_logits, ones) if cfg.loss == "gan" else -fake_logits.mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        d_hist[step - 1] = float(d_loss.detach())
        g_hist[step - 1] = float(g_loss.detach())
        if step % cfg.snapshot_every == 0 or step == cfg.steps:
            snapshot(step)

    counts_arr = np.asarray(counts)
    return ToyGANRun(
        config=cfg,
        steps=np.asarray(steps),
        samples=np.asarray(samples),
        covered=(counts_arr >= cfg.min_count).sum(axis=1),
        shares=np.asarray(shares),
        d_loss=d_hist,
        g_loss=g_hist,
        centers=centers,
    )
