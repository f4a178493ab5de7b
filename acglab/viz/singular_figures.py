r"""Static figures of the singular-set notebook, and the figures of its explorers before their first
update (the explorers live in :mod:`acglab.viz.singular_widgets`).

* the explorers' figures: :func:`_singular_set_figure` (the power cells of a 2-D problem, their
  regular and singular faces and the map along a probe), :func:`_generation_figure` (AE-OT
  samples against naive ones) and :func:`_digit_figure` (decoded codes and the dihedral angles of
  neighbouring cells);
* image grids: :func:`tile_images`, :func:`digit_grid_figure`;
* topology and embeddings: :func:`component_gap_figure`, :func:`embedding_with_generated_figure`.

The numbers come from :mod:`acglab.ot` and :mod:`acglab.topology`; this module only draws them.
"""

from __future__ import annotations

import numpy as np
import plotly.colors as pcolors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from acglab.ot.targets import OTInputError
from acglab.topology import embedding_figure, merge_heights

LABEL_COLORS = pcolors.qualitative.Plotly  # 10 colours, one per digit
SINGULAR_COLOR = "#d62728"
REGULAR_COLOR = "rgba(90, 90, 90, 0.7)"
#: value of the pixels between tiled images (drawn light blue, below the grey levels 0..1)
GAP_VALUE = -0.1 / 0.9


def _label_colors(codes: np.ndarray) -> list[str]:
    return [LABEL_COLORS[c % len(LABEL_COLORS)] for c in codes]


# ---------------------------------------------------------------------------- the singular set
def _cell_colorscale(n_labels: int) -> list:
    """A colour scale giving each cell label ``0..n_labels-1`` its label colour."""
    colors = _label_colors(np.arange(n_labels))
    return [[k / (n_labels - 1), c] for k, c in enumerate(colors)] if n_labels > 1 else [[0, colors[0]], [1, colors[0]]]


def _add_source_panel(fig: go.Figure, axis: np.ndarray, cell_labels: np.ndarray, n_labels: int, probe: tuple) -> None:
    """Traces 0-4 of :func:`_singular_set_figure`: cells, regular and singular faces, probe, x(t)."""
    start, end = probe
    fig.add_trace(
        go.Heatmap(
            x=axis,
            y=axis,
            z=cell_labels,
            zmin=0,
            zmax=max(n_labels - 1, 1),
            colorscale=_cell_colorscale(n_labels),
            opacity=0.3,
            showscale=False,
            hoverinfo="skip",
            name="cells",
        ),
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=[], y=[], mode="markers", name="regular face", marker=dict(color=REGULAR_COLOR, size=2), row=1, col=1
    )
    fig.add_scatter(
        x=[], y=[], mode="markers", name="singular face", marker=dict(color=SINGULAR_COLOR, size=3), row=1, col=1
    )
    fig.add_scatter(
        x=[start[0], end[0]],
        y=[start[1], end[1]],
        mode="lines",
        name="probe",
        line=dict(color="black", dash="dash"),
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=[start[0]],
        y=[start[1]],
        mode="markers",
        name="x(t)",
        showlegend=False,
        marker=dict(color="black", size=12, symbol="x"),
        row=1,
        col=1,
    )


def _add_target_panel(fig: go.Figure, y: np.ndarray, lab: np.ndarray, path_y: np.ndarray) -> None:
    """Traces 5-7 of :func:`_singular_set_figure`: targets, T along the probe, T(x(t))."""
    fig.add_scatter(
        x=y[:, 0],
        y=y[:, 1],
        mode="markers",
        name="targets",
        showlegend=False,
        marker=dict(color=_label_colors(lab), size=5),
        row=1,
        col=2,
    )
    fig.add_scatter(
        x=path_y[:, 0],
        y=path_y[:, 1],
        mode="lines",
        name="T along the probe",
        line=dict(color="black", width=1),
        row=1,
        col=2,
    )
    fig.add_scatter(
        x=[path_y[0, 0]],
        y=[path_y[0, 1]],
        mode="markers",
        name="T(x(t))",
        showlegend=False,
        marker=dict(color="black", size=14, symbol="star"),
        row=1,
        col=2,
    )


