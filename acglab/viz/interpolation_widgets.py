"""Interactive figures of notebook 04: the energy picture of Fig. 1-1 and the latent path walk.

* :func:`energy_explorer` -- a kernel energy of the real samples (:mod:`acglab.theory.energy`),
  fake samples placed on its slopes and rolled down; sliders for the energy's bandwidth and
  where and how widely the fakes start; the readout names mode collapse and mode mixing.
* :func:`path_explorer` -- two faces, three latent paths between them (straight, spherical,
  OT-aware; :mod:`acglab.eval.interpolation`); one slider walks all three at once: the decoded
  faces, the paths in the codes' principal plane with the singular set, and along the paths
  the distance to the nearest training code, the sharpness and (with a detector) P(fake).

The static figures (:func:`~acglab.viz.interpolation_figures.paths_3d_figure`,
:func:`~acglab.viz.interpolation_figures.law_table_html`,
:func:`~acglab.viz.interpolation_figures.angle_histogram`) and the path walk's figure live in
:mod:`acglab.viz.interpolation_figures`. All numbers come from :mod:`acglab.eval.interpolation`
and :mod:`acglab.theory.energy`; this module only draws them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go

from acglab.theory.energy import energy_outcome, kernel_energy, roll_down
from acglab.viz.gan_widgets import Explorer, _slider
from acglab.viz.interpolation_figures import PATH_COLOURS, _path_figure, _projected_segments
from acglab.viz.latent_widgets import image_strip

REAL_COLOUR = "#d62728"
FAKE_COLOUR = "#1f77b4"


# ---------------------------------------------------------------------------------------- energy
def energy_explorer(
    centres: Sequence[float] = (-4.5, -1.5, 1.5, 4.5),
    n_fakes: int = 40,
    steps: int = 300,
    bandwidth: float = 0.6,
    start: float = -1.0,
    spread: float = 0.4,
    radius: float = 0.3,
    x_range: tuple[float, float] = (-7.0, 7.0),
    seed: int = 0,
) -> Explorer:
    """Fig. 1-1 as a live figure (module notes). Traces: 0 the energy, 1 real samples, 2 fakes
    where they start, 3 fakes after rolling down, 4 the arrows' paths (one trace, gaps between)."""
    m = np.asarray(centres, dtype=np.float64)
    base = np.random.default_rng(seed).standard_normal(n_fakes)
    x = np.linspace(*x_range, 801)
    sliders = {
        "s": _slider("energy bandwidth s", bandwidth, 0.2, 3.0, 0.05),
        "start": _slider("fakes start at", start, -6.0, 6.0, 0.1),
        "spread": _slider("start spread", spread, 0.05, 6.0, 0.05),
    }
    fig = go.Figure()
    fig.add_scatter(x=x, y=x * 0, name="energy E_s(x)", line=dict(color="black"))
    fig.add_scatter(x=m, y=m * 0, mode="markers", name="real samples", marker=dict(color=REAL_COLOUR, size=12))
    fig.add_scatter(
        x=[], y=[], mode="markers", name="fakes placed", marker=dict(color=FAKE_COLOUR, size=7, symbol="circle-open")
    )
    fig.add_scatter(x=[], y=[], mode="markers", name="fakes after rolling down", marker=dict(color=FAKE_COLOUR, size=9))
    fig.add_scatter(x=[], y=[], mode="lines", name="descent", line=dict(color=FAKE_COLOUR, width=1, dash="dot"))
    fig.update_layout(
        height=420,
        xaxis_title="x (data space)",
        yaxis_title="energy",
        margin=dict(l=60, r=10, t=30, b=40),
        legend=dict(orientation="h", y=1.1),
    )

    def update(explorer: Explorer, values: dict) -> None:
        s = values["s"]
        x0 = np.clip(values["start"] + values["spread"] * base, *x_range)
        trajectory = roll_down(x0, m, s, steps)
        final = trajectory[-1]
        energy = kernel_energy(x, m, s)
        f = explorer.figure
        f.data[0].y = energy
        f.data[1].y = kernel_energy(m, m, s)
        f.data[2].x, f.data[2].y = x0, kernel_energy(x0, m, s)
        f.data[3].x, f.data[3].y = final, kernel_energy(final, m, s)
        segments_x = np.column_stack([x0, final, np.full_like(x0, np.nan)]).ravel()
        segments_y = np.column_stack(
            [kernel_energy(x0, m, s), kernel_energy(final, m, s), np.full_like(x0, np.nan)]
        ).ravel()
        f.data[4].x, f.data[4].y = segments_x, segments_y
        f.update_yaxes(range=[float(energy.min()) - 0.5, float(np.quantile(energy, 0.9)) + 0.5])
        out = energy_outcome(final, m, radius)
        verdict = []
        if out.collapse:
            verdict.append(f"<b>mode collapse</b>: {int(out.covered.sum())} of {len(m)} real modes get a fake")
        else:
            verdict.append(f"every one of the {len(m)} modes gets a fake")
        if out.mixing_share > 0.05:
            verdict.append(f"<b>mode mixing</b>: {100 * out.mixing_share:.0f}% of the fakes end between the modes")
        else:
            verdict.append(f"{100 * out.mixing_share:.0f}% of the fakes end off the data")
        explorer.readout.value = "; ".join(verdict)

    return Explorer(sliders, fig, update)


