"""ACG losses against independent computations: scipy's cosine distance, a numpy double loop over
pairs for the metric loss, a manual L1 over real images, scikit-learn's log loss; one-class and
no-real batches stay finite and keep backward working."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cosine
from sklearn.metrics import log_loss

from acglab.losses import (
    LossInputError,
    acg_loss,
    bce_loss,
    cosine_distance_matrix,
    flooded,
    metric_loss,
    multi_level_metric_loss,
    real_l1_loss,
)
from acglab.models.outputs import ACGOutput


def brute_force_metric(features: np.ndarray, labels: np.ndarray) -> float:
    """Eq. 2.3 by a double loop: mean d over ordered real pairs i != j minus mean d over (real, fake)."""
    rr, rf = [], []
    for i in range(len(labels)):
        for j in range(len(labels)):
            d = cosine(features[i], features[j]) / 2
            if labels[i] == 1 and labels[j] == 1 and i != j:
                rr.append(d)
            if labels[i] == 1 and labels[j] == 0:
                rf.append(d)
    return (np.mean(rr) if rr else 0.0) - (np.mean(rf) if rf else 0.0)


def test_cosine_distance_matches_scipy():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(7, 5))
    d = cosine_distance_matrix(torch.from_numpy(f)).numpy()
    expected = np.array([[cosine(a, b) / 2 for b in f] for a in f])
    np.testing.assert_allclose(d, expected, atol=1e-6)
    assert d.min() >= -1e-7 and d.max() <= 1 + 1e-7


@pytest.mark.parametrize(
    "labels",
    [
        [1, 0, 1, 1, 0, 0, 1, 0],  # mixed
        [1, 1, 1, 1],  # only real: the real-fake term is undefined -> 0
        [1, 0, 0, 0, 0],  # one real: the real-real term is undefined -> 0
        [0, 0, 0],  # no real: both undefined -> 0
    ],
)
def test_metric_loss_matches_double_loop(labels):
    rng = np.random.default_rng(len(labels))
    f = rng.normal(size=(len(labels), 6)) + 0.5
    y = np.array(labels)
    got = float(metric_loss(torch.from_numpy(f), torch.from_numpy(y)))
    assert got == pytest.approx(brute_force_metric(f, y), abs=1e-6)


def test_metric_loss_is_zero_without_real_and_backward_works():
    f = torch.randn(4, 3, requires_grad=True)
    loss = metric_loss(f, torch.zeros(4, dtype=torch.long))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(f.grad).all() and float(f.grad.abs().sum()) == 0.0


def test_metric_loss_rewards_compact_reals_and_separated_fakes():
    real = torch.tensor([[1.0, 0.0], [1.0, 0.01], [0.99, 0.0]])
    good = torch.cat([real, torch.tensor([[-1.0, 0.0]])])
    bad = torch.cat([real, torch.tensor([[1.0, 0.005]])])
    labels = torch.tensor([1, 1, 1, 0])
    assert float(metric_loss(good, labels)) < float(metric_loss(bad, labels))
    assert float(metric_loss(good, labels)) == pytest.approx(brute_force_metric(good.numpy(), labels.numpy()), abs=1e-6)


def test_multi_level_metric_loss_is_the_mean_over_levels():
    labels = torch.tensor([1, 0, 1, 0, 1])
    levels = [torch.randn(5, c) for c in (3, 8, 4)]
    expected = np.mean([brute_force_metric(f.numpy(), labels.numpy()) for f in levels])
    assert float(multi_level_metric_loss(levels, labels)) == pytest.approx(expected, abs=1e-6)
    assert float(multi_level_metric_loss([], labels)) == 0.0


def test_real_l1_loss_uses_real_samples_only():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 3, 4, 6)).astype(np.float32)
    recon = rng.normal(size=(5, 3, 4, 6)).astype(np.float32)
    labels = np.array([0, 1, 1, 0, 1])
    manual = sum(np.abs(recon[i] - x[i]).sum() / recon[i].size for i in range(5) if labels[i] == 1) / 3
    got = real_l1_loss(torch.from_numpy(recon), torch.from_numpy(x), torch.from_numpy(labels))
    assert float(got) == pytest.approx(manual, rel=1e-5)
    # changing a fake's reconstruction changes nothing
    recon[0] += 10
    assert float(real_l1_loss(torch.from_numpy(recon), torch.from_numpy(x), torch.from_numpy(labels))) == pytest.approx(
        manual, rel=1e-5
    )


def test_real_l1_loss_without_real_is_zero_and_differentiable():
    recon = torch.randn(3, 3, 4, 4, requires_grad=True)
    loss = real_l1_loss(recon, torch.randn(3, 3, 4, 4), torch.zeros(3, dtype=torch.long))
    assert loss.item() == 0.0
    loss.backward()
    assert float(recon.grad.abs().sum()) == 0.0


def test_bce_targets_fakes_and_matches_sklearn():
    logits = torch.tensor([2.0, -1.0, 0.5, -3.0, 0.0])
    labels = torch.tensor([0, 1, 0, 1, 1])  # 1 = real
    p_fake = torch.sigmoid(logits).numpy().astype(np.float64)
    expected = log_loss(1 - labels.numpy(), p_fake, labels=[0, 1])
    assert float(bce_loss(logits, labels)) == pytest.approx(expected, rel=1e-5)
    assert float(bce_loss(ACGOutput(logits), labels)) == pytest.approx(expected, rel=1e-5)


def test_flooding_reverses_the_gradient_below_the_level():
    low = torch.tensor(0.01, requires_grad=True)
    f = flooded(low, 0.04)
    f.backward()
    assert f.item() == pytest.approx(0.07) and float(low.grad) == -1.0
    high = torch.tensor(0.5, requires_grad=True)
    g = flooded(high, 0.04)
    g.backward()
    assert g.item() == pytest.approx(0.5) and float(high.grad) == 1.0
    assert flooded(high, None) is high


def test_acg_loss_combines_the_terms_of_eq_2_7():
    torch.manual_seed(0)
    x = torch.randn(6, 3, 8, 8)
    labels = torch.tensor([1, 0, 1, 0, 1, 0])
    out = ACGOutput(torch.randn(6), torch.randn(6, 3, 8, 8), [torch.randn(6, 4), torch.randn(6, 5)], torch.randn(6, 2))
    total, parts = acg_loss(out, x, labels, lambda_r=0.3, lambda_m=0.2, flood=0.04)
    cls = abs(float(bce_loss(out.logits, labels)) - 0.04) + 0.04
    rec = float(real_l1_loss(out.recon, x, labels))
    met = float(multi_level_metric_loss(out.pooled, labels))
    assert parts["cls"] == pytest.approx(cls, rel=1e-6)
    assert parts["rec"] == pytest.approx(rec, rel=1e-6) and parts["metric"] == pytest.approx(met, rel=1e-6)
    assert float(total) == pytest.approx(cls + 0.3 * rec + 0.2 * met, rel=1e-6) == parts["total"]
    assert set(parts) == {"cls", "rec", "metric", "total"}


@pytest.mark.parametrize("labels", [[1, 1, 1, 1], [0, 0, 0, 0], [1, 0, 0, 0]])
def test_acg_loss_is_finite_for_one_class_batches(labels):
    logits = torch.randn(4, requires_grad=True)
    recon = torch.randn(4, 3, 8, 8, requires_grad=True)
    pooled = [torch.randn(4, 5, requires_grad=True)]
    total, parts = acg_loss(ACGOutput(logits, recon, pooled, None), torch.randn(4, 3, 8, 8), torch.tensor(labels))
    total.backward()
    assert all(math.isfinite(v) for v in parts.values())
    assert (
        torch.isfinite(logits.grad).all() and torch.isfinite(recon.grad).all() and torch.isfinite(pooled[0].grad).all()
    )
    if 1 not in labels:
        assert parts["rec"] == 0.0 and parts["metric"] == 0.0


def test_acg_loss_for_the_plain_backbone_is_the_bce():
    logits = torch.randn(4)
    labels = torch.tensor([1, 0, 1, 0])
    total, parts = acg_loss(ACGOutput(logits), torch.randn(4, 3, 8, 8), labels)
    assert parts["rec"] == 0.0 and parts["metric"] == 0.0
    assert float(total) == pytest.approx(float(bce_loss(logits, labels)))


def test_bad_labels_are_one_clear_error():
    with pytest.raises(LossInputError, match="1 \\(real\\) or 0 \\(fake\\)"):
        bce_loss(torch.zeros(3), torch.tensor([0, 1, 2]))
    with pytest.raises(LossInputError, match="shape"):
        metric_loss(torch.zeros(3, 2), torch.tensor([0, 1]))
    with pytest.raises(LossInputError, match="differ in shape"):
        real_l1_loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 5), torch.tensor([1, 1]))
