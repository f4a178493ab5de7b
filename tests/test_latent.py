"""Latent models, their training entry point, clustering scores and the `acglab latent` commands."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from acglab.cli import main
from acglab.data.arrays import ImageArray, digit_array
from acglab.errors import AcglabError, CheckpointError
from acglab.metrics.clustering import cluster_accuracy, normalized_mutual_info
from acglab.models.latent import build_latent_model
from acglab.models.latent.nets import halvings
from acglab.train.latent import LatentConfig, encode_all, latent_model_from_checkpoint, train_latent

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits() -> ImageArray:
    """300 of scikit-learn's digits (every class)."""
    return digit_array().subset(np.arange(300))


def test_networks_fit_every_side():
    assert halvings(8) == [8, 4] and halvings(64) == [64, 32, 16, 8, 4] and halvings(96)[-1] == 6
    for side, channels in ((8, 1), (64, 3), (96, 3)):
        for name in ("ae", "vae", "gmvae"):
            model = build_latent_model({"model": name, "channels": channels, "img_size": side, "latent_dim": 5, "k": 3})
            x = torch.rand(2, channels, side, side)
            assert model.encode(x).shape == (2, 5) and model.reconstruct(x).shape == x.shape
            with torch.no_grad():
                images = model.decode(torch.randn(2, 5))
            assert 0 <= float(images.min()) and float(images.max()) <= 1
            model.train()
            with torch.no_grad():
                expected = model.eval().reconstruct(x).numpy()
            model.train()
            assert np.allclose(model.reconstruct_images(x.numpy()), expected) and model.training
            loss, parts = model.loss(x)
            assert loss.ndim == 0 and parts["total"] == pytest.approx(float(loss.detach()))
    with pytest.raises(AcglabError, match="unknown latent model"):
        build_latent_model({"model": "gan"})
    with pytest.raises(AcglabError, match="at least 2 clusters"):
        build_latent_model({"model": "gmvae", "channels": 1, "img_size": 8, "k": 1})


def test_cluster_accuracy_is_the_best_matching_by_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(20):
        labels, clusters = rng.integers(0, 4, 30), rng.integers(0, 4, 30)
        best = max(
            np.mean([perm[c] == y for c, y in zip(clusters, labels)]) for perm in itertools.permutations(range(4))
        )
        assert cluster_accuracy(labels, clusters) == pytest.approx(best)
    assert cluster_accuracy([0, 0, 1, 1], [5, 5, 7, 7]) == 1.0
    assert cluster_accuracy([0, 0, 0, 0], [0, 1, 2, 3]) == 0.25  # extra clusters count as wrong
    assert normalized_mutual_info([0, 0, 1, 1], [1, 1, 0, 0]) == pytest.approx(1.0)


def test_training_resumes_exactly_and_the_clustering_vae_starts_from_kmeans(tmp_path, digits):
    config = LatentConfig(
        model="gmvae", latent_dim=4, k=5, epochs=3, pretrain_epochs=1, batch_size=32, checkpoint_every=4
    )
    whole = train_latent(config, digits, tmp_path / "whole", progress=False)
    train_latent(config, digits, tmp_path / "cut", progress=False, max_steps=11)  # stops inside epoch 2
    cut = train_latent(config, digits, tmp_path / "cut", progress=False, resume=True)
    a, b = (torch.load(tmp_path / d / "last.pt", weights_only=True) for d in ("whole", "cut"))
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in whole["history"]]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in cut["history"]]
    assert [r["phase"] for r in whole["history"]] == ["pretrain", "train", "train"]
    assert whole["best"]["epoch"] in (2, 3)  # best.pt is never a pre-training epoch
    with pytest.raises(AcglabError, match="already holds a training run"):
        train_latent(config, digits, tmp_path / "whole", progress=False)

    # after pre-training, the centres are the k-means centres of the training codes
    from sklearn.cluster import KMeans

    from acglab.train.latent import holdout

    one = train_latent(
        LatentConfig(model="gmvae", latent_dim=4, k=5, epochs=2, pretrain_epochs=1, batch_size=32),
        digits,
        tmp_path / "one",
        progress=False,
        max_steps=9,
    )  # 270 training images: epoch 1 = 9 steps
    assert one["history"][0]["phase"] == "pretrain"
    model = latent_model_from_checkpoint(tmp_path / "one" / "last.pt")
    train_idx, _ = holdout(len(digits), 0.1, 0)
    codes = encode_all(model, digits, train_idx).double().numpy()
    km = KMeans(5, n_init=10, random_state=0).fit(codes)
    np.testing.assert_allclose(
        np.sort(model.centres.detach().double().numpy(), 0), np.sort(km.cluster_centers_, 0), rtol=1e-4, atol=1e-4
    )


def test_cli_trains_and_scores_clusters(tmp_path, capsys):
    run = tmp_path / "gm"
    assert (
        main(
            ["latent", "train", "--model", "gmvae", "--data", "digits", "--out", str(run), "--epochs", "3", "--k", "10"]
        )
        == 0
    )
    out = tmp_path / "clusters.json"
    assert (
        main(["latent", "cluster", "--checkpoint", str(run / "best.pt"), "--data", "digits", "--json", str(out)]) == 0
    )
    report = json.loads(out.read_text())
    assert {"acc", "nmi", "k", "n", "kmeans_pixels", "kmeans_ae"} <= set(report)
    assert report["n"] == 1797 and report["k"] == 10 and set(report["kmeans_ae"]) == {"acc", "nmi"}
    assert 0.6 < report["kmeans_pixels"]["acc"] < 0.9  # k-means on pixels of the digits: about 0.79
    assert report["acc"] > 0.3 and sum(report["cluster_sizes"]) == 1797
    assert (
        main(["latent", "cluster", "--checkpoint", str(run / "best.pt"), "--data", "digits", "--labels", "colour"]) != 0
    )
    assert "no labelling 'colour'" in capsys.readouterr().err


def test_a_detector_checkpoint_is_not_a_latent_model(tmp_path):
    from acglab.models import build_model, save_checkpoint

    path = save_checkpoint(tmp_path / "det.pt", build_model("backbone", "test_efficientnet", False, 32))
    with pytest.raises(CheckpointError, match="holds a detector"):
        latent_model_from_checkpoint(path)
