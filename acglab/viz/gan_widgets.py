r"""Interactive figures for the GAN theory notebook: sliders that update plotly figures in place.

Each builder returns an :class:`Explorer` -- an ``ipywidgets.VBox`` holding its sliders, a
one-line readout and a ``plotly.graph_objects.FigureWidget``. Moving a slider runs the
explorer's update, which rewrites the figure's traces inside ``batch_update`` (no new figure is
displayed). The sliders are reachable as ``explorer.sliders[name]`` and the figure as
``explorer.figure``, so code (and tests) can set ``slider.value`` and read the traces.

* :func:`optimal_discriminator_explorer` -- :math:`p_{data}`, :math:`p_g`, :math:`D^*` and
  :math:`V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}` as :math:`p_g` moves.
* :func:`kl_fit_explorer` -- one Gaussian fitted to a bimodal target by forward and by reverse
  KL, side by side, as the modes separate.
* :func:`divergence_shift_explorer` -- JSD stuck at :math:`\log 2` against :math:`W_1` that keeps
  shrinking, as one distribution slides onto another.

The mode-collapse explorer lives in :mod:`acglab.viz.gan_training_widgets`.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from acglab.theory.densities import GaussianMixture, gaussian_pdf, uniform_grid
from acglab.theory.divergences import divergences_under_shift, js_divergence
from acglab.theory.fitting import fit_both_directions
from acglab.theory.gan import optimal_discriminator, optimal_value, optimal_value_via_jsd

#: set by ``make html``: explorers render as static snapshots (see :meth:`Explorer._repr_mimebundle_`)
STATIC_ENV = "ACGLAB_STATIC"
DATA_COLOR = "#1f77b4"
MODEL_COLOR = "#d62728"
DISCRIMINATOR_COLOR = "#2ca02c"
W1_COLOR = "#9467bd"


class Explorer(widgets.VBox):
    """Sliders, a readout line and a plotly ``FigureWidget``, kept in sync.

    sliders: name -> slider widget (order = display order); figure: the figure with all its
    traces (a plain ``go.Figure``; it is drawn once for the initial slider values and then
    wrapped in a ``FigureWidget``, so the browser receives it complete); update:
    ``update(explorer, values)`` with ``values`` the dict name -> current value; it changes the
    traces and layout of ``explorer.figure`` (inside ``batch_update``, so one message per
    change) and may set ``explorer.readout.value`` (HTML).
    """

    def __init__(self, sliders: dict[str, widgets.Widget], figure: go.Figure, update: Callable[[Explorer, dict], None]):
        self.sliders = dict(sliders)
        self.readout = widgets.HTML()
        self._update = update
        self.figure = figure
        figure.update_annotations(font_size=13)
        update(self, self.values())
        self.figure = go.FigureWidget(figure)
        super().__init__([widgets.HBox(list(self.sliders.values())), self.readout, self.figure])
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")

    def values(self) -> dict:
        """Current slider values, name -> value."""
        return {name: slider.value for name, slider in self.sliders.items()}

    def refresh(self) -> None:
        """Recompute the figure for the current slider values."""
        with self.figure.batch_update():
            self._update(self, self.values())

    def _on_change(self, _change) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        """Live widget normally; with ``ACGLAB_STATIC=1`` (``make html``) a static snapshot for
        pages without a kernel: the widgets' current values, the readout and the figure."""
        import os

        if os.environ.get(STATIC_ENV, "").strip().lower() not in ("1", "true", "yes", "on"):
            return super()._repr_mimebundle_(**kwargs)
        import plotly.io as pio

        values = ", ".join(f"{name} = {value}" for name, value in self.values().items())
        html = f"<p><i>Interactive in JupyterLab; here at {values}.</i></p><p>{self.readout.value}</p>" + pio.to_html(
            go.Figure(self.figure), include_plotlyjs="cdn", full_html=False
        )
        return {"text/html": html, "text/plain": f"Explorer ({values})"}


def _slider(
    description: str, value: float, low: float, high: float, step: float, continuous: bool = True
) -> widgets.FloatSlider:
    return widgets.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        continuous_update=continuous,
        readout_format=".2f",
        style={"description_width": "initial"},
        layout=widgets.Layout(width="340px"),
    )


MEAN_RANGE = (-5.0, 5.0)
WIDTH_RANGE = (0.2, 3.0)


