"""Static figures of notebook 04, and the figure of its path walk before the first update (the
explorers live in :mod:`acglab.viz.interpolation_widgets`).

* :func:`_path_figure` -- the empty traces of :func:`~acglab.viz.interpolation_widgets.path_explorer`:
  the decoded faces, the codes' principal plane with the singular set and the three paths, and
  along the paths the distance to the nearest training code, the sharpness and P(fake);
* :func:`paths_3d_figure` -- the same paths and singular faces in the codes' 3 principal axes;
* :func:`law_table_html` -- the evidence for the three paths as an HTML table;
* :func:`angle_histogram` -- the dihedral angles of neighbouring cells with the threshold.

All numbers come from :mod:`acglab.eval.interpolation`; this module only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

PATH_COLOURS = {"linear": "#1f77b4", "spherical": "#2ca02c", "ot": "#ff7f0e"}
SINGULAR_COLOUR = "#d62728"


def _projected_segments(projection, codes: np.ndarray, pairs: np.ndarray, limit: int, seed: int = 0):
    """x, y (and z) of ``pairs`` as line pieces separated by NaN, at most ``limit`` of them."""
    if len(pairs) > limit:
        pairs = pairs[np.random.default_rng(seed).choice(len(pairs), limit, replace=False)]
    width = projection(codes[:1]).shape[1]
    if len(pairs) == 0:
        return np.zeros((0, width))
    ends = projection(codes[pairs.ravel()]).reshape(len(pairs), 2, width)
    pieces = np.concatenate([ends, np.full((len(pairs), 1, ends.shape[2]), np.nan)], axis=1).reshape(-1, ends.shape[2])
    return pieces


def _path_subplots() -> go.Figure:
    """The five empty panels of :func:`_path_figure`: decoded faces and codes above, three curves below."""
    return make_subplots(
        rows=2,
        cols=3,
        specs=[[{"colspan": 2}, None, {}], [{}, {}, {}]],
        row_heights=[0.58, 0.42],
        vertical_spacing=0.12,
        horizontal_spacing=0.07,
        subplot_titles=(
            "decoded faces: straight | spherical | OT-aware",
            "codes (2 principal axes), singular faces in red",
            "distance to the nearest training code",
            "sharpness (Laplacian variance)",
            "detector P(fake)",
        ),
    )


def _add_code_traces(fig: go.Figure, codes_xy: np.ndarray, kinds: Sequence[str], names: dict) -> None:
    """The codes panel's traces: training codes, singular faces, then per kind the path line, its
    off-segment points and its current point."""
    fig.add_scatter(
        x=codes_xy[:, 0],
        y=codes_xy[:, 1],
        mode="markers",
        name="training codes",
        marker=dict(color="rgba(120,120,120,0.35)", size=3),
        row=1,
        col=3,
    )
    fig.add_scatter(
        x=[],
        y=[],
        mode="lines",
        name="singular faces",
        line=dict(color=SINGULAR_COLOUR, width=0.6),
        opacity=0.35,
        row=1,
        col=3,
    )
    for kind in kinds:
        c = PATH_COLOURS[kind]
        fig.add_scatter(
            x=[], y=[], mode="lines", name=names[kind], line=dict(color=c, width=2.5), legendgroup=kind, row=1, col=3
        )
        fig.add_scatter(
            x=[],
            y=[],
            mode="markers",
            name=f"{names[kind]}: off the AE-OT segments",
            marker=dict(color=SINGULAR_COLOUR, symbol="x", size=6),
            legendgroup=kind,
            showlegend=False,
            row=1,
            col=3,
        )
        fig.add_scatter(
            x=[],
            y=[],
            mode="markers",
            marker=dict(color=c, size=13, line=dict(color="black", width=1)),
            legendgroup=kind,
            showlegend=False,
            row=1,
            col=3,
        )


def _add_curve_traces(fig: go.Figure, kinds: Sequence[str]) -> None:
    """The curve panels' traces: per panel one line per kind, then one position marker per panel."""
    for column in (1, 2, 3):
        for kind in kinds:
            fig.add_scatter(
                x=[],
                y=[],
                mode="lines",
                line=dict(color=PATH_COLOURS[kind]),
                legendgroup=kind,
                showlegend=False,
                row=2,
                col=column,
            )
    for column in (1, 2, 3):
        fig.add_scatter(
            x=[0, 0],
            y=[0, 1],
            mode="lines",
            line=dict(color="black", dash="dot", width=1),
            showlegend=False,
            hoverinfo="skip",
            row=2,
            col=column,
        )


