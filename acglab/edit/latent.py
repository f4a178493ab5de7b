r"""Semantic editing in a latent model's code space (the autoencoders and VAEs of
:mod:`acglab.models.latent`).

A *direction* is a unit vector :math:`u` of the code space. Directions come without labels, as
the principal axes of the codes (PCA) or their independent components (FastICA, Hyvärinen
1999), or from labels a user gives, as the normalised difference of two classes' mean codes,
:math:`u = (\bar z_+ - \bar z_-)/\|\bar z_+ - \bar z_-\|`. With :math:`s_u` the standard
deviation of the codes along :math:`u`, the four operations are

- **modify**: :math:`z' = z + a\,s_u\,u` (move ``a`` standard deviations along the direction);
- **delete**: :math:`z' = z - (\langle z, u\rangle - m_u)\,u` with :math:`m_u` the codes' mean
  projection: the factor is set to its average, i.e. projected out;
- **replace**: :math:`z'_a = z_a + \sum_k (\langle z_b - z_a, u_k\rangle) u_k` for orthonormal
  directions :math:`u_k`: face a takes face b's value of the chosen factors and keeps the rest;
- **synthesize**: new codes from the OT generator of the codes (AE-OT,
  :func:`acglab.ot.generate.ot_generate`: piecewise-linear interpolation that avoids the
  singular set), decoded to new faces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from acglab.errors import LatentEditError


@dataclass
class Directions:
    """Unit directions (k, d) in the code space, with a name and a score for each
    (explained variance share for PCA, kurtosis for ICA, the class-mean gap for labels)."""

    vectors: np.ndarray
    names: list[str]
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.vectors)


def _codes(codes) -> np.ndarray:
    z = codes.detach().cpu().numpy() if torch.is_tensor(codes) else np.asarray(codes)
    z = z.astype(np.float64)
    if z.ndim != 2 or len(z) < 2:
        raise LatentEditError(f"codes must be (N >= 2, d), got shape {z.shape}")
    return z


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    norm = np.linalg.norm(v)
    if not norm > 0:
        raise LatentEditError("a direction must not be the zero vector")
    return v / norm


def pca_directions(codes, k: int = 8) -> Directions:
    """The ``k`` principal axes of the codes, largest variance first (signs: the largest
    component positive), scored by their share of the total variance."""
    z = _codes(codes)
    k = int(min(k, z.shape[1], len(z) - 1))
    centred = z - z.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt[:k] * np.sign(vt[:k][np.arange(k), np.abs(vt[:k]).argmax(1)])[:, None]
    share = (s**2) / (s**2).sum()
    return Directions(vt, [f"PC{i + 1}" for i in range(k)], share[:k])


def ica_directions(codes, k: int = 8, seed: int = 0) -> Directions:
    """``k`` independent components of the codes (scikit-learn's FastICA on the whitened codes):
    each direction is a component's mixing column, normalised, scored by the excess kurtosis of
    the codes' projections on it (non-Gaussianity, what ICA maximises), largest first."""
    from scipy.stats import kurtosis
    from sklearn.decomposition import FastICA

    z = _codes(codes)
    k = int(min(k, z.shape[1], len(z) - 1))
    ica = FastICA(n_components=k, whiten="unit-variance", random_state=seed, max_iter=1000, tol=1e-4)
    ica.fit(z)
    vectors = np.stack([_unit(c) for c in ica.mixing_.T])
    scores = np.abs(kurtosis((z - z.mean(0)) @ vectors.T, axis=0))
    order = np.argsort(-scores)
    return Directions(vectors[order], [f"IC{i + 1}" for i in range(k)], scores[order])


def class_direction(codes, labels, positive, negative=None, name: str | None = None) -> Directions:
    """The normalised difference of the mean code of ``labels == positive`` and of
    ``labels == negative`` (every other code when ``negative`` is None), scored by the gap
    between the two means along it in codes' standard deviations."""
    z = _codes(codes)
    labels = np.asarray(labels)
    if labels.shape != (len(z),):
        raise LatentEditError(f"one label per code needed: {len(z)} codes, labels of shape {labels.shape}")
    pos = labels == positive
    neg = ~pos if negative is None else labels == negative
    if not pos.any() or not neg.any():
        raise LatentEditError(
            f"both classes need codes: {int(pos.sum())} labelled {positive!r}, {int(neg.sum())} "
            f"labelled {'other' if negative is None else repr(negative)}"
        )
    gap = z[pos].mean(0) - z[neg].mean(0)
    u = _unit(gap)
    spread = float((z @ u).std()) or 1.0
    label = name or f"{positive} vs {'rest' if negative is None else negative}"
    return Directions(u[None], [label], np.array([np.linalg.norm(gap) / spread]))


def spread_along(codes, direction) -> tuple[float, float]:
    """(mean, standard deviation) of the codes' projections on ``direction``."""
    proj = _codes(codes) @ _unit(direction)
    return float(proj.mean()), float(proj.std())


def move_along(code, direction, amount: float, spread: float = 1.0) -> np.ndarray:
    """**modify**: ``code + amount · spread · u`` (``spread``: the codes' standard deviation along u)."""
    return np.asarray(code, dtype=np.float64) + float(amount) * float(spread) * _unit(direction)


def project_out(code, direction, mean: float = 0.0) -> np.ndarray:
    """**delete**: the factor along ``u`` set to ``mean`` (the codes' average projection)."""
    z, u = np.asarray(code, dtype=np.float64), _unit(direction)
    return z - ((z @ u) - float(mean))[..., None] * u if z.ndim > 1 else z - ((z @ u) - float(mean)) * u


def swap_factors(code_a, code_b, directions) -> np.ndarray:
    """**replace**: ``code_a`` with ``code_b``'s components along the (orthonormalised) directions."""
    a, b = np.asarray(code_a, dtype=np.float64), np.asarray(code_b, dtype=np.float64)
    vectors = np.atleast_2d(
        np.asarray(directions.vectors if isinstance(directions, Directions) else directions, dtype=np.float64)
    )
    q, _ = np.linalg.qr(vectors.T)  # orthonormal basis of their span, (d, k)
    return a + q @ (q.T @ (b - a))


def synthesize_codes(codes, n: int, seed: int = 0, threshold: float | None = None, tol: float = 0.2):
    """**synthesize**: ``n`` new codes from the OT generator of the codes (module notes).
    The OT map is fitted to the standardised codes (:func:`acglab.ot.targets.standardise`)
    and its samples mapped back. Returns
    (codes (n, d), the generator's record: pairs, angles)."""
    from acglab.ot.generate import ot_generate
    from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD
    from acglab.ot.solver import SemiDiscreteOT
    from acglab.ot.targets import standardise

    z = _codes(codes)
    scaled, mean, scale = standardise(z)
    sdot = SemiDiscreteOT(scaled, source="cube", seed=seed).fit(tol=tol, error="mean")
    made = ot_generate(
        sdot,
        int(n),
        threshold=DEFAULT_ANGLE_THRESHOLD if threshold is None else threshold,
        seed=seed,
        return_pairs=True,
    )
    return mean + scale * made.codes.double().numpy(), made


def decode(model, codes) -> np.ndarray:
    """Images in [0, 1] (N, C, S, S) of codes (N, d) or one code (d,): the model's
    :meth:`decode_codes`."""
    return model.decode_codes(codes)