def optimal_discriminator_explorer(
    data: GaussianMixture | None = None,
    mean: float = 2.0,
    width: float = 1.0,
    x_range: tuple[float, float] = (-8.0, 8.0),
    n_shown: int = 801,
) -> Explorer:
    r"""Sliders for the mean and width of a Gaussian generator :math:`p_g`; the figure shows
    :math:`p_{data}`, :math:`p_g` (top) and :math:`D^* = p_{data}/(p_{data}+p_g)` (bottom), and the
    readout gives :math:`V(D^*,G)` by integration next to :math:`-\log 4 + 2\,\mathrm{JSD}`.

    data: the data density (default :math:`\mathcal N(0, 1)`); mean, width: initial :math:`p_g`.
    The integrals run on a grid (spacing 0.01) wide enough to hold every :math:`p_g` the sliders
    allow; the figure shows about ``n_shown`` of its points inside ``x_range``.
    Traces: 0 :math:`p_{data}`, 1 :math:`p_g`, 2 :math:`D^*`, 3 the line :math:`D = 1/2`.
    """
    data = data if data is not None else GaussianMixture((0.0,), (1.0,), (1.0,))
    reach = max(
        abs(x_range[0]),
        abs(x_range[1]),
        MEAN_RANGE[1] + 10 * WIDTH_RANGE[1],
        *(abs(m) + 10 * s for m, s in zip(data.means, data.sigmas)),
    )
    x_all, dx = uniform_grid(-reach, reach, 2 * int(np.ceil(reach / 0.01)) + 1)
    inside = np.flatnonzero((x_all >= x_range[0]) & (x_all <= x_range[1]))
    shown = inside[:: max(1, len(inside) // n_shown)]
    x = x_all[shown]
    p_data = data.pdf(x_all)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.6, 0.4],
        vertical_spacing=0.08,
        subplot_titles=("densities", "optimal discriminator D*(x)"),
    )
    fig.add_scatter(x=x, y=p_data[shown], name="p_data", line=dict(color=DATA_COLOR), fill="tozeroy", row=1, col=1)
    fig.add_scatter(x=x, y=np.zeros_like(x), name="p_g", line=dict(color=MODEL_COLOR), fill="tozeroy", row=1, col=1)
    fig.add_scatter(x=x, y=np.full_like(x, 0.5), name="D*", line=dict(color=DISCRIMINATOR_COLOR, width=3), row=2, col=1)
    fig.add_scatter(x=[x[0], x[-1]], y=[0.5, 0.5], name="D = 1/2", line=dict(color="grey", dash="dash"), row=2, col=1)
    fig.update_yaxes(range=[-0.02, 1.02], row=2, col=1)
    fig.update_layout(height=520, margin=dict(l=40, r=20, t=70, b=40), legend=dict(orientation="h", y=-0.08))

    def update(ex: Explorer, v: dict) -> None:
        p_g = gaussian_pdf(x_all, v["mean"], v["width"])
        value = optimal_value(p_data, p_g, dx)
        via_jsd = optimal_value_via_jsd(p_data, p_g, dx)
        jsd = js_divergence(p_data, p_g, dx)
        ex.figure.data[1].y = p_g[shown]
        ex.figure.data[2].y = optimal_discriminator(p_data[shown], p_g[shown])
        ex.figure.layout.title.text = f"V(D*, G) = {value:.4f}   (minimum -log 4 = {-np.log(4):.4f})"
        ex.readout.value = (
            f"V(D*, G) by integration = <b>{value:.4f}</b> &nbsp;|&nbsp; "
            f"-log 4 + 2 JSD = <b>{via_jsd:.4f}</b> &nbsp;|&nbsp; JSD = {jsd:.4f} nats"
        )

    sliders = {
        "mean": _slider("p_g mean", mean, *MEAN_RANGE, 0.1),
        "width": _slider("p_g width", width, *WIDTH_RANGE, 0.05),
    }
    return Explorer(sliders, fig, update)


def kl_fit_explorer(separation: float = 4.0, sigma: float = 1.0, max_separation: float = 10.0) -> Explorer:
    r"""A slider for the distance between the two modes of :math:`p = \tfrac12\mathcal N(-s/2,\sigma^2)
    + \tfrac12\mathcal N(s/2,\sigma^2)`; left panel: the Gaussian minimising forward
    :math:`\mathrm{KL}(p\|q)`, right panel: the one minimising reverse :math:`\mathrm{KL}(q\|p)`
    (both by :func:`acglab.theory.fitting.fit_gaussian`).

    Traces: 0 target (left), 1 forward fit, 2 target (right), 3 reverse fit.
    """
    half = max_separation / 2 + 5 * sigma
    x, _ = uniform_grid(-half, half, 1201)
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.05,
        subplot_titles=("forward KL(p || q): mean seeking", "reverse KL(q || p): mode seeking"),
    )
    for col in (1, 2):
        fig.add_scatter(
            x=x,
            y=np.zeros_like(x),
            name="target p",
            line=dict(color=DATA_COLOR),
            fill="tozeroy",
            showlegend=col == 1,
            row=1,
            col=col,
        )
        fig.add_scatter(
            x=x,
            y=np.zeros_like(x),
            name="fitted q",
            line=dict(color=MODEL_COLOR, width=3),
            showlegend=col == 1,
            row=1,
            col=col,
        )
    fig.update_layout(height=380, margin=dict(l=40, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.15))

    def update(ex: Explorer, v: dict) -> None:
        target = GaussianMixture.bimodal(v["separation"], sigma)
        fits = fit_both_directions(target)
        p = target.pdf(x)
        for k, direction in enumerate(("forward", "reverse")):
            fit = fits[direction]
            ex.figure.data[2 * k].y = p
            ex.figure.data[2 * k + 1].y = gaussian_pdf(x, fit.mu, fit.sigma)
            label = "KL(p||q)" if direction == "forward" else "KL(q||p)"
            ex.figure.layout.annotations[
                k
            ].text = f"{direction}: μ = {fit.mu:.2f}, σ = {fit.sigma:.2f}, {label} = {fit.divergence:.3f}"
        ex.readout.value = (
            f"target mean {target.mean():.2f}, standard deviation {np.sqrt(target.var()):.3f} "
            f"&nbsp;|&nbsp; forward fit sigma {fits['forward'].sigma:.3f} &nbsp;|&nbsp; "
            f"reverse fit mu {fits['reverse'].mu:.2f}, sigma {fits['reverse'].sigma:.3f}"
        )

    sliders = {"separation": _slider("mode separation", separation, 0.0, max_separation, 0.25, continuous=False)}
    return Explorer(sliders, fig, update)