def _path_figure(codes_xy: np.ndarray, kinds: Sequence[str], names: dict) -> go.Figure:
    """The empty traces of :func:`~acglab.viz.interpolation_widgets.path_explorer` (its docstring
    lists them in order)."""
    fig = _path_subplots()
    _add_code_traces(fig, codes_xy, kinds, names)
    fig.add_trace(go.Image(z=np.zeros((8, 26, 3), dtype=np.uint8)), row=1, col=1)
    _add_curve_traces(fig, kinds)
    fig.update_xaxes(showticklabels=False, row=1, col=1)
    fig.update_yaxes(showticklabels=False, row=1, col=1)
    for column in (1, 2, 3):
        fig.update_xaxes(title_text="t", range=[0, 1], row=2, col=column)
    fig.update_layout(height=760, margin=dict(l=40, r=10, t=50, b=40), legend=dict(orientation="h", y=-0.08))
    return fig


def paths_3d_figure(
    geometry,
    studies: dict,
    max_codes: int = 1500,
    max_singular: int = 400,
    seed: int = 0,
    title: str = "codes in 3 principal axes, singular faces (red) and the three paths",
) -> go.Figure:
    """A static 3-D view of :func:`path_explorer`'s left panel (rotate it with the mouse)."""
    from acglab.eval.interpolation import PATH_NAMES

    rng = np.random.default_rng(seed)
    shown = rng.choice(len(geometry.codes), min(max_codes, len(geometry.codes)), replace=False)
    xyz = geometry.projection(geometry.codes[shown])
    fig = go.Figure()
    fig.add_scatter3d(
        x=xyz[:, 0],
        y=xyz[:, 1],
        z=xyz[:, 2],
        mode="markers",
        name="training codes",
        marker=dict(color="rgba(120,120,120,0.35)", size=2),
    )
    sing = _projected_segments(
        geometry.projection, geometry.codes, geometry.pairs[geometry.singular], max_singular, seed
    )
    fig.add_scatter3d(
        x=sing[:, 0],
        y=sing[:, 1],
        z=sing[:, 2],
        mode="lines",
        name="singular faces",
        line=dict(color=SINGULAR_COLOUR, width=1),
        opacity=0.4,
    )
    for kind, s in studies.items():
        p = geometry.projection(s.codes)
        fig.add_scatter3d(
            x=p[:, 0],
            y=p[:, 1],
            z=p[:, 2],
            mode="lines",
            name=PATH_NAMES[kind],
            line=dict(color=PATH_COLOURS[kind], width=6),
        )
    fig.update_layout(title=title, height=560, margin=dict(l=0, r=0, t=40, b=0))
    return fig


def law_table_html(evidence) -> str:
    """:class:`acglab.eval.interpolation.LawEvidence` as an HTML table (one row per path kind)."""
    from acglab.eval.interpolation import PATH_NAMES

    columns = [
        ("off_segments", "share of points off the AE-OT segments"),
        ("distance", "mean distance to nearest code"),
        ("sharpness_ratio", "mean sharpness / end faces'"),
        ("min_sharpness_ratio", "lowest sharpness / end faces'"),
    ]
    if any("score" in row for row in evidence.table):
        columns.append(("score", "mean P(fake)"))
    head = "".join(f"<th>{name}</th>" for _, name in columns)
    rows = "".join(
        "<tr><td><b>"
        + PATH_NAMES[row["kind"]]
        + "</b></td>"
        + "".join(f"<td>{row.get(key, float('nan')):.3f}</td>" for key, _ in columns)
        + "</tr>"
        for row in evidence.table
    )
    return f"<table><tr><th>path ({evidence.pairs} pairs)</th>{head}</tr>{rows}</table>"


def angle_histogram(geometry, bins: int = 60, title: str = "dihedral angles of neighbouring cells") -> go.Figure:
    """Histogram of the cell graph's dihedral angles with the singular-set threshold marked."""
    fig = go.Figure(go.Histogram(x=geometry.angles, nbinsx=bins, marker_color="rgba(90,90,90,0.7)", name="faces"))
    fig.add_vline(
        x=geometry.threshold,
        line=dict(color=SINGULAR_COLOUR, dash="dash"),
        annotation_text=f"θ = {geometry.threshold:.2f}: singular to the right",
    )
    fig.update_layout(
        title=title,
        xaxis_title="dihedral angle (rad)",
        yaxis_title="neighbouring cell pairs",
        height=320,
        margin=dict(l=60, r=10, t=40, b=40),
    )
    return fig
