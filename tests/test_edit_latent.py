"""Latent-space edits (acglab.edit.latent) against closed forms and brute force."""

from __future__ import annotations

import numpy as np
import pytest

from acglab.edit.latent import (
    LatentEditError,
    class_direction,
    decode,
    ica_directions,
    move_along,
    pca_directions,
    project_out,
    spread_along,
    swap_factors,
    synthesize_codes,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_pca_directions_are_the_eigenvectors_of_the_covariance():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(500, 5)) @ np.diag([3.0, 2.0, 1.0, 0.5, 0.1]) @ np.linalg.qr(rng.normal(size=(5, 5)))[0]
    d = pca_directions(z, 3)
    values, vectors = np.linalg.eigh(np.cov(z.T, bias=True))
    for i in range(3):
        assert abs(abs(d.vectors[i] @ vectors[:, -1 - i]) - 1) < 1e-8
    assert np.allclose(d.scores, values[::-1][:3] / values.sum())
    assert np.allclose(np.linalg.norm(d.vectors, axis=1), 1) and d.names[0] == "PC1"


def test_ica_recovers_independent_factors_up_to_sign_and_order():
    rng = np.random.default_rng(1)
    sources = np.stack([rng.uniform(-1, 1, 4000), rng.laplace(size=4000), rng.uniform(-1, 1, 4000) ** 3], 1)
    mixing = np.array([[1.0, 0.4, 0.0], [0.3, 1.0, 0.5], [0.0, 0.2, 1.0]])
    z = sources @ mixing.T
    d = ica_directions(z, 3, seed=0)
    truth = mixing.T / np.linalg.norm(mixing.T, axis=1, keepdims=True)  # each source's column, unit
    cosines = np.abs(d.vectors @ truth.T)
    assert (cosines.max(axis=1) > 0.99).all() and sorted(cosines.argmax(axis=1)) == [0, 1, 2]


def test_class_direction_is_the_normalised_mean_difference():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(300, 4))
    labels = np.repeat([0, 1, 2], 100)
    z[labels == 1] += [2.0, 0, 0, 1.0]
    d = class_direction(z, labels, 1, 0)
    gap = z[labels == 1].mean(0) - z[labels == 0].mean(0)
    assert np.allclose(d.vectors[0], gap / np.linalg.norm(gap))
    assert np.allclose(class_direction(z, labels, 1).vectors[0], _unit(z[labels == 1].mean(0) - z[labels != 1].mean(0)))
    with pytest.raises(LatentEditError, match="both classes"):
        class_direction(z, labels, 7)


def _unit(v):
    return v / np.linalg.norm(v)


def test_modify_delete_replace_by_their_formulas():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(50, 6))
    u = _unit(rng.normal(size=6))
    mean, sd = spread_along(z, u)
    assert mean == pytest.approx((z @ u).mean()) and sd == pytest.approx((z @ u).std())
    moved = move_along(z[0], u, 2.0, sd)
    assert (moved - z[0]) @ u == pytest.approx(2.0 * sd) and np.allclose(moved - z[0], 2.0 * sd * u)
    deleted = project_out(z[:5], u, mean)
    assert np.allclose(deleted @ u, mean)
    assert np.allclose(deleted - (deleted @ u)[:, None] * u, z[:5] - (z[:5] @ u)[:, None] * u)  # rest untouched
    assert np.allclose(project_out(z[0], u, mean), deleted[0])
    dirs = rng.normal(size=(2, 6))
    swapped = swap_factors(z[0], z[1], dirs)
    q, _ = np.linalg.qr(dirs.T)
    assert np.allclose(q.T @ swapped, q.T @ z[1])  # b's factors
    rest = np.eye(6) - q @ q.T
    assert np.allclose(rest @ swapped, rest @ z[0])  # a's everything else
    with pytest.raises(LatentEditError, match="zero"):
        move_along(z[0], np.zeros(6), 1.0)


def test_synthesized_codes_are_admissible_interpolations_and_decode():
    rng = np.random.default_rng(4)
    z = np.concatenate([rng.normal(size=(60, 3)) * 0.2 + 3, rng.normal(size=(60, 3)) * 0.2 - 3])
    codes, made = synthesize_codes(z, 40, seed=0)
    pairs = made.pairs.numpy()
    w = made.weights.numpy()[:, None]
    assert np.allclose(codes, (1 - w) * z[pairs[:, 0]] + w * z[pairs[:, 1]], atol=1e-5)
    blob = np.arange(120) >= 60
    assert (blob[pairs[:, 0]] == blob[pairs[:, 1]]).all()  # never across the gap between the blobs
    from acglab.models.latent import build_latent_model

    model = build_latent_model({"model": "ae", "channels": 1, "img_size": 8, "latent_dim": 3})
    images = decode(model, codes[:4])
    assert images.shape == (4, 1, 8, 8) and images.min() >= 0 and images.max() <= 1
    assert decode(model, codes[0]).shape == (1, 1, 8, 8)


def test_latent_edits_on_a_face_vae_trained_by_the_cli(celebdf_mini, tmp_path):
    from acglab.cli import main
    from acglab.data.arrays import face_array
    from acglab.train.latent import encode_all, latent_model_from_checkpoint

    run = tmp_path / "vae"
    assert (
        main(
            [
                "latent",
                "train",
                "--model",
                "vae",
                "--data",
                str(celebdf_mini / "faces"),
                "--img-size",
                "32",
                "--max-images",
                "96",
                "--epochs",
                "1",
                "--latent-dim",
                "8",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    model = latent_model_from_checkpoint(run / "best.pt")
    faces = face_array(celebdf_mini / "faces", 32, max_images=96)
    z = encode_all(model, faces).double().numpy()
    real_fake = class_direction(z, faces.labels["real/fake"], 1, 0, name="real vs fake")
    pcs = pca_directions(z, 3)
    mean, sd = spread_along(z, real_fake.vectors[0])
    edited = np.stack(
        [
            move_along(z[0], real_fake.vectors[0], 2.0, sd),
            project_out(z[0], pcs.vectors[0]),
            swap_factors(z[0], z[1], pcs),
        ]
    )
    new, _ = synthesize_codes(z, 4, seed=0)
    images = decode(model, np.concatenate([edited, new]))
    assert images.shape == (7, 3, 32, 32) and np.isfinite(images).all()
    assert not np.allclose(images[0], decode(model, z[0])[0])