def _divergence_shift_figure(x: np.ndarray, width: float, curve: dict, max_shift: float) -> go.Figure:
    """The figure of :func:`divergence_shift_explorer` before its first update (traces listed
    there): ``x`` the density grid, ``curve`` JSD and W1 against the shift."""
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.08,
        subplot_titles=("p = U[0, w) and q = U[s, s + w)", "divergence against the shift s"),
    )
    fig.add_scatter(
        x=x,
        y=np.where((x >= 0) & (x < width), 1.0 / width, 0.0),
        name="p",
        line=dict(color=DATA_COLOR, shape="hv"),
        fill="tozeroy",
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=x, y=np.zeros_like(x), name="q", line=dict(color=MODEL_COLOR, shape="hv"), fill="tozeroy", row=1, col=1
    )
    fig.add_scatter(
        x=curve["shift"], y=curve["jsd"], name="JSD(p, q)", line=dict(color=DISCRIMINATOR_COLOR), row=1, col=2
    )
    fig.add_scatter(x=curve["shift"], y=curve["w1"], name="W1(p, q)", line=dict(color=W1_COLOR), row=1, col=2)
    fig.add_scatter(
        x=[0.0, max_shift], y=[np.log(2)] * 2, name="log 2", line=dict(color="grey", dash="dash"), row=1, col=2
    )
    fig.add_scatter(
        x=[0.0],
        y=[0.0],
        name="JSD at s",
        mode="markers",
        showlegend=False,
        marker=dict(color=DISCRIMINATOR_COLOR, size=12),
        row=1,
        col=2,
    )
    fig.add_scatter(
        x=[0.0],
        y=[0.0],
        name="W1 at s",
        mode="markers",
        showlegend=False,
        marker=dict(color=W1_COLOR, size=12),
        row=1,
        col=2,
    )
    fig.update_layout(height=380, margin=dict(l=40, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.15))
    return fig


def divergence_shift_explorer(width: float = 1.0, shift: float = 0.5, max_shift: float = 4.0) -> Explorer:
    r"""A slider for the shift :math:`s` between :math:`p = U[0, w)` and :math:`q = U[s, s + w)`.
    Left: the two densities; right: JSD and :math:`W_1` as functions of the shift, with markers
    at the current one. JSD reaches :math:`\log 2` at :math:`s = w` and stays there (zero
    gradient), :math:`W_1 = s` keeps pointing the way home.

    Traces: 0 p, 1 q, 2 JSD curve, 3 W1 curve, 4 the line log 2, 5 JSD marker, 6 W1 marker.
    """
    curve = divergences_under_shift(np.linspace(0.0, max_shift, 161), width)
    x, _ = uniform_grid(-0.5 * width, max_shift + 1.5 * width, 1201)
    fig = _divergence_shift_figure(x, width, curve, max_shift)

    def update(ex: Explorer, v: dict) -> None:
        s = v["shift"]
        at = divergences_under_shift([s], width)
        ex.figure.data[1].y = np.where((x >= s) & (x < s + width), 1.0 / width, 0.0)
        ex.figure.data[5].x, ex.figure.data[5].y = [s], [float(at["jsd"][0])]
        ex.figure.data[6].x, ex.figure.data[6].y = [s], [float(at["w1"][0])]
        kl = "infinite" if np.isinf(at["kl"][0]) else f"{at['kl'][0]:.3f}"
        ex.readout.value = (
            f"shift s = {s:.2f}: JSD = <b>{at['jsd'][0]:.4f}</b> (log 2 = {np.log(2):.4f}) "
            f"&nbsp;|&nbsp; W1 = <b>{at['w1'][0]:.4f}</b> &nbsp;|&nbsp; KL(p || q) = {kl}"
        )

    sliders = {"shift": _slider("shift s", shift, 0.0, max_shift, 0.05)}
    return Explorer(sliders, fig, update)
