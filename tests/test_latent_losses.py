"""The ELBO terms of thesis eq. 1.1 against torch.distributions and a Monte-Carlo estimate."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Bernoulli, Categorical, Independent, Normal, kl_divergence

from acglab.losses.latent import bernoulli_nll, categorical_kl_uniform, cluster_kl, gaussian_kl_to, gmvae_loss, vae_loss


@pytest.fixture
def posterior():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 3, generator=g, dtype=torch.float64)
    logvar = torch.randn(5, 3, generator=g, dtype=torch.float64) * 0.5
    centres = torch.randn(4, 3, generator=g, dtype=torch.float64)
    return mu, logvar, centres


def test_gaussian_kl_matches_torch_distributions(posterior):
    mu, logvar, centres = posterior
    ours = gaussian_kl_to(mu, logvar, centres)
    for k in range(len(centres)):
        ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(centres[k].expand_as(mu), 1.0)).sum(1)
        torch.testing.assert_close(ours[:, k], ref)


def test_clustering_term_is_the_expected_log_ratio(posterior):
    """sum_y p(y|z) E_{z ~ p(z|x)} log p(z|x) / q(z|y), by Monte Carlo with 200,000 draws (p(y|z) held fixed)."""
    mu, logvar, centres = posterior
    p_y = torch.softmax(torch.randn(5, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64), 1)
    post = Independent(Normal(mu, (0.5 * logvar).exp()), 1)
    z = post.sample((200_000,))  # (S, 5, 3)
    log_q = torch.stack([Independent(Normal(centres[k], 1.0), 1).log_prob(z) for k in range(4)], -1)
    mc = (p_y * (post.log_prob(z)[..., None] - log_q)).mean(0).sum(1)
    torch.testing.assert_close(cluster_kl(mu, logvar, centres, p_y), mc, rtol=0.02, atol=0.02)


def test_categorical_kl_and_bernoulli_nll():
    p = torch.softmax(torch.randn(6, 5, dtype=torch.float64), 1)
    ref = kl_divergence(Categorical(probs=p), Categorical(probs=torch.full_like(p, 0.2)))
    torch.testing.assert_close(categorical_kl_uniform(p), ref)
    assert categorical_kl_uniform(torch.full((1, 7), 1 / 7, dtype=torch.float64)).item() == pytest.approx(0.0, abs=1e-9)
    assert categorical_kl_uniform(torch.eye(7, dtype=torch.float64)[:1]).item() == pytest.approx(math.log(7), rel=1e-6)
    logits = torch.randn(3, 1, 4, 4, dtype=torch.float64)
    x = (torch.rand(3, 1, 4, 4) > 0.5).double()
    torch.testing.assert_close(bernoulli_nll(logits, x), -Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1))


def test_one_cluster_at_the_origin_is_the_vae(posterior):
    mu, logvar, _ = posterior
    logits = torch.randn(5, 1, 2, 2, dtype=torch.float64)
    x = torch.rand(5, 1, 2, 2, dtype=torch.float64)
    vae, vparts = vae_loss(logits, x, mu, logvar, beta=0.7)
    gm, gparts = gmvae_loss(
        logits, x, mu, logvar, torch.zeros(1, 3, dtype=torch.float64), torch.ones(5, 1, dtype=torch.float64), beta=0.7
    )
    torch.testing.assert_close(vae, gm)
    assert gparts["cat"] == pytest.approx(0.0, abs=1e-9) and gparts["kl"] == pytest.approx(vparts["kl"])


def test_contrastive_reconstruction_loss_by_hand():
    """Eqs. 1.3-1.4 image by image: real (label 1) -> D^2, fake -> max(m - D, 0)^2."""
    from acglab.losses import contrastive_reconstruction_loss

    g = torch.Generator().manual_seed(3)
    x = torch.rand(6, 3, 4, 4, generator=g, dtype=torch.float64)
    recon = x + 0.1 * torch.randn(6, 3, 4, 4, generator=g, dtype=torch.float64) * torch.arange(1, 7).view(6, 1, 1, 1)
    labels = torch.tensor([1, 0, 1, 0, 0, 1])
    expected = 0.0
    for i in range(6):
        d = math.sqrt(float(((recon[i] - x[i]) ** 2).sum()))
        expected += d * d if labels[i] == 1 else max(2.0 - d, 0.0) ** 2
    assert float(contrastive_reconstruction_loss(recon, x, labels, margin=2.0)) == pytest.approx(expected / 6)
