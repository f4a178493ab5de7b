"""Latent models of face crops and digits for the course's latent-space half (notebooks 01, 04):
a plain autoencoder, a VAE and the clustering VAE of thesis eq. 1.1
(:mod:`acglab.models.latent.models`), on the convolutional networks of
:mod:`acglab.models.latent.nets`. Trained by :func:`acglab.train.latent.train_latent`."""

from acglab.models.latent.models import KIND, LATENT_MODELS, VAE, Autoencoder, ClusteringVAE, build_latent_model

__all__ = ["KIND", "LATENT_MODELS", "VAE", "Autoencoder", "ClusteringVAE", "build_latent_model"]
