"""Reference solvers used as baselines: the published AE-OT loop and POT's stochastic
semi-dual solver, each returning heights comparable with :class:`SemiDiscreteOT`'s.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
import torch

from acglab.ot.power import topk_cells
from acglab.ot.sources import SobolSource


def aeot_loop(
    y: torch.Tensor,
    lr: float,
    n_samples: int,
    max_steps: int = 1000,
    seed: int = 0,
    source: str = "cube",
    save_dir: str | None = None,
    stop=None,
    patience: int = 30,
    grad_stop: float = 2e-3,
) -> tuple[torch.Tensor, dict]:
    """The AE-OT height optimisation as published (``pyOMT_raw.run_gd``), re-implemented.

    Every step: reset the Sobol engine and draw the same ``n_samples * num_bat`` points, assign
    all of them with a full pass over the N targets, take the cell-mass gradient
    (thesis eq. 1.8), one Adam step (beta 0.9/0.999, eps 1e-8, uniform target weights),
    re-centre h, and (when ``save_dir`` is given) write h and Adam's moments to disk as the
    published code does. ``num_bat`` doubles after ``patience`` steps without a smaller
    gradient norm; the published stop is |grad| < ``grad_stop`` = 2e-3 (0 disables it, e.g. to
    run to a given error). ``stop(h, step)`` may end the loop early (returns True). Returns heights and a log with per-step seconds and sample counts.
    """
    n = y.shape[0]
    h = torch.zeros(n, dtype=torch.float32)
    m = torch.zeros(n)
    v = torch.zeros(n)
    num_bat, best, bad = 1, float("inf"), 0
    log = {"seconds": [], "samples": [], "grad_norm": []}
    t0 = time.perf_counter()
    tmp = tempfile.mkdtemp(dir=save_dir) if save_dir else None
    for step in range(max_steps):
        engine = SobolSource(y.shape[1], source, seed)  # qrng.reset(): same points every step
        counts = torch.zeros(n)
        for _ in range(num_bat):
            x = engine.draw(n_samples)
            idx = topk_cells(x, y, h, 1)[1][:, 0]
            counts += torch.bincount(idx, minlength=n).float()
        g = counts / (n_samples * num_bat) - 1.0 / n
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        h = h - lr * m / (v.sqrt() + 1e-8)
        h = h - h.mean()
        g_norm = float(g.norm())
        if tmp:
            for name, t in (("h", h), ("adam_m", m), ("adam_v", v)):
                torch.save(t, os.path.join(tmp, f"{name}_{step}.pt"))
        log["seconds"].append(time.perf_counter() - t0)
        log["samples"].append(n_samples * num_bat)
        log["grad_norm"].append(g_norm)
        if g_norm < grad_stop or (stop is not None and stop(h, step)):
            break
        if g_norm <= best:
            best, bad = g_norm, 0
        else:
            bad += 1
        if bad > patience:
            num_bat, best, bad = num_bat * 2, float("inf"), 0
    return h, log


def pot_semi_dual_heights(
    y: torch.Tensor,
    n_source: int,
    reg: float,
    n_iter: int,
    seed: int = 0,
    source: str = "cube",
    lr: float | None = None,
) -> np.ndarray:
    """Heights from POT's averaged SGD on the entropic semi-dual (Genevay et al. 2016),
    ``ot.stochastic.averaged_sgd_entropic_transport``, between ``n_source`` source samples and
    the targets. With cost |x - y|^2 / 2 its dual variable beta gives h_j = beta_j - |y_j|^2 / 2.
    """
    import ot

    x = SobolSource(y.shape[1], source, seed).draw(n_source, dtype=torch.float64).numpy()
    yy = y.double().numpy()
    cost = ot.dist(x, yy) / 2
    # POT exponentiates -(M_ij - beta_j)/reg without a max-shift; subtracting each row's
    # minimum leaves the semi-dual's maximiser unchanged and keeps exp() finite.
    cost -= cost.min(axis=1, keepdims=True)
    # ... and it overflows once |beta_j - M_ij| / reg passes ~700: keep reg above the cost range / 100
    reg = max(reg, float(cost.max()) / 100)
    a = np.full(n_source, 1.0 / n_source)
    b = np.full(yy.shape[0], 1.0 / yy.shape[0])
    beta = ot.stochastic.averaged_sgd_entropic_transport(a, b, cost, reg, n_iter, lr=lr, random_state=seed)
    h = beta - 0.5 * (yy**2).sum(1)
    if not np.isfinite(h).all():
        raise FloatingPointError(f"POT's averaged SGD diverged (reg={reg:.3g}, {n_iter} iterations)")
    return h - h.mean()
