r"""The GAN game of the article: the value function :math:`V(D, G)`, its binary-cross-entropy
form, the optimal discriminator :math:`D^*` and the value it attains.

Notation: ``d_real`` are discriminator outputs :math:`D(x)` on data samples, ``d_fake`` are
:math:`D(G(z))` on generated samples, all in ``(0, 1)``. On a grid, ``d``, ``p_data`` and
``p_g`` are arrays of values at the grid points (spacing ``dx``).

The article builds :math:`V` from the per-sample error
:math:`E(\hat y, y) = -[y\log\hat y + (1-y)\log(1-\hat y)]` (binary cross-entropy, label 1 =
data, 0 = generated) and takes :math:`V = -E` summed over both kinds of input:

.. math::
    V(D, G) = \mathbb E_{x\sim p_{data}}[\log D(x)] + \mathbb E_{z\sim p_z}[\log(1 - D(G(z)))],
    \qquad \min_G \max_D V(D, G).
"""

from __future__ import annotations

import numpy as np

from acglab.theory.densities import TheoryInputError
from acglab.theory.divergences import js_divergence


def _probabilities(d, name: str) -> np.ndarray:
    d = np.asarray(d, dtype=float)
    if d.size == 0 or np.any(~np.isfinite(d)) or np.any(d < 0) or np.any(d > 1):
        raise TheoryInputError(f"{name} must be a non-empty array of values in [0, 1]")
    return d