def _singular_set_figure(
    axis: np.ndarray,
    cell_labels: np.ndarray,
    y: np.ndarray,
    lab: np.ndarray,
    probe: tuple,
    path_y: np.ndarray,
    reach: float,
) -> go.Figure:
    """The figure of :func:`~acglab.viz.singular_widgets.singular_set_explorer` before its first
    update (traces listed there): ``cell_labels`` (R, R) the label of each pixel's cell, ``probe``
    (start, end), ``path_y`` the image of the probe."""
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.08,
        subplot_titles=("source: power cells and their faces", "targets: x(t) ↦ T(x(t))"),
    )
    _add_source_panel(fig, axis, cell_labels, int(lab.max()) + 1, probe)
    _add_target_panel(fig, y, lab, path_y)
    fig.update_xaxes(range=[-reach, reach], row=1, col=1)
    fig.update_yaxes(range=[-reach, reach], scaleanchor="x", row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", row=1, col=2)
    fig.update_layout(height=480, margin=dict(l=40, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.12))
    return fig


# ---------------------------------------------------------------------------- generation in the plane
def _generation_figure(y: np.ndarray) -> go.Figure:
    """The figure of :func:`~acglab.viz.singular_widgets.generation_explorer` before its first
    update (traces listed there): the targets ``y`` (N, 2) and an empty sample trace per panel."""
    titles = ("AE-OT (regular faces only)", "random pairs, same w", "Gaussian fitted to the targets")
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.05, subplot_titles=titles)
    for col in (1, 2, 3):
        fig.add_scatter(
            x=y[:, 0],
            y=y[:, 1],
            mode="markers",
            name="targets",
            showlegend=col == 1,
            marker=dict(color="lightgrey", size=5),
            row=1,
            col=col,
        )
        fig.add_scatter(
            x=[], y=[], mode="markers", name="generated", showlegend=col == 1, marker=dict(size=4), row=1, col=col
        )
    reach = 1.15 * float(np.abs(y).max())
    for col in (1, 2, 3):
        fig.update_xaxes(range=[-reach, reach], row=1, col=col)
        fig.update_yaxes(range=[-reach, reach], scaleanchor="x" if col == 1 else f"x{col}", row=1, col=col)
    fig.update_layout(height=420, margin=dict(l=30, r=20, t=60, b=30), legend=dict(orientation="h", y=-0.12))
    return fig


