"""Plotly figures of persistence diagrams, barcodes and embeddings.

Each helper returns a ``plotly.graph_objects.Figure``, or a ``FigureWidget`` (whose traces a
notebook can update in place) when ``widget=True``. Essential classes (death ``inf``, or
``-inf`` for a superlevel filtration) are drawn on a dashed line just beyond the finite values
(above them for ``inf``, below for ``-inf``), named "inf" in the legend. plotly is imported
only when a figure is drawn.
"""

from __future__ import annotations

import numpy as np

from acglab.topology.inputs import TopologyInputError, as_diagrams

#: colours of homology dimensions 0, 1, 2, ... (plotly's default cycle)
DIMENSION_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def _new_figure(widget: bool):
    import plotly.graph_objects as go

    return go.FigureWidget() if widget else go.Figure()


def _finite_range(diagrams) -> tuple[float, float]:
    """Smallest and largest finite value in all bars (0, 1 when there is none)."""
    values = np.concatenate([b.ravel() for b in diagrams.values()] + [np.zeros(0)])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def infinity_levels(diagrams) -> tuple[float, float]:
    """Where ``+inf`` and ``-inf`` are drawn: 10% of the finite span above and below it."""
    lo, hi = _finite_range(diagrams)
    pad = 0.1 * (hi - lo)
    return hi + pad, lo - pad


def _drawn(values: np.ndarray, top: float, bottom: float) -> np.ndarray:
    return np.where(np.isposinf(values), top, np.where(np.isneginf(values), bottom, values))


def _dimension_name(k: int) -> str:
    return f"H{k}"


def persistence_diagram_figure(diagrams, title: str = "persistence diagram", widget: bool = False):
    """Births against deaths, one scatter trace per homology dimension, with the diagonal.

    Parameters
    ----------
    diagrams : ``{k: bars (n_k, 2)}`` (or one array of bars, taken as dimension 0).
    title : figure title.
    widget : return a ``FigureWidget`` instead of a ``Figure``.

    Returns
    -------
    Figure with traces ``"H0", "H1", ...`` (x = birth, y = death; essential points at the
    "inf" level, drawn as triangles), then ``"diagonal"``, then ``"inf"`` (a dashed line) when a
    class is essential. Hovering a point shows its birth, death and persistence.
    """
    import plotly.graph_objects as go

    diagrams = as_diagrams(diagrams)
    top, bottom = infinity_levels(diagrams)
    lo, hi = bottom, top
    fig = _new_figure(widget)
    any_essential = {"top": False, "bottom": False}
    for k, bars in diagrams.items():
        essential = ~np.isfinite(bars[:, 1])
        any_essential["top"] |= bool(np.isposinf(bars[:, 1]).any())
        any_essential["bottom"] |= bool(np.isneginf(bars[:, 1]).any())
        death_text = np.where(
            np.isposinf(bars[:, 1]),
            "inf",
            np.where(np.isneginf(bars[:, 1]), "-inf", np.char.mod("%.4g", np.where(essential, 0, bars[:, 1]))),
        )
        fig.add_trace(
            go.Scatter(
                x=bars[:, 0],
                y=_drawn(bars[:, 1], top, bottom),
                mode="markers",
                name=_dimension_name(k),
                marker=dict(
                    color=DIMENSION_COLORS[k % len(DIMENSION_COLORS)],
                    size=7,
                    opacity=0.8,
                    symbol=np.where(essential, "triangle-up", "circle"),
                ),
                customdata=np.stack([death_text, np.char.mod("%.4g", np.abs(bars[:, 1] - bars[:, 0]))], axis=1)
                if len(bars)
                else None,
                hovertemplate=f"H{k}<br>birth %{{x:.4g}}<br>death %{{customdata[0]}}"
                "<br>persistence %{customdata[1]}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[lo, hi], y=[lo, hi], mode="lines", name="diagonal", line=dict(color="grey", dash="dot"), hoverinfo="skip"
        )
    )
    levels = [y for y, used in ((top, any_essential["top"]), (bottom, any_essential["bottom"])) if used]
    if levels:
        xs, ys = [], []
        for y in levels:
            xs += [lo, hi, None]
            ys += [y, y, None]
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="lines", name="inf", hoverinfo="skip", line=dict(color="black", dash="dash", width=1)
            )
        )
    fig.update_layout(
        title=title,
        width=520,
        height=520,
        xaxis=dict(title="birth", range=[lo, hi]),
        yaxis=dict(title="death", range=[lo, hi], scaleanchor="x", scaleratio=1),
    )
    return fig