def _xlogy(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``w * log(v)`` with ``0 * log(0) = 0`` (and ``-inf`` where ``w > 0``, ``v = 0``)."""
    out = np.zeros(np.broadcast(w, v).shape)
    w, v = np.broadcast_arrays(w, v)
    pos = w > 0
    with np.errstate(divide="ignore"):
        out[pos] = w[pos] * np.log(v[pos])
    return out


def binary_cross_entropy(predictions, labels) -> float:
    r"""Mean binary cross-entropy :math:`-\frac1n\sum_i [y_i\log\hat y_i + (1-y_i)\log(1-\hat y_i)]`.

    The article's error function :math:`E` (its "one-line" form of the two-case error) and the
    thesis' classification loss (thesis eq. 1.2).
    predictions: shape ``(n,)`` in ``[0, 1]``; labels: shape ``(n,)`` in ``{0, 1}`` (or soft labels).
    """
    yhat = _probabilities(predictions, "predictions")
    y = _probabilities(labels, "labels")
    if y.shape != yhat.shape:
        raise TheoryInputError(f"predictions and labels differ in shape: {yhat.shape} vs {y.shape}")
    return float(-np.mean(_xlogy(y, yhat) + _xlogy(1.0 - y, 1.0 - yhat)))


def value_function(d_real, d_fake) -> float:
    r"""Monte-Carlo estimate of :math:`V(D,G) = \mathbb E[\log D(x)] + \mathbb E[\log(1-D(G(z)))]`.

    d_real: shape ``(n,)``, :math:`D(x_i)` for data samples; d_fake: shape ``(m,)``,
    :math:`D(G(z_j))` for generated samples. The maximum, 0, needs a perfect and fully
    confident discriminator; :math:`-\infty` is a confidently wrong one.
    """
    d_real = _probabilities(d_real, "d_real")
    d_fake = _probabilities(d_fake, "d_fake")
    return float(np.mean(_xlogy(np.ones_like(d_real), d_real)) + np.mean(_xlogy(np.ones_like(d_fake), 1.0 - d_fake)))


def value_from_bce(d_real, d_fake) -> float:
    r""":math:`V(D,G)` written as minus the discriminator's BCE: real samples labelled 1, fakes 0.

    :math:`V = -\mathrm{BCE}(D(x), 1) - \mathrm{BCE}(D(G(z)), 0)`: maximising :math:`V` over
    :math:`D` is training a binary classifier with the usual cross-entropy loss.
    """
    d_real = _probabilities(d_real, "d_real")
    d_fake = _probabilities(d_fake, "d_fake")
    return -binary_cross_entropy(d_real, np.ones_like(d_real)) - binary_cross_entropy(d_fake, np.zeros_like(d_fake))


def logistic_discriminator(x, sharpness: float, threshold: float) -> np.ndarray:
    r"""A 1-D discriminator :math:`D(x) = \sigma(k (x - t))` (sigmoid with sharpness ``k``,
    threshold ``t``): says "data" to the right of ``t`` when ``k > 0``."""
    z = float(sharpness) * (np.asarray(x, dtype=float) - float(threshold))
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def value_function_grid(d, p_data, p_g, dx: float) -> float:
    r""":math:`V(D,G) = \int p_{data}(x)\log D(x) + p_g(x)\log(1 - D(x))\,dx` on a grid.

    The article's integral form after the change of variables :math:`x = G(z)` (its proof of the
    optimal discriminator). d, p_data, p_g: arrays of the same shape.
    """
    d = _probabilities(d, "d")
    p_data = np.asarray(p_data, dtype=float)
    p_g = np.asarray(p_g, dtype=float)
    if not (d.shape == p_data.shape == p_g.shape):
        raise TheoryInputError("d, p_data and p_g must have the same shape")
    return float(np.sum(_xlogy(p_data, d) + _xlogy(p_g, 1.0 - d)) * dx)


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    r"""The optimal discriminator for a fixed generator, :math:`D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}`.

    Pointwise maximiser of :math:`a\log y + b\log(1-y)`, which peaks at :math:`y = a/(a+b)`
    (the article's proof). Where both densities vanish :math:`D^*` is arbitrary; we return 1/2.
    When :math:`p_g = p_{data}`, :math:`D^* \equiv 1/2`: the discriminator can only guess.
    """
    p_data = np.asarray(p_data, dtype=float)
    p_g = np.asarray(p_g, dtype=float)
    if p_data.shape != p_g.shape or np.any(p_data < 0) or np.any(p_g < 0):
        raise TheoryInputError("p_data and p_g must be non-negative arrays of the same shape")
    total = p_data + p_g
    out = np.full(total.shape, 0.5)
    np.divide(p_data, total, out=out, where=total > 0)
    return out


def optimal_value(p_data, p_g, dx: float) -> float:
    r""":math:`V(D^*, G)`, the value of the game once the discriminator is optimal, by direct
    integration of the value function at :math:`D^*`:

    .. math::
        V(D^*, G) = \int p_{data}\log\frac{p_{data}}{p_{data}+p_g}
                  + p_g\log\frac{p_g}{p_{data}+p_g}\,dx .

    :math:`1 - D^* = p_g / (p_{data} + p_g)` is used as such (not as ``1 - D*``, which rounds to
    0 where :math:`p_g \ll p_{data}`). The result equals
    :math:`-\log 4 + 2\,\mathrm{JSD}(p_{data}\|p_g)` (see :func:`optimal_value_via_jsd`), so the
    generator, facing an optimal discriminator, minimises the Jensen–Shannon divergence; the
    minimum :math:`-\log 4` is reached only at :math:`p_g = p_{data}`.

    p_data, p_g: densities on a uniform grid of spacing ``dx``, same shape.
    """
    p_data = np.asarray(p_data, dtype=float)
    p_g = np.asarray(p_g, dtype=float)
    if p_data.shape != p_g.shape or np.any(p_data < 0) or np.any(p_g < 0):
        raise TheoryInputError("p_data and p_g must be non-negative arrays of the same shape")
    total = p_data + p_g
    inside = total > 0
    p, q, t = p_data[inside], p_g[inside], total[inside]
    return float(np.sum(_xlogy(p, p / t) + _xlogy(q, q / t)) * dx)


def optimal_value_via_jsd(p_data, p_g, dx: float) -> float:
    r""":math:`-\log 4 + 2\,\mathrm{JSD}(p_{data}\|p_g)`, the closed form of :math:`V(D^*, G)`."""
    return float(-np.log(4.0) + 2.0 * js_divergence(p_data, p_g, dx))


def generator_losses(d_fake) -> dict[str, float]:
    r"""The generator's two losses from the article's training section.

    * ``"saturating"``: :math:`\mathbb E[\log(1 - D(G(z)))]` (minimised; the term of :math:`V`
      the generator controls),
    * ``"non_saturating"``: :math:`-\mathbb E[\log D(G(z))]` (minimised; same fixed point,
      strong gradients early in training when :math:`D(G(z)) \approx 0`).
    """
    d_fake = _probabilities(d_fake, "d_fake")
    ones = np.ones_like(d_fake)
    return {
        "saturating": float(np.mean(_xlogy(ones, 1.0 - d_fake))),
        "non_saturating": float(-np.mean(_xlogy(ones, d_fake))),
    }


def generator_logit_gradients(d_fake) -> dict[str, np.ndarray]:
    r"""Derivatives of the two per-sample generator losses with respect to the discriminator's
    logit :math:`a` (:math:`D = \sigma(a)`).

    :math:`\partial_a \log(1-\sigma(a)) = -D` (vanishes when the discriminator rejects the fake,
    :math:`D\to 0`), while :math:`\partial_a[-\log\sigma(a)] = -(1 - D)` (stays near -1 there).
    Returns arrays shaped like ``d_fake``.
    """
    d_fake = _probabilities(d_fake, "d_fake")
    return {"saturating": -d_fake, "non_saturating": -(1.0 - d_fake)}
