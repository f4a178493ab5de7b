"""Latent models of images: a plain autoencoder, a VAE and the clustering VAE of thesis eq. 1.1.

All three map (B, C, S, S) images in [0, 1] to codes of ``latent_dim`` numbers and back, with the
networks of :mod:`acglab.models.latent.nets`, and share one interface, which the training loop
(:mod:`acglab.train.latent`), the clustering evaluation and the notebooks use:

- ``encode(x)``: the code of each image (the encoder's mean for the VAEs);
- ``decode(z)``: images in [0, 1];
- ``loss(x, beta)``: ``(total, parts)`` for one batch (:mod:`acglab.losses.latent`);
- ``config``: the JSON-able settings :func:`build_latent_model` rebuilds the model from.

:class:`ClusteringVAE` adds ``cluster_probs(z)`` (:math:`p(y|z)`, the mixture's posterior) and
``centres`` (:math:`\\mu_y`, the means of the clusters' Gaussians :math:`q(z|y) = \\mathcal N(\\mu_y, I)`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from acglab.errors import ModelConfigError
from acglab.losses.latent import bernoulli_nll, gmvae_loss, vae_loss
from acglab.models.latent.nets import ConvDecoder, ConvEncoder

#: the latent models by name
LATENT_MODELS = ("ae", "vae", "gmvae")
#: the checkpoint config's marker of a latent model (detector configs have none)
KIND = "latent"


class _LatentBase(nn.Module):
    def __init__(self, name: str, channels: int, img_size: int, latent_dim: int, base: int, k: int | None = None):
        super().__init__()
        if latent_dim < 1:
            raise ModelConfigError(f"latent_dim must be at least 1, got {latent_dim}")
        self.config = {
            "kind": KIND,
            "model": name,
            "channels": channels,
            "img_size": img_size,
            "latent_dim": latent_dim,
            "base": base,
            "k": k,
        }
        self.latent_dim = latent_dim
        self.decoder = ConvDecoder(channels, img_size, latent_dim, base)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] of the codes ``z`` (B, latent_dim)."""
        return torch.sigmoid(self.decoder(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def _as_array(self, fn, values) -> np.ndarray:
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                return fn(torch.as_tensor(np.asarray(values), dtype=torch.float32)).numpy()
        finally:
            self.train(was)

    def reconstruct_images(self, images) -> np.ndarray:
        """Reconstructions of images given as an array (B, C, S, S) in [0, 1], as an array,
        in eval mode and without gradients (the VAEs decode their posterior means)."""
        return self._as_array(self.reconstruct, images)

    def decode_codes(self, codes) -> np.ndarray:
        """Images in [0, 1] (N, C, S, S) of codes given as an array (N, d) or one code (d,), in
        eval mode and without gradients."""
        return self._as_array(self.decode, np.atleast_2d(np.asarray(codes)))


def reconstruction_loss(model, x) -> tuple[torch.Tensor, dict[str, float]]:
    """The Bernoulli reconstruction loss of the codes ``model.encode(x)``, mean over the batch:
    the autoencoder's loss, and the clustering VAE's pre-training (VaDE's initialisation)."""
    rec = bernoulli_nll(model.decoder(model.encode(x)), x).mean()
    return rec, {"total": float(rec.detach()), "rec": float(rec.detach())}


class Autoencoder(_LatentBase):
    """A deterministic autoencoder trained with the Bernoulli reconstruction loss alone."""

    def __init__(self, channels: int = 3, img_size: int = 64, latent_dim: int = 32, base: int = 32):
        super().__init__("ae", channels, img_size, latent_dim, base)
        self.encoder = ConvEncoder(channels, img_size, latent_dim, base)

    def encode(self, x):
        return self.encoder(x)

    def loss(self, x, beta: float = 1.0):
        return reconstruction_loss(self, x)


class VAE(_LatentBase):
    """A VAE with a diagonal Gaussian encoder and a standard normal prior (the ELBO of
    :func:`acglab.losses.latent.vae_loss`)."""

    def __init__(
        self,
        channels: int = 3,
        img_size: int = 64,
        latent_dim: int = 32,
        base: int = 32,
        name: str = "vae",
        k: int | None = None,
    ):
        super().__init__(name, channels, img_size, latent_dim, base, k)
        self.encoder = ConvEncoder(channels, img_size, 2 * latent_dim, base)

    def posterior(self, x):
        """``(mu, logvar)`` of :math:`p(z|x)`, each (B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def encode(self, x):
        return self.posterior(x)[0]

    @staticmethod
    def sample(mu, logvar):
        """:math:`z = \\mu + \\sigma \\varepsilon`, the reparametrised sample of :math:`p(z|x)`."""
        return mu + (0.5 * logvar).exp() * torch.randn_like(mu)

    def loss(self, x, beta: float = 1.0):
        mu, logvar = self.posterior(x)
        return vae_loss(self.decoder(self.sample(mu, logvar)), x, mu, logvar, beta)

    @torch.no_grad()
    def generate(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images decoded from prior samples."""
        z = torch.randn(n, self.latent_dim, generator=generator)
        return self.decode(z.to(next(self.parameters()).device))


class ClusteringVAE(VAE):
    r"""The clustering VAE of thesis eq. 1.1 (appendix A.1): a VAE whose prior is a mixture of
    ``k`` unit Gaussians :math:`q(z|y) = \mathcal N(\mu_y, I)` with :math:`q(y) = 1/k`.

    The classifier :math:`p(y|z)` of eq. A.4 is the Bayes classifier of that mixture,
    :math:`p(y|z) = \operatorname{softmax}_y(-\|z - \mu_y\|^2 / 2)`, as in VaDE (the
    published form): it has no weights of its own, so a cluster is a region of the latent space
    around its centre. (A separate classifier network, trained by the same loss, put every digit
    into one cluster in our runs.) The cluster of an image is :math:`\arg\max_y p(y|\mu(x))`."""

    def __init__(self, channels: int = 3, img_size: int = 64, latent_dim: int = 32, base: int = 32, k: int = 10):
        if k < 2:
            raise ModelConfigError(f"the clustering VAE needs at least 2 clusters, got k={k}")
        super().__init__(channels, img_size, latent_dim, base, name="gmvae", k=k)
        self.k = k
        self.centres = nn.Parameter(torch.randn(k, latent_dim))

    def cluster_probs(self, z):
        """:math:`p(y|z)`, (B, k)."""
        return torch.softmax(-0.5 * torch.cdist(z, self.centres).pow(2), dim=1)

    @torch.no_grad()
    def init_centres(self, codes: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """Set the centres to the k-means centres of ``codes`` (N, latent_dim) (VaDE's
        initialisation after pre-training); returns the k-means labels."""
        from sklearn.cluster import KMeans

        km = KMeans(self.k, n_init=10, random_state=seed).fit(codes.detach().cpu().double().numpy())
        self.centres.copy_(torch.from_numpy(km.cluster_centers_).to(self.centres))
        return torch.from_numpy(km.labels_).long()

    def clusters(self, x) -> torch.Tensor:
        """The cluster of each image, (B,) int64."""
        return self.cluster_probs(self.encode(x)).argmax(1)

    def loss(self, x, beta: float = 1.0, gamma: float = 1.0):
        mu, logvar = self.posterior(x)
        z = self.sample(mu, logvar)
        return gmvae_loss(self.decoder(z), x, mu, logvar, self.centres, self.cluster_probs(z), beta, gamma)

    @torch.no_grad()
    def generate(self, n: int, generator: torch.Generator | None = None, cluster: int | None = None) -> torch.Tensor:
        """``n`` images of the prior: a cluster drawn uniformly (or ``cluster``), then its Gaussian."""
        y = (
            torch.randint(self.k, (n,), generator=generator)
            if cluster is None
            else torch.full((n,), int(cluster), dtype=torch.long)
        )
        z = self.centres.detach().cpu()[y] + torch.randn(n, self.latent_dim, generator=generator)
        return self.decode(z.to(self.centres.device))


def build_latent_model(config: dict) -> _LatentBase:
    """The untrained model a latent ``config`` describes (``model``: ``ae``, ``vae`` or ``gmvae``)."""
    name = config.get("model")
    if name not in LATENT_MODELS:
        raise ModelConfigError(f"unknown latent model {name!r}; choose one of {', '.join(LATENT_MODELS)}")
    kw = {k: config[k] for k in ("channels", "img_size", "latent_dim", "base") if config.get(k) is not None}
    if name == "gmvae":
        return ClusteringVAE(k=int(config.get("k") or 10), **kw)
    return Autoencoder(**kw) if name == "ae" else VAE(**kw)
