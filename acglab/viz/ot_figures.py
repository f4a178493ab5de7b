r"""Plotting helpers and static figures for the semi-discrete optimal transport notebook.

The source measure is the uniform measure :math:`\mu` on the square :math:`[-0.5, 0.5]^2` (AE-OT's
choice), the target :math:`\nu = \sum_i \nu_i \delta_{y_i}`. With heights :math:`h` the Brenier
potential is :math:`F(x) = \max_i \langle x, y_i\rangle + h_i` (thesis eq. 1.7); its power cells
:math:`W_i(h)` are drawn here by rasterising the argmax on a grid of pixel centres.

* drawing cells: :func:`compact_cell_indices`, :func:`cell_colorscale`, :func:`cell_colours`,
  :func:`cell_heatmap`, :func:`transport_segments`;
* static figures: :func:`power_diagram_figure`, :func:`brenier_surface_figure`,
  :func:`plan_comparison_figure`, :func:`kantorovich_plan_figure`.

The numbers come from :mod:`acglab.ot`: the raster of the cells and its masses
(:mod:`acglab.ot.raster`), the 1-D potential and its Legendre dual (:mod:`acglab.ot.potential_1d`),
exact discrete OT (:mod:`acglab.ot.discrete`) and the record of a fit
(:class:`acglab.ot.HeightRecorder`). The sliders built on these figures live in
:mod:`acglab.viz.ot_widgets`.
"""

from __future__ import annotations

import numpy as np
import plotly.colors as pcolors
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from acglab.ot.discrete import discrete_ot_plan, split_sources
from acglab.ot.power import assign, brenier_potential
from acglab.ot.raster import SQUARE, as_heights, cell_map, pixel_centres, planar_targets, raster_cell_masses
from acglab.ot.targets import OTInputError

TARGET_COLOR = "black"
ARROW_COLOR = "rgba(40, 40, 40, 0.75)"
_PALETTE = (
    pcolors.qualitative.Light24
    + pcolors.qualitative.Dark24
    + pcolors.qualitative.Alphabet
    + pcolors.qualitative.Pastel
    + pcolors.qualitative.Set3
)


# ---------------------------------------------------------------------------- drawing cells
def compact_cell_indices(cells: np.ndarray, n_targets: int) -> np.ndarray:
    """Cell indices in the smallest unsigned integer type that holds ``n_targets - 1`` (uint8 up to
    256 cells), so a 300 x 300 cell map travels to the browser as 90 kB instead of 720 kB."""
    return np.asarray(cells).astype(np.min_scalar_type(max(int(n_targets) - 1, 0)))


def cell_colorscale(n: int) -> list:
    """A plotly colorscale with ``n`` flat bands, one per cell index ``0..n-1`` (use with
    ``zmin=-0.5, zmax=n-0.5``). Colours come from plotly's qualitative palettes, cycled past 133."""
    if n < 1:
        raise OTInputError(f"need at least one cell, got {n}")
    scale = []
    for i in range(n):
        colour = _PALETTE[i % len(_PALETTE)]
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    return scale


def cell_colours(n: int) -> list[str]:
    """The colour of each cell index in :func:`cell_colorscale`."""
    return [_PALETTE[i % len(_PALETTE)] for i in range(n)]


