"""The baselines of the OT benchmark: the published AE-OT loop and POT's semi-dual solver."""

from __future__ import annotations

import numpy as np
import ot
import torch

from acglab.ot import SemiDiscreteOT
from acglab.ot.power import topk_cells
from acglab.ot.reference import aeot_loop, pot_semi_dual_heights
from acglab.ot.sources import source_sample


def _targets(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 0.3 * torch.randn(n, d, generator=g)


def _max_rel_error(y, h, n=2**16):
    x = source_sample("cube", n, y.shape[1], seed=99)
    idx = topk_cells(x, y, torch.as_tensor(h, dtype=torch.float32), 1)[1][:, 0]
    mass = torch.bincount(idx, minlength=y.shape[0]).double() / n
    return float((mass * y.shape[0] - 1).abs().max())


def test_aeot_loop_equalises_cells_and_agrees_with_our_heights():
    y = _targets(16, 2)
    start = _max_rel_error(y, torch.zeros(16))
    h, log = aeot_loop(y, lr=0.01, n_samples=2**14, max_steps=400, grad_stop=0.0)
    assert len(log["seconds"]) == 400 and log["samples"][0] == 2**14
    assert _max_rel_error(y, h) < min(0.15, start / 3)
    ours = SemiDiscreteOT(y, seed=0).fit(tol=0.05).heights
    assert torch.allclose(h - h.mean(), ours - ours.mean(), atol=0.02)


def test_aeot_loop_published_stop_and_saved_state(tmp_path):
    y = _targets(8, 2, seed=1)
    h, log = aeot_loop(y, lr=0.01, n_samples=2**12, max_steps=2000, save_dir=str(tmp_path))
    assert log["grad_norm"][-1] < 2e-3 and len(log["seconds"]) < 2000  # |grad| < 2e-3 ended it
    saved = list(tmp_path.rglob("h_*.pt"))
    assert len(saved) == len(log["seconds"])  # the state is written every step, as published


def test_pot_semi_dual_heights_give_the_exact_discrete_assignment():
    y = _targets(6, 2, seed=2)
    n = 512
    h = pot_semi_dual_heights(y, n_source=n, reg=1e-3, n_iter=200_000, seed=3)
    x = source_sample("cube", n, 2, seed=3).double().numpy()
    yy = y.double().numpy()
    plan = ot.emd(np.full(n, 1 / n), np.full(6, 1 / 6), ot.dist(x, yy) / 2)
    ours = np.argmax(x @ yy.T + h, axis=1)
    assert (ours == plan.argmax(1)).mean() > 0.9
