r"""Losses of the latent models (:mod:`acglab.models.latent`): the VAE's ELBO and the clustering
VAE of thesis eq. 1.1 (appendix A.1).

Notation of the thesis: :math:`p(z|x)` is the encoder, a diagonal Gaussian
:math:`\mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))`; :math:`q(x|z)` the decoder;
:math:`p(y|z)` a classifier of the code into :math:`K` clusters; :math:`q(z|y) = \mathcal N(\mu_y, I)`
the cluster's own Gaussian; :math:`q(y) = 1/K`. Per image, with one sample :math:`z \sim p(z|x)`,
eq. 1.1 is the sum of three terms:

1. reconstruction :math:`-\log q(x|z)`: with a Bernoulli decoder the binary cross-entropy of the
   pixels (:func:`bernoulli_nll`), summed over pixels;
2. clustering :math:`\sum_y p(y|z) \log \frac{p(z|x)}{q(z|y)}`: for each cluster the expectation
   over :math:`p(z|x)` of the log ratio is the Gaussian KL divergence in closed form,
   :math:`KL(\mathcal N(\mu, \sigma^2) \| \mathcal N(\mu_y, I)) = \frac12 \sum_j (\sigma_j^2 + (\mu_j - \mu_{y,j})^2 - 1 - \log\sigma_j^2)`
   (:func:`gaussian_kl_to`), weighted by :math:`p(y|z)` (:func:`cluster_kl`);
3. :math:`KL(p(y|z) \| q(y)) = \sum_y p(y|z) \log p(y|z) + \log K` (:func:`categorical_kl_uniform`).

With :math:`K = 1`, :math:`\mu_1 = 0`, term 2 is the plain VAE's :math:`KL(p(z|x) \| \mathcal N(0, I))`
and term 3 vanishes: the ELBO of :func:`vae_loss`. A weight :math:`\beta` on the KL terms
(beta-VAE) trades reconstruction against how tightly the codes gather around the prior's modes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """:math:`-\\log q(x|z)` per image for a Bernoulli decoder with pixel ``logits``; ``x`` in [0, 1]
    (grey levels read as probabilities). Summed over pixels: shape (B,)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def gaussian_kl_to(mu: torch.Tensor, logvar: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """:math:`KL(\\mathcal N(\\mu, \\sigma^2) \\| \\mathcal N(c_k, I))` for every image and centre.

    ``mu``, ``logvar``: (B, d); ``centres``: (K, d). Returns (B, K) (thesis eq. 1.1, second term,
    per cluster)."""
    var = logvar.exp()
    sq = (mu[:, None, :] - centres[None, :, :]).pow(2)
    return 0.5 * (var[:, None, :] + sq - 1.0 - logvar[:, None, :]).sum(-1)


def cluster_kl(mu: torch.Tensor, logvar: torch.Tensor, centres: torch.Tensor, p_y: torch.Tensor) -> torch.Tensor:
    """:math:`\\sum_y p(y|z)\\, KL(p(z|x) \\| q(z|y))`, the clustering term of thesis eq. 1.1, per image (B,)."""
    return (p_y * gaussian_kl_to(mu, logvar, centres)).sum(1)


def categorical_kl_uniform(p_y: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """:math:`KL(p(y|z) \\| q(y))` with :math:`q(y) = 1/K`, the third term of thesis eq. 1.1, per image (B,)."""
    k = p_y.shape[1]
    return (p_y * (p_y + eps).log()).sum(1) + math.log(k)


def vae_loss(recon_logits, x, mu, logvar, beta: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """The negative ELBO, :math:`-\\log q(x|z) + \\beta\\, KL(p(z|x) \\| \\mathcal N(0, I))`, mean over the batch."""
    rec = bernoulli_nll(recon_logits, x)
    kl = gaussian_kl_to(mu, logvar, mu.new_zeros(1, mu.shape[1]))[:, 0]
    total = (rec + beta * kl).mean()
    return total, {"total": float(total.detach()), "rec": float(rec.mean().detach()), "kl": float(kl.mean().detach())}


def gmvae_loss(
    recon_logits, x, mu, logvar, centres, p_y, beta: float = 1.0, gamma: float = 1.0
) -> tuple[torch.Tensor, dict[str, float]]:
    """Thesis eq. 1.1, mean over the batch: reconstruction + ``beta`` x clustering + ``gamma`` x
    :math:`KL(p(y|z) \\| q(y))` (``beta = gamma = 1`` is eq. 1.1 itself)."""
    rec = bernoulli_nll(recon_logits, x)
    clus = cluster_kl(mu, logvar, centres, p_y)
    cat = categorical_kl_uniform(p_y)
    total = (rec + beta * clus + gamma * cat).mean()
    return total, {
        "total": float(total.detach()),
        "rec": float(rec.mean().detach()),
        "kl": float(clus.mean().detach()),
        "cat": float(cat.mean().detach()),
    }