def transport_segments(x: np.ndarray, tx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Line segments from each x to T(x), for one plotly scatter trace: x and tx (M, 2) ->
    xs, ys (3 M,), each segment ``start, end, NaN`` (the NaN breaks the line)."""
    x, tx = np.asarray(x, dtype=float), np.asarray(tx, dtype=float)
    gap = np.full(len(x), np.nan)
    xs = np.column_stack([x[:, 0], tx[:, 0], gap]).ravel()
    ys = np.column_stack([x[:, 1], tx[:, 1], gap]).ravel()
    return xs, ys


# ---------------------------------------------------------------------------- static figures
def _square_axes(fig: go.Figure, row: int = 1, col: int = 1, pad: float = 0.0, anchor: str = "x") -> None:
    fig.update_xaxes(range=[SQUARE[0] - pad, SQUARE[1] + pad], constrain="domain", row=row, col=col)
    fig.update_yaxes(range=[SQUARE[0] - pad, SQUARE[1] + pad], scaleanchor=anchor, row=row, col=col)


def cell_heatmap(axis: np.ndarray, cells: np.ndarray, n_targets: int, **kwargs) -> go.Heatmap:
    """A heatmap trace of a rasterised power diagram, one flat colour per cell."""
    return go.Heatmap(
        x=axis,
        y=axis,
        z=compact_cell_indices(cells, n_targets),
        zmin=-0.5,
        zmax=n_targets - 0.5,
        colorscale=cell_colorscale(n_targets),
        showscale=False,
        hovertemplate="x = %{x:.3f}<br>y = %{y:.3f}<br>cell %{z}<extra></extra>",
        **kwargs,
    )


def power_diagram_figure(targets, heights, resolution: int = 300, title: str = "") -> go.Figure:
    """The power cells of ``heights`` on the square, coloured by target, with the targets drawn
    on top (targets outside the square widen the view). targets: (N, 2), heights: (N,)."""
    y = planar_targets(targets)
    axis, _ = pixel_centres(resolution)
    cells = cell_map(y, heights, resolution)
    masses = raster_cell_masses(cells, len(y))
    fig = go.Figure(cell_heatmap(axis, cells, len(y)))
    fig.add_scatter(
        x=y[:, 0],
        y=y[:, 1],
        mode="markers",
        name="targets y_i",
        marker=dict(color=cell_colours(len(y)), size=9, line=dict(color=TARGET_COLOR, width=1.5)),
        customdata=masses,
        hovertemplate="target %{pointNumber}<br>cell mass %{customdata:.4f}<extra></extra>",
    )
    reach = max(0.5, float(np.abs(y).max()) + 0.05)
    fig.update_xaxes(range=[-reach, reach], constrain="domain")
    fig.update_yaxes(range=[-reach, reach], scaleanchor="x")
    fig.add_shape(type="rect", x0=-0.5, y0=-0.5, x1=0.5, y1=0.5, line=dict(color="black", width=1))
    title = title or f"power cells: {int((masses > 0).sum())} of {len(y)} non-empty"
    fig.update_layout(height=460, width=520, title=title, margin=dict(l=40, r=20, t=50, b=40), showlegend=False)
    return fig


def brenier_surface_figure(targets, heights, resolution: int = 80) -> go.Figure:
    r"""The Brenier potential :math:`F(x) = \max_i \langle x, y_i\rangle + h_i` (thesis eq. 1.7) as a
    3-D surface over the square, each flat facet coloured by its cell. Every facet is a piece of
    a plane with gradient :math:`y_i`, so :math:`\nabla F = T`, the transport map (Brenier)."""
    y = planar_targets(targets)
    h = as_heights(heights, y.shape[0])
    axis, points = pixel_centres(resolution)
    pts = torch.as_tensor(points, dtype=torch.float32)
    yt, ht = torch.as_tensor(y, dtype=torch.float32), torch.as_tensor(h, dtype=torch.float32)
    f = brenier_potential(pts, yt, ht).numpy().reshape(resolution, resolution)
    cells = assign(pts, yt, ht).numpy().reshape(resolution, resolution)
    fig = go.Figure(
        go.Surface(
            x=axis,
            y=axis,
            z=f,
            surfacecolor=cells,
            cmin=-0.5,
            cmax=len(y) - 0.5,
            colorscale=cell_colorscale(len(y)),
            showscale=False,
            hovertemplate="x = %{x:.2f}, y = %{y:.2f}<br>F = %{z:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        height=520,
        title="Brenier potential F(x) = max_i <x, y_i> + h_i",
        scene=dict(xaxis_title="x₁", yaxis_title="x₂", zaxis_title="F(x)", camera=dict(eye=dict(x=1.5, y=-1.5, z=1.0))),
        margin=dict(l=0, r=0, t=50, b=0),
    )
    return fig


def plan_comparison_figure(x, targets, emd_cells, power_cells, resolution: int = 300, heights=None) -> go.Figure:
    """Source samples coloured by the target the exact discrete plan (``ot.emd``) sends them to,
    next to the same samples coloured by their power cell; samples on which the two disagree are
    circled in both panels. x: (M, 2); emd_cells, power_cells: (M,) target indices; when
    ``heights`` is given the power diagram is drawn underneath the right panel."""
    y = planar_targets(targets)
    x = np.asarray(x, dtype=float)
    emd_cells, power_cells = np.asarray(emd_cells), np.asarray(power_cells)
    colours = np.array(cell_colours(len(y)))
    differ = np.flatnonzero(emd_cells != power_cells)
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.06,
        subplot_titles=(
            "exact discrete OT (ot.emd): argmax of each row of the plan",
            f"power cells of the fitted heights ({len(differ)} of {len(x)} differ)",
        ),
    )
    if heights is not None:
        axis, _ = pixel_centres(resolution)
        fig.add_trace(cell_heatmap(axis, cell_map(y, heights, resolution), len(y), opacity=0.35), row=1, col=2)
    for col, cells in ((1, emd_cells), (2, power_cells)):
        fig.add_scatter(
            x=x[:, 0],
            y=x[:, 1],
            mode="markers",
            showlegend=False,
            marker=dict(color=colours[cells], size=4),
            row=1,
            col=col,
        )
        fig.add_scatter(
            x=x[differ, 0],
            y=x[differ, 1],
            mode="markers",
            name="the two disagree",
            showlegend=col == 1,
            marker=dict(symbol="circle-open", color="black", size=10, line_width=1.5),
            row=1,
            col=col,
        )
        fig.add_scatter(
            x=y[:, 0],
            y=y[:, 1],
            mode="markers",
            name="targets",
            showlegend=col == 1,
            marker=dict(color=colours, size=10, symbol="diamond", line=dict(color=TARGET_COLOR, width=1.5)),
            row=1,
            col=col,
        )
        _square_axes(fig, 1, col, pad=0.02, anchor="x" if col == 1 else "x2")
    fig.update_layout(height=470, margin=dict(l=30, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.08))
    return fig


def kantorovich_plan_figure(problems: dict[str, tuple]) -> go.Figure:
    r"""One panel per discrete OT problem ``name -> (x (M, 2), a (M,), y (N, 2), b (N,))``: the
    optimal plan of :func:`discrete_ot_plan` drawn as segments whose width is proportional to the
    mass :math:`P_{ki}` they carry; sources (circles) and targets (squares) are sized by mass and
    sources whose mass is split (no Monge map can do that) are drawn red."""
    names = list(problems)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.08)
    for col, name in enumerate(names, start=1):
        x, a, y, b = (np.asarray(v, dtype=float) for v in problems[name])
        plan, cost = discrete_ot_plan(x, a, y, b)
        split = set(split_sources(plan).tolist())
        k_idx, i_idx = np.nonzero(plan > 1e-12)
        widest = plan.max()
        for k, i in zip(k_idx, i_idx):
            fig.add_scatter(
                x=[x[k, 0], y[i, 0]],
                y=[x[k, 1], y[i, 1]],
                mode="lines",
                showlegend=False,
                line=dict(color="#d62728" if k in split else "#7f7f7f", width=1 + 10 * plan[k, i] / widest),
                hovertemplate=f"mass {plan[k, i]:.3f}<extra></extra>",
                row=1,
                col=col,
            )
        fig.add_scatter(
            x=x[:, 0],
            y=x[:, 1],
            mode="markers+text",
            name="sources",
            showlegend=col == 1,
            text=[f"{m:.2f}" for m in a],
            textposition="middle left",
            marker=dict(
                size=12 + 40 * np.sqrt(a), color=["#d62728" if k in split else "#1f77b4" for k in range(len(x))]
            ),
            row=1,
            col=col,
        )
        fig.add_scatter(
            x=y[:, 0],
            y=y[:, 1],
            mode="markers+text",
            name="targets",
            showlegend=col == 1,
            text=[f"{m:.2f}" for m in b],
            textposition="middle right",
            marker=dict(size=12 + 40 * np.sqrt(b), symbol="square", color="#2ca02c"),
            row=1,
            col=col,
        )
        fig.layout.annotations[col - 1].text = f"{name}<br>cost {cost:.4f}, {len(split)} source(s) split"
        fig.update_xaxes(visible=False, row=1, col=col)
        fig.update_yaxes(visible=False, row=1, col=col)
    fig.update_layout(height=380, margin=dict(l=20, r=20, t=70, b=20), legend=dict(orientation="h", y=-0.05))
    return fig
