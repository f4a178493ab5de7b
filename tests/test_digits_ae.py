"""The digits autoencoder: it learns (beats the mean-image baseline, computed with numpy), is
deterministic under a seed, its normalised codes have the stated RMS norm, and decode(encode(x))
is the network's own reconstruction."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from acglab.models.digits_ae import (
    DIGIT_PIXELS,
    DigitsAutoencoder,
    DigitsAutoencoderError,
    decode_codes,
    encode_images,
    load_digit_images,
    mean_image_error,
    reconstruction_error,
    train_digits_autoencoder,
)


@pytest.fixture(scope="module")
def trained():
    return train_digits_autoencoder(latent_dim=4, epochs=15, seed=0, code_radius=1.5)


def test_images_are_sklearn_digits_scaled_to_unit_range():
    images, labels = load_digit_images()
    raw = load_digits()
    assert images.shape == (1797, DIGIT_PIXELS) and images.dtype == np.float32
    np.testing.assert_allclose(images * 16, raw.data, atol=1e-5)
    np.testing.assert_array_equal(labels, raw.target)
    assert images.min() == 0.0 and images.max() == 1.0


def test_reconstruction_beats_the_mean_image(trained):
    model, codes, labels = trained
    images, _ = load_digit_images()
    baseline = float(((images.astype(np.float64) - images.mean(0)) ** 2).mean())
    assert mean_image_error(images) == pytest.approx(baseline)
    rec = decode_codes(model, encode_images(model, images)).reshape(len(images), -1)
    error = float(((rec.astype(np.float64) - images) ** 2).mean())
    assert reconstruction_error(model, images) == pytest.approx(error, rel=1e-5)
    assert error < 0.5 * baseline
    assert model.epoch_losses[-1] < 0.7 * model.epoch_losses[0]
    assert codes.shape == (1797, 4) and labels.shape == (1797,)


def test_codes_are_centred_with_the_requested_rms_norm(trained):
    model, codes, _ = trained
    c = codes.astype(np.float64)
    np.testing.assert_allclose(c.mean(0), 0.0, atol=1e-5)
    assert np.sqrt((c**2).sum(1).mean()) == pytest.approx(1.5, rel=1e-5)
    images, _ = load_digit_images()
    with torch.no_grad():
        raw = model.encoder(torch.from_numpy(images)).numpy().astype(np.float64)
    scale = np.sqrt(((raw - raw.mean(0)) ** 2).sum(1).mean()) / 1.5
    np.testing.assert_allclose(c, (raw - raw.mean(0)) / scale, atol=1e-4)


def test_decode_inverts_the_normalisation(trained):
    model, codes, _ = trained
    images, _ = load_digit_images()
    with torch.no_grad():
        direct = model(torch.from_numpy(images[:50])).numpy()
    np.testing.assert_allclose(decode_codes(model, codes[:50]).reshape(50, -1), direct, atol=1e-5)
    np.testing.assert_allclose(encode_images(model, images[:50].reshape(50, 8, 8)), codes[:50], atol=1e-6)
    decoded = decode_codes(model, np.zeros((3, 4)))
    assert decoded.shape == (3, 8, 8) and decoded.min() >= 0 and decoded.max() <= 1


def test_training_is_deterministic_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a_model, a_codes, _ = train_digits_autoencoder(latent_dim=2, epochs=2, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    b_model, b_codes, _ = train_digits_autoencoder(latent_dim=2, epochs=2, seed=3)
    np.testing.assert_array_equal(a_codes, b_codes)
    for pa, pb in zip(a_model.state_dict().values(), b_model.state_dict().values()):
        assert torch.equal(pa, pb)
    _, c_codes, _ = train_digits_autoencoder(latent_dim=2, epochs=2, seed=4)
    assert not np.allclose(a_codes, c_codes)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(latent_dim=0), "latent_dim"),
        (dict(latent_dim=65), "latent_dim"),
        (dict(latent_dim=2.5), "latent_dim"),
        (dict(epochs=0), "epochs"),
        (dict(lr=0.0), "lr"),
        (dict(code_radius=-1.0), "code_radius"),
    ],
)
def test_bad_settings(kwargs, match):
    with pytest.raises(DigitsAutoencoderError, match=match):
        train_digits_autoencoder(**kwargs)


def test_bad_inputs():
    model = DigitsAutoencoder(latent_dim=3)
    with pytest.raises(DigitsAutoencoderError, match=r"codes must have shape \(n, 3\)"):
        decode_codes(model, np.zeros((2, 4)))
    with pytest.raises(DigitsAutoencoderError, match="images must have shape"):
        encode_images(model, np.zeros((2, 63)))
    with pytest.raises(DigitsAutoencoderError, match="NaN"):
        encode_images(model, np.full((1, 64), np.nan))
