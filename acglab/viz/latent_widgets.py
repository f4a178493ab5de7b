"""Interactive figures of latent models: the clustering explorer of notebook 01.

:func:`cluster_explorer` shows the latent codes of an image set in the plane of their two
principal axes, coloured by the true label (left) and by the cluster the model found (right),
with the cluster centres and, below, one image per cluster. Sliders choose the KL weight
:math:`\\beta` and the number of clusters :math:`k`; each setting is a training run that the
``fit`` callable returns (trained on first use, then cached), so the first move to a new setting
takes as long as that training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from acglab.topology.embedding import pca_projection
from acglab.viz.gan_widgets import Explorer

#: a qualitative palette for up to 20 labels or clusters
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#c7c7c7",
    "#dbdb8d",
    "#9edae5",
)


def colours(values: np.ndarray) -> list[str]:
    return [PALETTE[int(v) % len(PALETTE)] for v in values]


def image_strip(images: np.ndarray) -> np.ndarray:
    """(k, C, S, S) images in [0, 1] side by side as one (S, k * (S + 1) - 1, 3) uint8 picture."""
    k, c, s, _ = images.shape
    rgb = np.repeat(images, 3, axis=1) if c == 1 else images
    strip = np.full((s, k * (s + 1) - 1, 3), 255, dtype=np.uint8)
    for i in range(k):
        strip[:, i * (s + 1) : i * (s + 1) + s] = np.clip(rgb[i].transpose(1, 2, 0) * 255, 0, 255).astype(np.uint8)
    return strip


def _cluster_controls(betas: Sequence[float], ks: Sequence[int], beta: float | None, k: int | None) -> dict:
    """The KL-weight and cluster-count selection sliders, at ``beta`` and ``k`` (default the first)."""
    return {
        "beta": widgets.SelectionSlider(
            options=list(betas),
            value=beta if beta is not None else betas[0],
            description="KL weight β",
            continuous_update=False,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="340px"),
        ),
        "k": widgets.SelectionSlider(
            options=list(ks),
            value=k if k is not None else ks[0],
            description="clusters k",
            continuous_update=False,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="340px"),
        ),
    }


def _cluster_figure() -> go.Figure:
    """The empty traces of :func:`cluster_explorer` (its docstring lists them in order)."""
    fig = make_subplots(
        rows=2,
        cols=2,
        row_heights=[0.78, 0.22],
        vertical_spacing=0.08,
        specs=[[{}, {}], [{"colspan": 2}, None]],
        subplot_titles=("codes by true label", "codes by found cluster", "one image per cluster"),
    )
    for col, name in ((1, "label"), (2, "cluster")):
        fig.add_scatter(
            x=[],
            y=[],
            mode="markers",
            name=name,
            marker=dict(size=5, opacity=0.7),
            row=1,
            col=col,
            showlegend=False,
            hoverinfo="text",
        )
    fig.add_scatter(
        x=[],
        y=[],
        mode="markers+text",
        name="centres",
        row=1,
        col=2,
        showlegend=False,
        marker=dict(symbol="x", size=12, color="black"),
        textposition="top center",
    )
    fig.add_trace(go.Image(z=np.zeros((8, 8, 3), dtype=np.uint8)), row=2, col=1)
    fig.update_xaxes(showticklabels=False, row=2, col=1)
    fig.update_yaxes(showticklabels=False, row=2, col=1)
    fig.update_layout(height=620, margin=dict(l=30, r=20, t=50, b=20))
    return fig


def _draw_clusters(f: go.Figure, r, max_points: int, label_names: Sequence[str] | None) -> None:
    """Put a run's codes (by label and by cluster), centres and prototypes into ``f``'s traces."""
    shown = np.arange(len(r.codes))[:max_points]
    project = pca_projection(r.codes, 2)
    xy = project(r.codes[shown])
    names = [label_names[int(v)] if label_names is not None else str(int(v)) for v in r.labels[shown]]
    f.data[0].update(x=xy[:, 0], y=xy[:, 1], marker_color=colours(r.labels[shown]), text=[f"label {n}" for n in names])
    f.data[1].update(
        x=xy[:, 0],
        y=xy[:, 1],
        marker_color=colours(r.clusters[shown]),
        text=[f"cluster {int(c)}, label {n}" for c, n in zip(r.clusters[shown], names)],
    )
    if r.centres is not None:
        c = project(r.centres)
        f.data[2].update(x=c[:, 0], y=c[:, 1], text=[str(i) for i in range(len(c))])
    else:
        f.data[2].update(x=[], y=[], text=[])
    f.data[3].update(z=image_strip(r.prototypes))
    f.layout.xaxis.title = f"PC 1 ({project.explained[0]:.0%} of the variance)"
    f.layout.yaxis.title = f"PC 2 ({project.explained[1]:.0%})"


def _cluster_readout(r, values: dict, baseline: dict | None) -> str:
    """The setting, the run's accuracy, NMI and cluster sizes, and the baselines' scores."""
    extra = "".join(f"; {name}: accuracy {s['acc']:.3f}, NMI {s['nmi']:.3f}" for name, s in (baseline or {}).items())
    return (
        f"<b>β = {values['beta']:g}, k = {values['k']}</b>: accuracy {r.acc:.3f}, "
        f"NMI {r.nmi:.3f}; cluster sizes {np.bincount(r.clusters, minlength=values['k']).tolist()}" + extra
    )


def cluster_explorer(
    fit: Callable[[float, int], object],
    betas: Sequence[float],
    ks: Sequence[int],
    beta: float | None = None,
    k: int | None = None,
    label_names: Sequence[str] | None = None,
    baseline: dict | None = None,
    max_points: int = 2000,
) -> Explorer:
    """Sliders for the KL weight and the number of clusters over a clustering VAE's codes.

    fit : ``fit(beta, k)`` -> a run with ``codes`` (n, d), ``clusters`` (n,), ``labels`` (n,),
        ``acc``, ``nmi``, ``prototypes`` (k, C, S, S) and ``centres`` (k, d) or ``None``
        (:class:`acglab.eval.clustering.ClusteringRun`)
    betas, ks : the slider positions; beta, k : the first setting shown (default: the first)
    label_names : a name per label value (hover text); baseline : ``{"name": {"acc", "nmi"}}``
        shown in the readout (e.g. k-means on the pixels)

    Traces: 0 codes by label, 1 codes by cluster, 2 centres, 3 the prototype strip (an image).
    """
    cache: dict[tuple, object] = {}

    def run(b, kk):
        if (b, kk) not in cache:
            cache[(b, kk)] = fit(b, kk)
        return cache[(b, kk)]

    def update(explorer: Explorer, values: dict) -> None:
        r = run(values["beta"], values["k"])
        _draw_clusters(explorer.figure, r, max_points, label_names)
        explorer.readout.value = _cluster_readout(r, values, baseline)

    return Explorer(_cluster_controls(betas, ks, beta, k), _cluster_figure(), update)


def contrastive_loss_explorer(margin: float = 1.0, d_max: float = 3.0, n: int = 301) -> Explorer:
    """The two branches of the contrastive reconstruction loss (thesis eq. 1.4) against the
    reconstruction error :math:`D_w`, with a slider for the margin :math:`m`.

    Traces: 0 real (:math:`D_w^2`), 1 fake (:math:`\\max(m - D_w, 0)^2`), 2 the margin line."""
    import torch

    from acglab.losses.reconstruction import contrastive_terms

    d = torch.linspace(0.0, d_max, n, dtype=torch.float64)
    sliders = {
        "margin": widgets.FloatSlider(
            value=margin,
            min=0.2,
            max=d_max,
            step=0.1,
            description="margin m",
            continuous_update=True,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="340px"),
        )
    }
    fig = go.Figure()
    fig.add_scatter(x=d.numpy(), y=contrastive_terms(d, torch.ones_like(d)).numpy(), name="real face (y = 1): D²")
    fig.add_scatter(x=d.numpy(), y=np.zeros(n), name="fake face (y = 0): max(m − D, 0)²")
    fig.add_scatter(x=[margin, margin], y=[0, d_max**2], mode="lines", name="m", line=dict(dash="dot", color="grey"))
    fig.update_layout(
        height=360,
        xaxis_title="reconstruction error D = ‖x̂ − x‖",
        yaxis_title="loss term",
        yaxis_range=[0, min(d_max**2, 4.0)],
        margin=dict(l=40, r=20, t=30, b=40),
    )

    def update(explorer: Explorer, values: dict) -> None:
        m = values["margin"]
        explorer.figure.data[1].y = contrastive_terms(d, torch.zeros_like(d), m).numpy()
        explorer.figure.data[2].x = [m, m]
        explorer.readout.value = (
            f"a fake face costs nothing once its reconstruction error exceeds m = {m:.1f}; "
            "a real face costs D² whatever its error"
        )

    return Explorer(sliders, fig, update)


def image_grid(images: np.ndarray, columns: int) -> np.ndarray:
    """(n, C, S, S) images in [0, 1] as one uint8 picture of ``columns`` per row (1-px white gaps)."""
    n = len(images)
    rows = [image_strip(images[i : i + columns]) for i in range(0, n, columns)]
    width = max(r.shape[1] for r in rows)
    pad = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    gap = np.full((1, width, 3), 255, dtype=np.uint8)
    return np.concatenate([x for r in pad for x in (r, gap)][:-1])


def image_grid_figure(
    images: np.ndarray, columns: int, title: str = "", row_names: Sequence[str] | None = None, height: int | None = None
) -> go.Figure:
    """A static figure of ``images`` in rows of ``columns`` (e.g. samples of each cluster)."""
    grid = image_grid(images, columns)
    fig = go.Figure(go.Image(z=grid))
    side = images.shape[-1]
    if row_names is not None:
        fig.update_yaxes(tickvals=[i * (side + 1) + side / 2 for i in range(len(row_names))], ticktext=list(row_names))
    else:
        fig.update_yaxes(showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(
        title=title,
        height=height or min(900, 60 + 40 * int(np.ceil(len(images) / columns))),
        margin=dict(l=60, r=10, t=40 if title else 10, b=10),
    )
    return fig