# ---------------------------------------------------------------------------- digits
def tile_images(images, columns: int = 10, gap: int = 1, fill: float = GAP_VALUE) -> np.ndarray:
    """Images (n, h, w) laid out in rows of ``columns``, ``gap`` pixels of value ``fill`` between
    them and in empty slots, the first image top left. Returns an array
    (rows (h + gap) - gap, columns (w + gap) - gap). The default fill is a finite value drawn in
    a colour of its own (NaN would not survive the JSON messages of a ``FigureWidget``)."""
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim != 3 or imgs.shape[0] < 1:
        raise OTInputError(f"images must have shape (n, h, w) with n >= 1, got {imgs.shape}")
    n, h, w = imgs.shape
    cols = max(1, min(int(columns), n))
    rows = -(-n // cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), float(fill))
    for idx in range(n):
        r, c = divmod(idx, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = imgs[idx]
    return out


def _image_heatmap(tiled: np.ndarray) -> go.Heatmap:
    """Grey levels 0 (white) to 1 (black); the gap value below 0 is light blue."""
    scale = [[0.0, "#dbe9f6"], [0.0999, "#dbe9f6"], [0.1, "white"], [1.0, "black"]]
    return go.Heatmap(z=tiled, colorscale=scale, zmin=GAP_VALUE, zmax=1, showscale=False, hoverinfo="skip")


def _image_axes(fig: go.Figure, row: int, col: int) -> None:
    """Hide the axes of an image panel and keep its pixels square, first row on top."""
    x_name = fig.get_subplot(row, col).xaxis.plotly_name.replace("axis", "")
    fig.update_xaxes(visible=False, constrain="domain", row=row, col=col)
    fig.update_yaxes(
        visible=False, autorange="reversed", scaleanchor=x_name, scaleratio=1, constrain="domain", row=row, col=col
    )


def digit_grid_figure(panels: dict[str, np.ndarray], columns: int = 10, height: int | None = None) -> go.Figure:
    """Grids of images (name -> (n, h, w) in [0, 1]), one panel per row, ``columns`` per grid row."""
    if not panels:
        raise OTInputError("give at least one panel of images")
    fig = make_subplots(rows=len(panels), cols=1, subplot_titles=list(panels), vertical_spacing=0.08)
    for row, images in enumerate(panels.values(), start=1):
        fig.add_trace(_image_heatmap(tile_images(images, columns)), row=row, col=1)
        _image_axes(fig, row, 1)
    fig.update_layout(height=height or 170 * len(panels) + 40, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def _digit_figure(angles: np.ndarray, same: np.ndarray, threshold: float) -> tuple[go.Figure, float]:
    """The figure of :func:`~acglab.viz.singular_widgets.digit_generation_explorer` before its
    first update (traces listed there), and the height its threshold line reaches (the highest
    histogram bar, plus 5%)."""
    fig = make_subplots(
        rows=2,
        cols=2,
        row_heights=[0.5, 0.5],
        vertical_spacing=0.14,
        horizontal_spacing=0.04,
        specs=[[{}, {}], [{"colspan": 2}, None]],
        subplot_titles=("AE-OT codes, decoded", "random pairs, decoded", "dihedral angles of neighbouring cells"),
    )
    blank = np.zeros((8, 8))
    fig.add_trace(_image_heatmap(blank), row=1, col=1)
    fig.add_trace(_image_heatmap(blank), row=1, col=2)
    _image_axes(fig, 1, 1)
    _image_axes(fig, 1, 2)
    bins = dict(start=0.0, end=float(max(angles.max(initial=0.0), threshold)) + 0.05, size=0.025)
    fig.add_trace(
        go.Histogram(x=angles[same], name="same digit", xbins=bins, marker_color="#2ca02c", opacity=0.7), row=2, col=1
    )
    fig.add_trace(
        go.Histogram(x=angles[~same], name="different digits", xbins=bins, marker_color=SINGULAR_COLOR, opacity=0.7),
        row=2,
        col=1,
    )
    fig.add_scatter(
        x=[threshold, threshold], y=[0, 1], mode="lines", name="θ", line=dict(color="black", dash="dash"), row=2, col=1
    )
    fig.update_layout(
        barmode="overlay", height=560, margin=dict(l=40, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.12)
    )
    fig.update_xaxes(title_text="angle (rad)", row=2, col=1)
    counts = np.histogram(angles, bins=np.arange(bins["start"], bins["end"] + bins["size"], bins["size"]))[0]
    return fig, float(counts.max(initial=1)) * 1.05


# ---------------------------------------------------------------------------- topology and embeddings
def component_gap_figure(h0_bars: dict[str, np.ndarray], title: str = "H0 merge heights") -> go.Figure:
    """The finite :math:`H_0` death times of each point cloud (name -> bars (n, 2)), sorted
    decreasingly (:func:`acglab.topology.merge_heights`) against their rank, on a log scale
    (zero heights left out): a cloud of K well-separated components has K - 1 long merges
    followed by a drop (the gap read by :func:`acglab.topology.largest_h0_gap`)."""
    fig = go.Figure()
    for name, bars in h0_bars.items():
        deaths = merge_heights(np.asarray(bars, dtype=np.float64).reshape(-1, 2))
        deaths = deaths[deaths > 0]
        fig.add_scatter(x=np.arange(1, len(deaths) + 1), y=deaths, mode="lines+markers", name=name, marker=dict(size=4))
    fig.update_layout(
        title=title,
        height=380,
        xaxis=dict(title="rank of the merge (largest first)", type="log"),
        yaxis=dict(title="scale at which two components merge", type="log"),
    )
    return fig


def embedding_with_generated_figure(
    embedding,
    labels,
    generated_embedding,
    label_names: dict | None = None,
    title: str = "codes and generated codes",
    generated_name: str = "AE-OT codes",
) -> go.Figure:
    """A 2-D or 3-D embedding of codes coloured by label (:func:`acglab.topology.embedding_figure`)
    with generated codes (m, 2 or 3), embedded together with them, overlaid in black."""
    fig = embedding_figure(embedding, labels, label_names=label_names, title=title, marker_size=2.5)
    gen = np.asarray(generated_embedding, dtype=np.float64)
    if gen.ndim != 2 or gen.shape[1] != np.asarray(embedding).shape[1]:
        raise OTInputError(
            f"generated_embedding must have shape (m, {np.asarray(embedding).shape[1]}), got {gen.shape}"
        )
    style = dict(mode="markers", name=generated_name, marker=dict(color="black", size=2.5, symbol="diamond"))
    if gen.shape[1] == 3:
        fig.add_trace(go.Scatter3d(x=gen[:, 0], y=gen[:, 1], z=gen[:, 2], **style))
    else:
        fig.add_trace(go.Scatter(x=gen[:, 0], y=gen[:, 1], **style))
    fig.update_layout(height=600, margin=dict(l=0, r=0, t=40, b=0))
    return fig
