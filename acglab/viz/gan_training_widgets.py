"""Interactive view of toy-GAN training runs: generated samples over training steps, with the
modes they cover (see :mod:`acglab.theory.toy_gan` and :mod:`acglab.theory.ring`).

:func:`mode_collapse_explorer` returns an :class:`acglab.viz.gan_widgets.Explorer` whose one
slider picks a training snapshot; the figure shows, for every run side by side, the ring data,
a circle around each mode (the zone a sample must reach to count towards covering it) and the
generator's samples at that snapshot, and below them the number of modes covered against the
training step with a marker at the chosen snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from acglab.theory.densities import TheoryInputError
from acglab.theory.ring import sample_ring
from acglab.viz.gan_widgets import Explorer

if TYPE_CHECKING:  # the explorer only reads finished runs; training lives in acglab.theory
    from acglab.theory.toy_gan import ToyGANRun

RUN_COLORS = ("#d62728", "#2ca02c", "#ff7f0e", "#9467bd")


def _check_runs(runs: dict) -> np.ndarray:
    if not runs or len(runs) > len(RUN_COLORS):
        raise TheoryInputError(f"give between 1 and {len(RUN_COLORS)} runs, got {len(runs)}")
    steps = [np.asarray(r.steps) for r in runs.values()]
    if any(s.shape != steps[0].shape or np.any(s != steps[0]) for s in steps):
        raise TheoryInputError("runs must share their snapshot steps (same steps and snapshot_every)")
    return steps[0]


def _snapshot_line(name: str, run: ToyGANRun, k: int) -> str:
    top = float(np.max(run.shares[k]))
    return (
        f"<b>{name}</b>: {int(run.covered[k])}/{len(run.centers)} modes covered, "
        f"{100 * top:.0f}% of samples nearest one mode"
    )


def _add_ring_panels(fig: go.Figure, runs: dict[str, ToyGANRun], n_data: int) -> None:
    """Per run, in its own panel: the ring data, an empty trace for G(z) and a circle per mode."""
    for i, (name, run) in enumerate(runs.items()):
        cfg = run.config
        data, _ = sample_ring(n_data, cfg.n_modes, cfg.radius, cfg.std, rng=cfg.seed)
        fig.add_scatter(
            x=data[:, 0],
            y=data[:, 1],
            mode="markers",
            name="data",
            showlegend=i == 0,
            marker=dict(color="grey", size=3),
            row=1,
            col=i + 1,
        )
        fig.add_scatter(
            x=[],
            y=[],
            mode="markers",
            name=f"G(z): {name}",
            marker=dict(color=RUN_COLORS[i], size=3, opacity=0.6),
            row=1,
            col=i + 1,
        )
        zone = cfg.coverage_std * cfg.std
        for cx, cy in run.centers:
            fig.add_shape(
                type="circle",
                x0=cx - zone,
                y0=cy - zone,
                x1=cx + zone,
                y1=cy + zone,
                line=dict(color="black", width=1),
                row=1,
                col=i + 1,
            )


def _add_coverage_panel(fig: go.Figure, runs: dict[str, ToyGANRun], steps: np.ndarray) -> None:
    """The bottom panel: one modes-covered curve per run, then one snapshot marker per run."""
    for i, (name, run) in enumerate(runs.items()):
        fig.add_scatter(
            x=steps, y=run.covered, name=f"{name}: modes covered", line=dict(color=RUN_COLORS[i]), row=2, col=1
        )
    for i in range(len(runs)):
        fig.add_scatter(
            x=[0], y=[0], mode="markers", showlegend=False, marker=dict(color=RUN_COLORS[i], size=12), row=2, col=1
        )


def _mode_collapse_figure(runs: dict[str, ToyGANRun], steps: np.ndarray, n_data: int) -> go.Figure:
    """The figure of :func:`mode_collapse_explorer` before its first update (traces listed there)."""
    n = len(runs)
    specs = [[{} for _ in range(n)], [{"colspan": n}] + [None] * (n - 1)]
    fig = make_subplots(
        rows=2,
        cols=n,
        specs=specs,
        row_heights=[0.7, 0.3],
        vertical_spacing=0.12,
        subplot_titles=[*runs, "modes covered during training"],
    )
    reach = 1.5 * max(r.config.radius for r in runs.values())
    _add_ring_panels(fig, runs, n_data)
    _add_coverage_panel(fig, runs, steps)
    for i in range(n):
        fig.update_xaxes(range=[-reach, reach], row=1, col=i + 1)
        fig.update_yaxes(range=[-reach, reach], scaleanchor=f"x{i + 1}" if i else "x", row=1, col=i + 1)
    n_modes = max(len(r.centers) for r in runs.values())
    fig.update_yaxes(range=[-0.3, n_modes + 0.3], row=2, col=1)
    fig.update_xaxes(title_text="generator step", row=2, col=1)
    fig.update_layout(height=560, margin=dict(l=40, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.15))
    return fig


def _snapshot_slider(n_snapshots: int, snapshot: int | None) -> widgets.IntSlider:
    """The slider over snapshot indices, at ``snapshot`` (clipped) or the middle one."""
    last = n_snapshots - 1
    start = last // 2 if snapshot is None else min(max(int(snapshot), 0), last)
    return widgets.IntSlider(
        value=start,
        min=0,
        max=last,
        step=1,
        description="snapshot",
        continuous_update=True,
        layout=widgets.Layout(width="480px"),
    )


def mode_collapse_explorer(runs: dict[str, ToyGANRun], snapshot: int | None = None, n_data: int = 2000) -> Explorer:
    """Slider over training snapshots of one or more toy-GAN runs (dict name -> run).

    snapshot: initial snapshot index (default the middle one); n_data: ring samples drawn for
    the grey background. Circles mark each mode's coverage zone (radius ``coverage_std * std``).
    Traces, per run ``i`` (``i = 0, 1, ...``): ``2 i`` data, ``2 i + 1`` generated samples; then
    one modes-covered curve per run (``2 n + i``) and one marker per run (``3 n + i``).
    """
    steps = _check_runs(runs)
    n = len(runs)
    fig = _mode_collapse_figure(runs, steps, n_data)

    def update(ex: Explorer, v: dict) -> None:
        k = int(v["snapshot"])
        for i, (name, run) in enumerate(runs.items()):
            pts = run.samples[k]
            ex.figure.data[2 * i + 1].x = pts[:, 0]
            ex.figure.data[2 * i + 1].y = pts[:, 1]
            ex.figure.layout.annotations[i].text = f"{name}: {int(run.covered[k])}/{len(run.centers)} modes"
            marker = ex.figure.data[3 * n + i]
            marker.x, marker.y = [int(run.steps[k])], [int(run.covered[k])]
        lines = [_snapshot_line(name, run, k) for name, run in runs.items()]
        ex.readout.value = f"training step <b>{int(steps[k])}</b> of {int(steps[-1])}: " + " &nbsp;|&nbsp; ".join(lines)

    return Explorer({"snapshot": _snapshot_slider(len(steps), snapshot)}, fig, update)
