"""The latent-model explorers answer their sliders; the clustering runs are cached."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from acglab.viz.latent_widgets import cluster_explorer, contrastive_loss_explorer, image_grid, image_strip

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def fake_run(beta, k):
    rng = np.random.default_rng(int(10 * beta) + k)
    return SimpleNamespace(
        codes=rng.normal(size=(40, 4)) * beta,
        clusters=np.arange(40) % k,
        labels=np.arange(40) % 3,
        acc=0.5,
        nmi=0.25 * k,
        prototypes=np.full((k, 1, 8, 8), 0.5),
        centres=rng.normal(size=(k, 4)),
    )


def test_cluster_explorer_follows_its_sliders():
    calls = []

    def fit(beta, k):
        calls.append((beta, k))
        return fake_run(beta, k)

    explorer = cluster_explorer(fit, [0.5, 1.0], [2, 3], beta=1.0, k=2, baseline={"pixels": {"acc": 0.9, "nmi": 0.8}})
    assert "β = 1, k = 2" in explorer.readout.value and "pixels: accuracy 0.900" in explorer.readout.value
    before = np.array(explorer.figure.data[0].x)
    explorer.sliders["beta"].value = 0.5
    assert not np.allclose(before, np.array(explorer.figure.data[0].x))
    explorer.sliders["k"].value = 3
    assert len(explorer.figure.data[2].x) == 3 and explorer.figure.data[3].z.shape[1] == 3 * 9 - 1
    explorer.sliders["beta"].value = 1.0
    explorer.sliders["k"].value = 2
    assert calls == [(1.0, 2), (0.5, 2), (0.5, 3), (1.0, 3)]  # (1.0, 2) came from the cache


def test_contrastive_explorer_moves_the_fake_branch():
    explorer = contrastive_loss_explorer(margin=1.0)
    d = np.array(explorer.figure.data[1].x)
    np.testing.assert_allclose(explorer.figure.data[1].y, np.clip(1.0 - d, 0, None) ** 2)
    explorer.sliders["margin"].value = 2.0
    np.testing.assert_allclose(explorer.figure.data[1].y, np.clip(2.0 - d, 0, None) ** 2)
    np.testing.assert_allclose(explorer.figure.data[0].y, d**2)


def test_image_strip_and_grid_place_every_image():
    images = np.stack([np.full((1, 4, 4), v) for v in (0.0, 0.5, 1.0)])
    strip = image_strip(images)
    assert strip.shape == (4, 14, 3) and strip[0, 0, 0] == 0 and strip[0, 5, 0] == 127 and strip[0, 10, 0] == 255
    assert strip[0, 4, 0] == 255  # the gap
    assert image_grid(images, 2).shape == (9, 9, 3)


def test_fit_clustering_trains_once_then_reads_the_cache(tmp_path):
    from acglab.data.arrays import digit_array
    from acglab.eval.clustering import clustering_fitter
    from acglab.train.latent import LatentConfig

    data = digit_array().subset(np.arange(200))
    fit = clustering_fitter(data, LatentConfig(model="gmvae", latent_dim=3, epochs=2, pretrain_epochs=1), root=tmp_path)
    first = fit(1.0, 4)
    assert first.clusters.shape == (200,) and first.prototypes.shape == (4, 1, 8, 8) and first.centres.shape == (4, 3)
    stamp = (first.run_dir / "best.pt").stat().st_mtime_ns
    again = fit(1.0, 4)
    assert (again.run_dir / "best.pt").stat().st_mtime_ns == stamp and again.acc == first.acc
    assert fit(2.0, 4).run_dir != first.run_dir
    ae = clustering_fitter(data, LatentConfig(model="ae", latent_dim=3, epochs=1), root=tmp_path)(1.0, 4)
    assert ae.centres.shape == (4, 3) and np.isfinite(ae.prototypes).all()
    torch.testing.assert_close(torch.as_tensor(ae.prototypes[0]), torch.as_tensor(ae.prototypes[0]))