# ----------------------------------------------------------------------------------------- paths
def _path_controls(pairs: Sequence, steps: int, thresholds: Sequence[float], threshold: float) -> dict:
    """The pair dropdown, the walking slider and the dihedral-angle threshold slider."""
    style = {"description_width": "initial"}
    return {
        "pair": widgets.Dropdown(
            options=[(p.label, i) for i, p in enumerate(pairs)],
            value=0,
            description="faces",
            style=style,
            layout=widgets.Layout(width="520px"),
        ),
        "t": widgets.IntSlider(
            value=steps // 2,
            min=0,
            max=steps - 1,
            step=1,
            description="step along the path",
            continuous_update=True,
            style=style,
            layout=widgets.Layout(width="420px"),
        ),
        "theta": widgets.SelectionSlider(
            options=[(f"{v:.2f}", float(v)) for v in sorted({*map(float, thresholds), threshold})],
            value=threshold,
            description="singular above θ =",
            continuous_update=False,
            style=style,
            layout=widgets.Layout(width="360px"),
        ),
    }


def _draw_paths(f: go.Figure, result: dict, i: int, proj2, kinds: Sequence[str]) -> None:
    """Put the studied paths, step ``i``'s decoded faces and the curves into ``f``'s traces."""
    n_kinds = len(kinds)
    image_trace = 2 + 3 * n_kinds
    curve_start = image_trace + 1
    frames = []
    for k, kind in enumerate(kinds):
        s = result[kind]
        xy = proj2(s.codes)
        line, off, now = f.data[2 + 3 * k], f.data[3 + 3 * k], f.data[4 + 3 * k]
        line.x, line.y = xy[:, 0], xy[:, 1]
        cross = s.report.crossing
        off.x, off.y = xy[cross, 0], xy[cross, 1]
        now.x, now.y = [xy[i, 0]], [xy[i, 1]]
        frames.append(s.images[i])
        t = s.t
        f.data[curve_start + k].x, f.data[curve_start + k].y = t, s.report.distance
        f.data[curve_start + n_kinds + k].x, f.data[curve_start + n_kinds + k].y = t, s.sharpness
        scores = s.scores if s.scores is not None else np.full_like(t, np.nan)
        f.data[curve_start + 2 * n_kinds + k].x, f.data[curve_start + 2 * n_kinds + k].y = t, scores
    f.data[image_trace].z = image_strip(np.stack(frames))
    t_now = result[kinds[0]].t[i]
    tops = [
        max(float(np.nanmax(result[k].report.distance)) for k in kinds),
        max(float(np.nanmax(result[k].sharpness)) for k in kinds),
        1.0,
    ]
    for column, top in enumerate(tops):
        marker = f.data[curve_start + 3 * n_kinds + column]
        marker.x, marker.y = [t_now, t_now], [0, top]


