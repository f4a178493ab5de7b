r"""Interactive figures for the semi-discrete optimal transport notebook: sliders that update plotly
figures in place.

Each builder returns an :class:`acglab.viz.gan_widgets.Explorer` (an ``ipywidgets.VBox`` with its
sliders, a one-line readout and a ``plotly.graph_objects.FigureWidget``); the sliders are
``explorer.sliders[name]`` and the figure ``explorer.figure``, so code and tests can set
``slider.value`` and read the traces.

* :func:`power_diagram_explorer` -- a slider over the steps of :meth:`SemiDiscreteOT.fit`
  (recorded by :class:`acglab.ot.HeightRecorder`): the power cells on the square with
  a few arrows :math:`x \to T(x)`, the cell masses against the target weights, and the
  relative mass error with a marker at the step (the gradient of thesis eq. 1.8 going to zero).
* :func:`brenier_1d_explorer` -- one slider per height in one dimension: the Brenier potential
  :math:`F(x) = \max_i x y_i + h_i` (thesis eq. 1.7) with its cells, and its Legendre dual, the
  lower convex envelope of the points :math:`(y_i, -h_i)`.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from acglab.ot.potential_1d import brenier_potential_1d, legendre_transform_1d
from acglab.ot.power import ot_map
from acglab.ot.raster import as_heights, cell_map, pixel_centres, planar_targets, raster_cell_masses
from acglab.ot.solver import relative_mass_errors
from acglab.ot.sources import source_sample
from acglab.ot.targets import OTInputError, as_weights
from acglab.viz.gan_widgets import Explorer
from acglab.viz.ot_figures import (
    ARROW_COLOR,
    TARGET_COLOR,
    cell_colours,
    cell_heatmap,
    compact_cell_indices,
    transport_segments,
)

ERROR_COLOR = "#d62728"
MAX_1D_TARGETS = 8
LOG_TICKS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100]


def _weights(weights, n: int) -> np.ndarray:
    """Target weights (n,) float64 (uniform when None), validated by :func:`acglab.ot.targets.as_weights`."""
    return as_weights(None if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1), n).numpy()


def _add_cell_panel(fig: go.Figure, y: np.ndarray, tails: np.ndarray, axis: np.ndarray, colours: list) -> None:
    """Traces 0-3 of :func:`_power_diagram_figure`: the cell map, the arrows, their tails, the targets."""
    n = len(y)
    fig.add_trace(cell_heatmap(axis, np.zeros((len(axis), len(axis)), dtype=int), n), row=1, col=1)
    fig.add_scatter(
        x=[],
        y=[],
        mode="lines",
        name="x → T(x)",
        line=dict(color=ARROW_COLOR, width=1.2),
        hoverinfo="skip",
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=tails[:, 0],
        y=tails[:, 1],
        mode="markers",
        name="samples x",
        marker=dict(color="white", size=5, line=dict(color=ARROW_COLOR, width=1)),
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=y[:, 0],
        y=y[:, 1],
        mode="markers",
        name="targets y_i",
        marker=dict(color=colours, size=9, line=dict(color=TARGET_COLOR, width=1.5)),
        row=1,
        col=1,
    )


def _add_mass_panel(fig: go.Figure, w: np.ndarray, colours: list) -> None:
    """Traces 4-5 of :func:`_power_diagram_figure`: the cell-mass bars and the target weights."""
    n = len(w)
    fig.add_bar(x=np.arange(n), y=np.zeros(n), name="μ(W_i)", marker_color=colours, row=1, col=2)
    fig.add_scatter(
        x=np.arange(n),
        y=w,
        mode="markers",
        name="ν_i",
        marker=dict(symbol="line-ew-open", color="black", size=max(6, 300 // n), line=dict(width=2.5)),
        row=1,
        col=2,
    )


def _add_error_panel(fig: go.Figure, steps: np.ndarray, errors: np.ndarray, tol: float | None) -> None:
    """Traces 6-8 of :func:`_power_diagram_figure`: the error curve, the tolerance, the step marker."""
    fig.add_scatter(x=steps, y=errors, mode="lines", name="error", line=dict(color=ERROR_COLOR), row=2, col=2)
    fig.add_scatter(
        x=[steps[0], steps[-1]] if tol is not None else [],
        y=[tol, tol] if tol is not None else [],
        mode="lines",
        name="tol",
        line=dict(color="grey", dash="dash"),
        row=2,
        col=2,
    )
    fig.add_scatter(
        x=[steps[0]],
        y=[errors[0]],
        mode="markers",
        name="this step",
        showlegend=False,
        marker=dict(color=ERROR_COLOR, size=11),
        row=2,
        col=2,
    )


def _power_diagram_figure(
    y: np.ndarray,
    w: np.ndarray,
    tails: np.ndarray,
    axis: np.ndarray,
    steps: np.ndarray,
    errors: np.ndarray,
    tol: float | None,
):
    """The empty figure of :func:`power_diagram_explorer` (its traces are listed there)."""
    n = len(y)
    colours = cell_colours(n)
    fig = make_subplots(
        rows=2,
        cols=2,
        specs=[[{"rowspan": 2}, {}], [None, {}]],
        column_widths=[0.55, 0.45],
        horizontal_spacing=0.1,
        vertical_spacing=0.16,
        subplot_titles=("power cells W_i(h) and x → T(x)", "cell mass μ(W_i) vs weight ν_i", "max relative mass error"),
    )
    _add_cell_panel(fig, y, tails, axis, colours)
    _add_mass_panel(fig, w, colours)
    _add_error_panel(fig, steps, errors, tol)
    reach = max(0.5, float(np.abs(y).max()) + 0.05)
    fig.update_xaxes(range=[-reach, reach], constrain="domain", row=1, col=1)
    fig.update_yaxes(range=[-reach, reach], scaleanchor="x", row=1, col=1)
    fig.add_shape(type="rect", x0=-0.5, y0=-0.5, x1=0.5, y1=0.5, line=dict(color="black", width=1), row=1, col=1)
    fig.update_xaxes(title_text="target i", row=1, col=2)
    fig.update_yaxes(range=[0, 3.0 * float(w.max())], row=1, col=2)
    fig.update_xaxes(title_text="step", row=2, col=2)
    fig.update_yaxes(type="log", tickvals=LOG_TICKS, row=2, col=2)
    fig.update_layout(
        height=560, width=980, margin=dict(l=40, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.1), bargap=0.15
    )
    return fig


def power_diagram_explorer(
    targets,
    recorder,
    weights=None,
    tol: float | None = None,
    resolution: int = 300,
    n_arrows: int = 40,
    step: int | None = None,
    seed: int = 0,
) -> Explorer:
    r"""Slider over the recorded optimisation steps of a 2-D semi-discrete OT fit.

    targets: (N, 2); recorder: a :class:`~acglab.ot.HeightRecorder` passed as the fit's
    ``callback`` (heights (S, N) and records); weights: (N,) target weights (uniform when None);
    tol: the fit's tolerance, drawn as a line; resolution: pixels per side of the cell map;
    n_arrows: source samples (a fixed Sobol set, ``seed``) drawn with their arrow to
    :math:`T(x) = y_{\arg\max_i \langle x, y_i\rangle + h_i}`; step: initial slider position
    (default the first step).

    Left: the power cells (thesis eq. 1.7), the arrows and the targets. Top right: the cell
    masses :math:`\mu(W_i)` from the pixel count (bars) against :math:`\nu_i` (dashes). Bottom
    right: the maximum relative mass error :math:`\max_i |\mu(W_i) - \nu_i| / \nu_i` of every step
    (as the solver measured it), the tolerance and a marker at the chosen step.
    Traces: 0 cell map, 1 arrows, 2 arrow tails, 3 targets, 4 mass bars, 5 weights, 6 error
    curve, 7 tolerance, 8 step marker.
    """
    y = planar_targets(targets)
    n = len(y)
    w = _weights(weights, n)
    heights = np.asarray(recorder.heights, dtype=np.float64)
    if heights.ndim != 2 or heights.shape[1] != n or len(heights) == 0:
        raise OTInputError(f"the recorder holds no heights for {n} targets (pass it as fit(callback=recorder))")
    steps, errors = recorder.steps, recorder.errors
    axis, _ = pixel_centres(resolution)
    tails = source_sample("cube", n_arrows, 2, seed=seed)
    y_t = torch.as_tensor(y, dtype=torch.float32)
    fig = _power_diagram_figure(y, w, tails.numpy(), axis, steps, errors, tol)

    def update(ex: Explorer, v: dict) -> None:
        k = int(v["step"])
        h = heights[k]
        cells = cell_map(y, h, resolution)
        masses = raster_cell_masses(cells, n)
        ends = ot_map(tails, y_t, torch.as_tensor(h, dtype=torch.float32)).numpy()
        xs, ys = transport_segments(tails.numpy(), ends)
        ex.figure.data[0].z = compact_cell_indices(cells, n)
        ex.figure.data[1].x, ex.figure.data[1].y = xs, ys
        ex.figure.data[4].y = masses
        ex.figure.data[8].x, ex.figure.data[8].y = [int(steps[k])], [float(errors[k])]
        empty = int((masses == 0).sum())
        raster_error = float(relative_mass_errors(torch.as_tensor(masses), torch.as_tensor(w)).max())
        ex.readout.value = (
            f"step <b>{int(steps[k])}</b> of {int(steps[-1])} &nbsp;|&nbsp; "
            f"max relative error (solver's samples) <b>{errors[k]:.3f}</b>, "
            f"(pixels) {raster_error:.3f} &nbsp;|&nbsp; empty cells {empty} of {n} "
            f"&nbsp;|&nbsp; samples in use {recorder.records[k].samples}"
        )

    last = len(heights) - 1
    start = 0 if step is None else min(max(int(step), 0), last)
    slider = widgets.IntSlider(
        value=start,
        min=0,
        max=last,
        step=1,
        description="step",
        continuous_update=True,
        layout=widgets.Layout(width="520px"),
    )
    return Explorer({"step": slider}, fig, update)


def _brenier_1d_figure(x: np.ndarray, p: np.ndarray, y: np.ndarray, h0: np.ndarray, x_range: tuple[float, float]):
    """The empty figure of :func:`brenier_1d_explorer` (its traces are listed there)."""
    n = len(y)
    colours = cell_colours(n)
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.08,
        subplot_titles=("F(x) = max_i x y_i + h_i and its cells", "Legendre dual F*(p) and the points (y_i, -h_i)"),
    )
    for i in range(n):
        fig.add_scatter(
            x=x,
            y=np.zeros_like(x),
            mode="lines",
            name=f"x y_{i} + h_{i}",
            showlegend=False,
            line=dict(color=colours[i], dash="dash", width=1),
            row=1,
            col=1,
        )
    fig.add_scatter(x=x, y=np.zeros_like(x), mode="lines", name="F(x)", line=dict(color="black", width=3), row=1, col=1)
    for i in range(n):
        fig.add_scatter(
            x=[],
            y=[],
            mode="lines",
            name=f"cell {i}",
            showlegend=False,
            line=dict(color=colours[i], width=10),
            row=1,
            col=1,
        )
    fig.add_scatter(
        x=p, y=np.zeros_like(p), mode="lines", name="F*(p)", line=dict(color="black", width=3), row=1, col=2
    )
    fig.add_scatter(
        x=y,
        y=-h0,
        mode="markers",
        name="(y_i, -h_i)",
        marker=dict(color=colours, size=12, line=dict(color="black", width=1)),
        row=1,
        col=2,
    )
    fig.add_vrect(x0=-0.5, x1=0.5, fillcolor="grey", opacity=0.12, line_width=0, row=1, col=1)
    fig.update_xaxes(title_text="x", range=list(x_range), row=1, col=1)
    fig.update_xaxes(title_text="p", row=1, col=2)
    fig.update_layout(height=420, width=960, margin=dict(l=40, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.2))
    return fig


def brenier_1d_explorer(
    y, heights, weights=None, x_range: tuple[float, float] = (-1.0, 1.0), height_range: float = 0.3, n_grid: int = 2001
) -> Explorer:
    r"""One slider per height :math:`h_i` of a 1-D semi-discrete problem (at most 8 targets).

    y: (N,) target positions; heights: (N,) initial heights (e.g. the fitted ones); weights:
    (N,) target weights for the readout (uniform when None); each slider moves its height within
    ``± height_range`` of the initial value; x_range: the drawn x interval (the source is
    :math:`U[-0.5, 0.5]`, shaded).

    Left: the affine pieces :math:`x y_i + h_i` (dashed, cell colours) and their maximum
    :math:`F(x)` (thesis eq. 1.7), with each cell's extent marked under the curve. Right: the
    Legendre dual :math:`F^*(p) = \max_x p x - F(x)` for p between the smallest and largest
    :math:`y_i` (:func:`acglab.ot.legendre_transform_1d` on the x grid) and the
    points :math:`(y_i, -h_i)`: the dual is their lower convex envelope, and a point lifted above
    it has an empty cell. The readout compares the cell lengths inside the source with the weights.
    Traces: 0..N-1 pieces, N F, N+1..2N cell extents, 2N+1 dual, 2N+2 points.
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = len(y)
    if not 2 <= n <= MAX_1D_TARGETS:
        raise OTInputError(f"the 1-D explorer draws 2 to {MAX_1D_TARGETS} targets, got {n}")
    h0 = as_heights(heights, n)
    w = _weights(weights, n)
    x = np.linspace(x_range[0], x_range[1], n_grid)
    inside = (np.arange(4000) + 0.5) / 4000 - 0.5  # midpoints of the source interval
    p = np.linspace(y.min(), y.max(), 401)
    fig = _brenier_1d_figure(x, p, y, h0, x_range)
    f0, _ = brenier_potential_1d(x, y, h0)
    bottom = float(f0.min()) - height_range - 0.1  # the cell bands are drawn at this height
    fig.update_yaxes(range=[bottom - 0.05, float(f0.max()) + height_range], row=1, col=1)

    def update(ex: Explorer, v: dict) -> None:
        h = np.array([v[f"h{i}"] for i in range(n)])
        f, cells = brenier_potential_1d(x, y, h)
        _, cells_inside = brenier_potential_1d(inside, y, h)
        lengths = raster_cell_masses(cells_inside, n)
        for i in range(n):
            ex.figure.data[i].y = x * y[i] + h[i]
            xi = x[cells == i]
            band = ex.figure.data[n + 1 + i]
            band.x, band.y = ([xi[0], xi[-1]], [bottom, bottom]) if len(xi) else ([], [])
        ex.figure.data[n].y = f
        ex.figure.data[2 * n + 1].y = legendre_transform_1d(x, f, p)
        ex.figure.data[2 * n + 2].y = -h
        parts = [f"cell {i}: {lengths[i]:.3f} (ν = {w[i]:.3f})" for i in range(n)]
        ex.readout.value = "cell lengths in [-0.5, 0.5]: " + " &nbsp;|&nbsp; ".join(parts)

    sliders = {
        f"h{i}": widgets.FloatSlider(
            value=float(h0[i]),
            min=float(h0[i] - height_range),
            max=float(h0[i] + height_range),
            step=0.005,
            description=f"h_{i}",
            continuous_update=True,
            readout_format=".3f",
            layout=widgets.Layout(width="250px"),
        )
        for i in range(n)
    }
    explorer = Explorer(sliders, fig, update)
    explorer.children[0].layout.flex_flow = "row wrap"
    return explorer
