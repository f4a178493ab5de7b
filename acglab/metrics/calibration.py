r"""Calibration of a detector's probabilities: temperature scaling and the expected calibration error.

A detector trained with a classification loss ranks faces well (its AUC) but its probabilities
are often over-confident: of the faces it calls fake with P = 0.95, far fewer than 95 % are.
Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017) divides
every logit by one number ``T > 0`` fitted on held-out data,

.. math::  p_T(z) = \sigma(z / T), \qquad
           T^* = \arg\min_{T > 0} -\sum_i \big[y_i \log p_T(z_i) + (1 - y_i) \log (1 - p_T(z_i))\big],

with ``y_i = 1`` for a fake. ``T > 1`` softens over-confident scores; the ranking, hence the
AUC, is unchanged. The negative log-likelihood is convex in ``1/T``, so the one-dimensional
minimisation has a single minimum (found by bounded Brent search on ``log T``).

The expected calibration error (ECE) measures the gap between confidence and accuracy over
``B`` equal-width bins of the predicted probability of the predicted class:
``ECE = Σ_b (n_b / n) |acc_b - conf_b|``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from acglab.labels import FAKE

#: probabilities are clipped to [EPS, 1 - EPS] before taking logits
EPS = 1e-12
#: the fitted temperature is searched in [1/T_RANGE, T_RANGE]
T_RANGE = 100.0


def logits_from_probabilities(p) -> np.ndarray:
    """``log(p / (1 - p))`` of probabilities clipped to ``[EPS, 1 - EPS]``, float64."""
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def scaled_probability(logits, temperature: float) -> np.ndarray:
    """``sigmoid(z / T)``, computed stably, float64."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def negative_log_likelihood(logits, is_fake, temperature: float = 1.0) -> float:
    """Mean binary cross-entropy of ``sigmoid(z / T)`` against ``is_fake`` (0/1), float."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    y = np.asarray(is_fake, dtype=np.float64)
    # -[y log σ(z) + (1 - y) log(1 - σ(z))] = softplus(z) - y z
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def fit_temperature(logits, is_fake) -> float:
    """The temperature ``T*`` of the module notes (needs both classes; ``ValueError`` otherwise)."""
    from scipy.optimize import minimize_scalar

    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(is_fake, dtype=np.float64)
    if z.shape != y.shape or z.ndim != 1 or len(z) == 0:
        raise ValueError(f"need one logit per label, got shapes {z.shape} and {y.shape}")
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite")
    if y.min() == y.max():
        raise ValueError("temperature scaling needs real and fake faces in the calibration set")
    bound = np.log(T_RANGE)
    result = minimize_scalar(
        lambda t: negative_log_likelihood(z, y, np.exp(t)),
        bounds=(-bound, bound),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(np.exp(result.x))


def expected_calibration_error(p_fake, is_fake, bins: int = 15) -> float:
    """ECE of the module notes over ``bins`` equal-width bins of the confidence
    ``max(p, 1 - p)`` of the predicted class (fake when ``p >= 0.5``)."""
    p = np.asarray(p_fake, dtype=np.float64)
    y = np.asarray(is_fake, dtype=bool)
    if p.shape != y.shape or len(p) == 0:
        raise ValueError(f"need one probability per label, got shapes {p.shape} and {y.shape}")
    predicted = p >= 0.5
    confidence = np.where(predicted, p, 1 - p)
    correct = predicted == y
    edges = np.linspace(0.5, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(ece)


@dataclass(frozen=True)
class Calibration:
    """A fitted temperature and what it did on the calibration set (kept in checkpoints)."""

    temperature: float
    n: int
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float
    source: str = "validation"

    def to_dict(self) -> dict:
        return asdict(self)

    def probability(self, logits) -> np.ndarray:
        """Calibrated P(fake) of raw logits."""
        return scaled_probability(logits, self.temperature)


def calibrate(p_fake, labels, source: str = "validation") -> Calibration:
    """Fit a temperature to a detector's P(fake) scores and the samples' labels
    (:data:`acglab.labels.FAKE` marks fakes)."""
    y = (np.asarray(labels) == FAKE).astype(np.float64)
    z = logits_from_probabilities(p_fake)
    t = fit_temperature(z, y)
    after = scaled_probability(z, t)
    return Calibration(
        temperature=t,
        n=len(z),
        nll_before=negative_log_likelihood(z, y),
        nll_after=negative_log_likelihood(z, y, t),
        ece_before=expected_calibration_error(scaled_probability(z, 1.0), y),
        ece_after=expected_calibration_error(after, y),
        source=source,
    )