def _path_readout(result: dict, i: int, graph, theta: float, kinds: Sequence[str], names: dict) -> str:
    """Where each path is at step ``i`` (segment, singular face or gap) and the OT route's summary."""
    parts = []
    for kind in kinds:
        s = result[kind]
        label = {0: "on an AE-OT segment", 1: "next to a singular face", 2: "in a gap"}[int(s.report.kind[i])]
        text = (
            f"<span style='color:{PATH_COLOURS[kind]}'><b>{names[kind]}</b></span>: {label}, "
            f"nearest code {s.report.distance[i]:.2f}, sharpness {s.sharpness[i]:.4f}"
        )
        if s.scores is not None:
            text += f", P(fake) {s.scores[i]:.2f}"
        parts.append(text)
    route = result["ot"].route
    if route is not None:
        parts.append(
            f"OT route through {len(route.nodes)} training codes, "
            f"{route.singular_steps} step(s) across the singular set; "
            f"{100 * graph.singular.mean():.0f}% of the neighbouring cells meet on a singular face at "
            f"θ = {theta:.2f}"
        )
    return "<br>".join(parts)


def path_explorer(
    geometry,
    pairs: Sequence,
    steps: int = 41,
    scorer: Callable | None = None,
    thresholds: Sequence[float] = (0.3, 0.5, 0.7, 0.9, 1.1, 1.3),
    max_codes: int = 1500,
    max_singular: int = 400,
    seed: int = 0,
) -> Explorer:
    """Walk three latent paths at once (module notes).

    geometry : :class:`acglab.eval.interpolation.LatentGeometry`; pairs :
    :class:`acglab.eval.interpolation.PairChoice` list for the dropdown; steps : points per path
    (the walking slider's positions); scorer : images -> P(fake) (a detector,
    :func:`acglab.eval.predict.score_pixels`), or None; thresholds : the positions of the
    dihedral-angle slider that decides which faces are singular (the geometry's own threshold
    is added). Each (pair, threshold) is studied once
    (:func:`acglab.eval.interpolation.study_paths`) and kept.

    Traces: 0 codes, 1 singular faces, then per path kind (linear, spherical, ot) the path
    line, its off-segment points, its current point; the decoded-faces image; then per kind
    the distance, sharpness and P(fake) curves; finally the three position markers.
    """
    from acglab.eval.interpolation import PATH_KINDS, PATH_NAMES, study_paths

    proj2 = lambda z: geometry.projection(z)[:, :2]  # noqa: E731  (the first two principal axes)
    rng = np.random.default_rng(seed)
    shown = rng.choice(len(geometry.codes), min(max_codes, len(geometry.codes)), replace=False)
    sliders = _path_controls(pairs, steps, thresholds, geometry.threshold)
    fig = _path_figure(proj2(geometry.codes[shown]), PATH_KINDS, PATH_NAMES)
    cache: dict[tuple, dict] = {}
    graphs: dict[float, object] = {}

    def at(theta: float):
        if theta not in graphs:
            graphs[theta] = geometry.with_threshold(theta)
        return graphs[theta]

    def studies(index: int, theta: float) -> dict:
        if (index, theta) not in cache:
            p = pairs[index]
            cache[(index, theta)] = study_paths(at(theta), p.start, p.end, steps, scorer)
        return cache[(index, theta)]

    def update(explorer: Explorer, values: dict) -> None:
        theta = float(values["theta"])
        result, g, i = studies(values["pair"], theta), at(theta), int(values["t"])
        singular = _projected_segments(proj2, g.codes, g.pairs[g.singular], max_singular, seed)
        explorer.figure.data[1].x, explorer.figure.data[1].y = singular[:, 0], singular[:, 1]
        _draw_paths(explorer.figure, result, i, proj2, PATH_KINDS)
        explorer.readout.value = _path_readout(result, i, g, theta, PATH_KINDS, PATH_NAMES)

    return Explorer(sliders, fig, update)
