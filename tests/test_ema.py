"""The moving average of the weights: the decay schedule and the update against a direct computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from acglab.train.ema import ema_copy, ema_decay, ema_update


def test_decay_warms_up_then_stays():
    assert [ema_decay(t, 0.99) for t in (0, 1, 8)] == pytest.approx([0.1, 2 / 11, 0.5])
    assert ema_decay(10_000, 0.99) == 0.99 and ema_decay(89, 0.9) == 0.9


def test_update_is_the_weighted_sum_of_the_weights_it_saw():
    """After updates with decays d_1..d_k the average is prod(d) * w_0 + sum_i (1 - d_i) prod_{j>i} d_j * w_i
    for parameters and BatchNorm running statistics; the step counter is copied, not averaged."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(2, 2))
    ema = ema_copy(model)
    assert not any(p.requires_grad for p in ema.parameters()) and not ema.training
    averaged = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
    seen = [{k: model.state_dict()[k].double().numpy().copy() for k in averaged}]
    decays = [ema_decay(t, 0.7) for t in range(1, 6)]
    for d in decays:
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        model.train()(torch.randn(2, 3, 4, 4))  # moves the running statistics and the counter
        seen.append({k: model.state_dict()[k].double().numpy().copy() for k in averaged})
        ema_update(ema, model, d)
    for k in averaged:
        expected = np.prod(decays) * seen[0][k]
        for i, d in enumerate(decays, start=1):
            expected = expected + (1 - d) * np.prod(decays[i:]) * seen[i][k]
        np.testing.assert_allclose(ema.state_dict()[k].double().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert int(ema.state_dict()["1.num_batches_tracked"]) == int(model.state_dict()["1.num_batches_tracked"]) == 5