def barcode_figure(diagrams, title: str = "barcode", widget: bool = False):
    """One horizontal segment per bar, from birth to death, grouped by dimension.

    Returns a Figure with one line trace per dimension (``"H0", "H1", ...``), the segments of a
    trace separated by ``None``; bars are stacked longest first within a dimension, and
    essential bars run to the "inf" level.
    """
    import plotly.graph_objects as go

    diagrams = as_diagrams(diagrams)
    top, bottom = infinity_levels(diagrams)
    fig = _new_figure(widget)
    row = 0
    for k, bars in diagrams.items():
        length = np.abs(bars[:, 1] - bars[:, 0])
        order = np.lexsort((bars[:, 0], -length))
        xs, ys = [], []
        for birth, death in bars[order]:
            xs += [birth, float(_drawn(np.array(death), top, bottom)), None]
            ys += [row, row, None]
            row += 1
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=_dimension_name(k),
                line=dict(color=DIMENSION_COLORS[k % len(DIMENSION_COLORS)], width=3),
            )
        )
        row += 1  # a blank row between dimensions
    fig.update_layout(
        title=title,
        height=min(900, 200 + 6 * row),
        xaxis=dict(title="scale"),
        yaxis=dict(title="bars", showticklabels=False, autorange="reversed"),
    )
    return fig


def embedding_figure(
    embedding,
    labels=None,
    hover_text=None,
    label_names: dict | None = None,
    title: str = "embedding",
    marker_size: float = 4,
    widget: bool = False,
):
    """Scatter plot of a 2-D or 3-D embedding, one trace per label.

    Parameters
    ----------
    embedding : array (n, 2) or (n, 3), e.g. from :func:`acglab.topology.umap_embedding`.
    labels : array (n,) of class labels, or ``None`` for one trace named "points".
    hover_text : array (n,) of strings shown when hovering a point (e.g. video ids).
    label_names : maps a label to its legend name (e.g. ``{0: "fake", 1: "real"}``); labels
        without a name are shown as they are.

    Returns
    -------
    Figure with one ``Scatter`` (2-D) or ``Scatter3d`` (3-D) trace per distinct label, in
    sorted label order.
    """
    import plotly.graph_objects as go

    emb = np.asarray(embedding, dtype=np.float64)
    if emb.ndim != 2 or emb.shape[1] not in (2, 3):
        raise TopologyInputError(f"an embedding to plot must have shape (n, 2) or (n, 3), got {emb.shape}")
    n = emb.shape[0]
    names = dict(label_names or {})
    if labels is None:
        labels = np.zeros(n, dtype=int)
        names.setdefault(0, "points")
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise TopologyInputError(f"labels must have shape ({n},), got {labels.shape}")
    if hover_text is not None:
        hover_text = np.asarray(hover_text, dtype=str)
        if hover_text.shape != (n,):
            raise TopologyInputError(f"hover_text must have shape ({n},), got {hover_text.shape}")
    fig = _new_figure(widget)
    for label in np.unique(labels):
        sel = labels == label
        common = dict(
            mode="markers",
            name=str(names.get(label.item(), label)),
            marker=dict(size=marker_size),
            text=None if hover_text is None else hover_text[sel],
        )
        if emb.shape[1] == 2:
            fig.add_trace(go.Scatter(x=emb[sel, 0], y=emb[sel, 1], **common))
        else:
            fig.add_trace(go.Scatter3d(x=emb[sel, 0], y=emb[sel, 1], z=emb[sel, 2], **common))
    fig.update_layout(title=title, legend=dict(itemsizing="constant"))
    return fig
