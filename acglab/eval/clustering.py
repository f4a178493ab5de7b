"""How well a latent model's clusters match known labels, beside two k-means baselines.

:func:`cluster_report` scores, on one image set and one labelling (digit class; real/fake or
identity for faces):

- the model's clusters: the clustering VAE's :math:`\\arg\\max_y p(y|z)`, or k-means (``k``
  clusters) on the codes of an autoencoder or VAE;
- ``kmeans_pixels``: k-means on the raw pixels;
- ``kmeans_ae``: k-means on the codes of a plain autoencoder with the model's code size,
  trained in the same call for the same epochs (or the model itself when it is one);

each as accuracy under the best one-to-one matching of clusters to labels and NMI
(:mod:`acglab.metrics.clustering`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from acglab.data.arrays import ImageArray
from acglab.errors import AcglabError
from acglab.metrics.clustering import cluster_accuracy, normalized_mutual_info


def kmeans_labels(x: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """k-means (scikit-learn, 10 restarts) cluster of each row of ``x``."""
    from sklearn.cluster import KMeans

    return KMeans(k, n_init=10, random_state=seed).fit_predict(np.asarray(x, dtype=np.float64))


def scores(labels: np.ndarray, clusters: np.ndarray) -> dict[str, float]:
    return {"acc": cluster_accuracy(labels, clusters), "nmi": normalized_mutual_info(labels, clusters)}


def model_clusters(model, data: ImageArray, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, clusters)`` of every image: the clustering VAE's own clusters, k-means otherwise."""
    import torch

    from acglab.train.latent import encode_all

    codes = encode_all(model, data)
    if hasattr(model, "cluster_probs"):
        with torch.no_grad():
            clusters = model.cluster_probs(codes).argmax(1).numpy()
    else:
        clusters = kmeans_labels(codes.numpy(), k, seed)
    return codes.numpy(), clusters


def cluster_report(
    model,
    data: ImageArray,
    labelling: str | None = None,
    k: int | None = None,
    ae=None,
    seed: int = 0,
    progress: bool = False,
    train_config=None,
) -> dict:
    """The scores of ``model`` (a latent model) and of the two baselines on ``data`` (module notes).

    labelling : which of ``data.labels`` to score against (default: the first)
    k : clusters for k-means (default: the clustering VAE's ``k``, else the number of labels)
    ae : a trained plain autoencoder for ``kmeans_ae``; ``None`` trains one like ``train_config``
        (a :class:`~acglab.train.latent.LatentConfig`, its model set to ``"ae"``) unless
        ``model`` is an autoencoder itself
    """
    import dataclasses

    labelling = labelling or next(iter(data.labels))
    if labelling not in data.labels:
        raise AcglabError(f"no labelling {labelling!r} for these images; they have {', '.join(data.labels)}")
    y = data.labels[labelling]
    n_labels = len(np.unique(y))
    if n_labels < 2:
        raise AcglabError(f"the images carry only one {labelling!r} label; clustering accuracy needs two or more")
    k = int(k or getattr(model, "k", None) or n_labels)
    _, clusters = model_clusters(model, data, k, seed)
    pixels = data.images.reshape(len(data), -1).astype(np.float64) / 255.0
    report = {
        "model": model.config.get("model"),
        "labelling": labelling,
        "k": k,
        "n": len(data),
        "labels": n_labels,
        **scores(y, clusters),
        "cluster_sizes": np.bincount(clusters, minlength=k).tolist(),
        "kmeans_pixels": scores(y, kmeans_labels(pixels, k, seed)),
    }
    if ae is None and model.config.get("model") == "ae":
        ae = model
    if ae is None:
        from acglab.train.latent import LatentConfig, latent_model_from_checkpoint, train_latent

        base = train_config or LatentConfig(latent_dim=model.latent_dim)
        config = dataclasses.replace(base, model="ae", pretrain_epochs=None)
        with tempfile.TemporaryDirectory(prefix="acglab-ae-") as tmp:
            train_latent(config, data, tmp, progress=progress)
            ae = latent_model_from_checkpoint(f"{tmp}/best.pt")
    ae_codes, _ = model_clusters(ae, data, k, seed)
    report["kmeans_ae"] = scores(y, kmeans_labels(ae_codes, k, seed))
    return report


@dataclass
class ClusteringRun:
    """A trained latent model on an image set, its codes and its clusters (for the notebooks)."""

    model: object
    config: object
    codes: np.ndarray
    clusters: np.ndarray
    labels: np.ndarray
    acc: float
    nmi: float
    run_dir: Path
    prototypes: np.ndarray | None = None
    centres: np.ndarray | None = None


def fit_clustering(
    data: ImageArray, config, labelling: str | None = None, root=None, progress: bool = False
) -> ClusteringRun:
    """Train the latent model ``config`` (a :class:`~acglab.train.latent.LatentConfig`) on
    ``data``, or load it when the same run is already in ``root`` (default: the acglab cache),
    and cluster every image (:func:`model_clusters`; k-means with ``config.k`` for the AE/VAE)."""
    from acglab.train.latent import cached_latent_model

    labelling = labelling or next(iter(data.labels))
    model, run_dir = cached_latent_model(config, data, root, progress)
    codes, clusters = model_clusters(model, data, config.k, config.seed)
    y = data.labels[labelling]
    s = scores(y, clusters)
    return ClusteringRun(
        model,
        config,
        codes,
        clusters,
        y,
        s["acc"],
        s["nmi"],
        run_dir,
        *cluster_prototypes(model, data, clusters, config.k),
    )


def cluster_prototypes(model, data: ImageArray, clusters: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray | None]:
    r"""``(images, centres)``: one image per cluster, (k, C, S, S) in [0, 1], and the centres'
    codes. The clustering VAE decodes its centres :math:`\mu_y`; otherwise each cluster's mean
    code is decoded (an empty cluster gives a grey image)."""
    import torch

    from acglab.train.latent import encode_all

    if hasattr(model, "centres"):
        centres = model.centres.detach().cpu()
    else:
        codes = encode_all(model, data)
        centres = torch.stack(
            [
                codes[torch.from_numpy(clusters == c)].mean(0)
                if (clusters == c).any()
                else torch.full((codes.shape[1],), float("nan"))
                for c in range(k)
            ]
        )
    with torch.no_grad():
        images = model.decode(torch.nan_to_num(centres)).numpy()
    images[torch.isnan(centres).any(1).numpy()] = 0.5
    return images, centres.numpy()


def clustering_fitter(data: ImageArray, config, labelling: str | None = None, root=None, progress: bool = False):
    """``fit(beta, k)`` -> :func:`fit_clustering` of ``config`` with its KL weight and number of
    clusters replaced: the callable :func:`acglab.viz.latent_widgets.cluster_explorer` takes."""
    import dataclasses

    def fit(beta: float, k: int) -> ClusteringRun:
        return fit_clustering(data, dataclasses.replace(config, beta=float(beta), k=int(k)), labelling, root, progress)

    return fit
