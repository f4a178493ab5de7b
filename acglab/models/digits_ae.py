r"""A tiny MLP autoencoder for scikit-learn's 8x8 handwritten digits (CPU, seconds).

The notebooks need latent codes with several well-separated modes to show what the
semi-discrete OT generator does with them (AE-OT, thesis section 2.2): the ten digits give
such modes. The encoder :math:`f` maps an image :math:`x \in [0, 1]^{64}` to a code, the decoder
:math:`g` maps codes back to images, and training minimises the mean squared reconstruction
error

.. math:: \mathcal L(f, g) = \frac{1}{64\,n} \sum_{k=1}^{n} \|g(f(x_k)) - x_k\|_2^2 .

**Code normalisation.** The dihedral angles that define the singular set depend on where the
codes sit (the facet normals are :math:`(y_i, -1)`), so after training the codes are centred and
scaled once: with :math:`z_k = f(x_k)`, :math:`c = \frac1n\sum_k z_k` and
:math:`s = \sqrt{\frac1n \sum_k \|z_k - c\|^2} / \rho`,

.. math:: y_k = (z_k - c) / s, \qquad g_{\mathrm{norm}}(y) = g(s\,y + c),

so the codes :math:`y_k` have root-mean-square norm :math:`\rho` (``code_radius``). :meth:`encode`
and :meth:`decode` work on these normalised codes; :math:`c` and :math:`s` are buffers of the
model.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from acglab.errors import DigitsAutoencoderError

#: side of a digit image, in pixels
DIGIT_SIDE = 8
DIGIT_PIXELS = DIGIT_SIDE * DIGIT_SIDE
#: scikit-learn's digits are grey levels 0..16
_MAX_GREY = 16.0


def load_digit_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's handwritten digits as images in [0, 1].

    Returns ``images`` float32 (1797, 64) (rows of 8x8 images, row-major) and ``labels`` int64
    (1797,) in 0..9.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.data / _MAX_GREY).astype(np.float32)
    return images, digits.target.astype(np.int64)


class DigitsAutoencoder(nn.Module):
    """MLP autoencoder 64 -> 128 -> 64 -> d -> 64 -> 128 -> 64 (ReLU, sigmoid output).

    ``forward`` reconstructs images (B, 64) through the raw latent space; :meth:`encode` and
    :meth:`decode` use the normalised codes described in the module notes.
    """

    def __init__(self, latent_dim: int = 4, hidden: tuple[int, int] = (128, 64)):
        super().__init__()
        _check_latent_dim(latent_dim)
        wide, narrow = hidden
        self.latent_dim = int(latent_dim)
        self.encoder = nn.Sequential(
            nn.Linear(DIGIT_PIXELS, wide),
            nn.ReLU(),
            nn.Linear(wide, narrow),
            nn.ReLU(),
            nn.Linear(narrow, self.latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(self.latent_dim, narrow),
            nn.ReLU(),
            nn.Linear(narrow, wide),
            nn.ReLU(),
            nn.Linear(wide, DIGIT_PIXELS),
            nn.Sigmoid(),
        )
        self.register_buffer("code_center", torch.zeros(self.latent_dim))
        self.register_buffer("code_scale", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstructions g(f(x)), (B, 64) -> (B, 64)."""
        return self.decoder(self.encoder(x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised codes y = (f(x) - c) / s, (B, 64) -> (B, d)."""
        return (self.encoder(x) - self.code_center) / self.code_scale

    def decode(self, y: torch.Tensor) -> torch.Tensor:
        """Images g(s y + c) in [0, 1] from normalised codes, (B, d) -> (B, 64)."""
        return self.decoder(y * self.code_scale + self.code_center)

    @torch.no_grad()
    def fit_code_normalisation(self, images: torch.Tensor, code_radius: float = 1.0) -> None:
        """Set c and s from ``images`` (n, 64) so that their codes have RMS norm ``code_radius``."""
        z = self.encoder(images)
        center = z.mean(0)
        rms = (z - center).pow(2).sum(1).mean().sqrt()
        self.code_center.copy_(center)
        self.code_scale.copy_(rms.clamp_min(1e-12) / code_radius)


def _check_latent_dim(latent_dim) -> None:
    if int(latent_dim) != latent_dim or not 1 <= latent_dim <= DIGIT_PIXELS:
        raise DigitsAutoencoderError(f"latent_dim must be an integer between 1 and {DIGIT_PIXELS}, got {latent_dim!r}")


def train_digits_autoencoder(
    latent_dim: int = 4,
    epochs: int = 40,
    seed: int = 0,
    batch_size: int = 64,
    lr: float = 3e-3,
    code_radius: float = 1.0,
    progress: bool = False,
) -> tuple[DigitsAutoencoder, np.ndarray, np.ndarray]:
    """Train :class:`DigitsAutoencoder` on all 1797 digits with Adam on the mean squared error.

    Deterministic for a given ``seed`` on one machine (weights and batch order come from it;
    torch's global random state is left as it was). Runs on the CPU.

    Parameters
    ----------
    latent_dim : dimension d of the codes (2 to 8 is what the notebooks use).
    epochs : passes over the data; ``batch_size``, ``lr``: minibatch size and Adam step.
    code_radius : RMS norm of the returned codes (see the module notes).
    progress : show a tqdm bar over epochs.

    Returns
    -------
    model (eval mode, ``model.epoch_losses`` the mean training loss of each epoch),
    codes float32 (1797, d) (normalised), labels int64 (1797,).
    """
    _check_latent_dim(latent_dim)
    if int(epochs) < 1 or int(batch_size) < 1:
        raise DigitsAutoencoderError(f"epochs and batch_size must be positive, got {epochs!r} and {batch_size!r}")
    if not float(lr) > 0 or not float(code_radius) > 0:
        raise DigitsAutoencoderError(f"lr and code_radius must be positive, got {lr!r} and {code_radius!r}")
    images, labels = load_digit_images()
    x = torch.from_numpy(images)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = DigitsAutoencoder(latent_dim)
    order = torch.Generator().manual_seed(int(seed))
    optimiser = torch.optim.Adam(model.parameters(), lr=float(lr))
    model.epoch_losses = []
    for _ in tqdm(range(int(epochs)), desc="digits autoencoder", disable=not progress, leave=False):
        perm = torch.randperm(x.shape[0], generator=order)
        total = 0.0
        for start in range(0, x.shape[0], int(batch_size)):
            batch = x[perm[start : start + int(batch_size)]]
            loss = nn.functional.mse_loss(model(batch), batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * batch.shape[0]
        model.epoch_losses.append(total / x.shape[0])
    model.eval()
    model.fit_code_normalisation(x, code_radius)
    return model, encode_images(model, images), labels


def _as_rows(array, width: int, what: str) -> torch.Tensor:
    arr = np.asarray(array.detach().cpu() if torch.is_tensor(array) else array, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[1:] == (DIGIT_SIDE, DIGIT_SIDE) and width == DIGIT_PIXELS:
        arr = arr.reshape(arr.shape[0], DIGIT_PIXELS)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise DigitsAutoencoderError(f"{what} must have shape (n, {width}), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise DigitsAutoencoderError(f"{what} contain NaN or inf")
    return torch.from_numpy(arr)


@torch.no_grad()
def encode_images(model: DigitsAutoencoder, images) -> np.ndarray:
    """Normalised codes (n, d) float32 of images (n, 64) or (n, 8, 8) in [0, 1]."""
    return model.encode(_as_rows(images, DIGIT_PIXELS, "images")).numpy()


@torch.no_grad()
def decode_codes(model: DigitsAutoencoder, codes) -> np.ndarray:
    """Images (n, 8, 8) float32 in [0, 1] decoded from normalised codes (n, d)."""
    rows = model.decode(_as_rows(codes, model.latent_dim, "codes"))
    return rows.reshape(-1, DIGIT_SIDE, DIGIT_SIDE).numpy()


@torch.no_grad()
def reconstruction_error(model: DigitsAutoencoder, images) -> float:
    """Mean squared error per pixel of the reconstructions, (1/64n) sum_k |g(f(x_k)) - x_k|^2."""
    x = _as_rows(images, DIGIT_PIXELS, "images")
    return float(nn.functional.mse_loss(model(x), x))


def mean_image_error(images) -> float:
    """The baseline: mean squared error per pixel of predicting every image by the mean image."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    return float(((x - x.mean(0)) ** 2).mean())
