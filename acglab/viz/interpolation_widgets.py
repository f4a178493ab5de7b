"""Interactive figures of notebook 04: the energy picture of Fig. 1-1 and the latent path walk.

* :func:`energy_explorer` -- a kernel energy of the real samples (:mod:`acglab.theory.energy`),
  fake samples placed on its slopes and rolled down; sliders for the energy's bandwidth and
  where and how widely the fakes start; the readout names mode collapse and mode mixing.
* :func:`path_explorer` -- two faces, three latent paths between them (straight, spherical,
  OT-aware; :mod:`acglab.eval.interpolation`); one slider walks all three at once: the decoded
  faces, the paths in the codes' principal plane with the singular set, and along the paths
  the distance to the nearest training code, the sharpness and (with a detector) P(fake).
* :func:`paths_3d_figure` -- the same paths and singular faces in the codes' 3 principal axes.

All numbers come from :mod:`acglab.eval.interpolation` and :mod:`acglab.theory.energy`; this
module only draws them.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from acglab.theory.energy import energy_outcome, kernel_energy, roll_down
from acglab.viz.gan_widgets import Explorer, _slider
from acglab.viz.latent_widgets import image_strip

PATH_COLOURS = {"linear": "#1f77b4", "spherical": "#2ca02c", "ot": "#ff7f0e"}
SINGULAR_COLOUR = "#d62728"
REAL_COLOUR = "#d62728"
FAKE_COLOUR = "#1f77b4"


# ---------------------------------------------------------------------------------------- energy
def energy_explorer(centres: Sequence[float] = (-4.5, -1.5, 1.5, 4.5), n_fakes: int = 40, steps: int = 300,
                    bandwidth: float = 0.6, start: float = -1.0, spread: float = 0.4, radius: float = 0.3,
                    x_range: tuple[float, float] = (-7.0, 7.0), seed: int = 0) -> Explorer:
    """Fig. 1-1 as a live figure (module notes). Traces: 0 the energy, 1 real samples, 2 fakes
    where they start, 3 fakes after rolling down, 4 the arrows' paths (one trace, gaps between)."""
    m = np.asarray(centres, dtype=np.float64)
    base = np.random.default_rng(seed).standard_normal(n_fakes)
    x = np.linspace(*x_range, 801)
    sliders = {"s": _slider("energy bandwidth s", bandwidth, 0.2, 3.0, 0.05),
               "start": _slider("fakes start at", start, -6.0, 6.0, 0.1),
               "spread": _slider("start spread", spread, 0.05, 6.0, 0.05)}
    fig = go.Figure()
    fig.add_scatter(x=x, y=x * 0, name="energy E_s(x)", line=dict(color="black"))
    fig.add_scatter(x=m, y=m * 0, mode="markers", name="real samples", marker=dict(color=REAL_COLOUR, size=12))
    fig.add_scatter(x=[], y=[], mode="markers", name="fakes placed", marker=dict(color=FAKE_COLOUR, size=7,
                                                                                 symbol="circle-open"))
    fig.add_scatter(x=[], y=[], mode="markers", name="fakes after rolling down", marker=dict(color=FAKE_COLOUR, size=9))
    fig.add_scatter(x=[], y=[], mode="lines", name="descent", line=dict(color=FAKE_COLOUR, width=1, dash="dot"))
    fig.update_layout(height=420, xaxis_title="x (data space)", yaxis_title="energy",
                      margin=dict(l=60, r=10, t=30, b=40), legend=dict(orientation="h", y=1.1))

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
        segments_y = np.column_stack([kernel_energy(x0, m, s), kernel_energy(final, m, s),
                                      np.full_like(x0, np.nan)]).ravel()
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


def _path_controls(pairs: Sequence, steps: int, thresholds: Sequence[float], threshold: float) -> dict:
    """The pair dropdown, the walking slider and the dihedral-angle threshold slider."""
    style = {"description_width": "initial"}
    return {"pair": widgets.Dropdown(options=[(p.label, i) for i, p in enumerate(pairs)], value=0,
                                     description="faces", style=style, layout=widgets.Layout(width="520px")),
            "t": widgets.IntSlider(value=steps // 2, min=0, max=steps - 1, step=1, description="step along the path",
                                   continuous_update=True, style=style, layout=widgets.Layout(width="420px")),
            "theta": widgets.SelectionSlider(options=[(f"{v:.2f}", float(v)) for v in
                                                      sorted({*map(float, thresholds), threshold})],
                                             value=threshold, description="singular above θ =",
                                             continuous_update=False, style=style,
                                             layout=widgets.Layout(width="360px"))}


def _path_figure(codes_xy: np.ndarray, kinds: Sequence[str], names: dict) -> go.Figure:
    """The empty traces of :func:`path_explorer` (its docstring lists them in order)."""
    fig = make_subplots(rows=2, cols=3, specs=[[{"colspan": 2}, None, {}], [{}, {}, {}]],
                        row_heights=[0.58, 0.42], vertical_spacing=0.12, horizontal_spacing=0.07,
                        subplot_titles=("decoded faces: straight | spherical | OT-aware",
                                        "codes (2 principal axes), singular faces in red",
                                        "distance to the nearest training code", "sharpness (Laplacian variance)",
                                        "detector P(fake)"))
    fig.add_scatter(x=codes_xy[:, 0], y=codes_xy[:, 1], mode="markers", name="training codes",
                    marker=dict(color="rgba(120,120,120,0.35)", size=3), row=1, col=3)
    fig.add_scatter(x=[], y=[], mode="lines", name="singular faces",
                    line=dict(color=SINGULAR_COLOUR, width=0.6), opacity=0.35, row=1, col=3)
    for kind in kinds:
        c = PATH_COLOURS[kind]
        fig.add_scatter(x=[], y=[], mode="lines", name=names[kind], line=dict(color=c, width=2.5),
                        legendgroup=kind, row=1, col=3)
        fig.add_scatter(x=[], y=[], mode="markers", name=f"{names[kind]}: off the AE-OT segments",
                        marker=dict(color=SINGULAR_COLOUR, symbol="x", size=6), legendgroup=kind, showlegend=False,
                        row=1, col=3)
        fig.add_scatter(x=[], y=[], mode="markers", marker=dict(color=c, size=13, line=dict(color="black", width=1)),
                        legendgroup=kind, showlegend=False, row=1, col=3)
    fig.add_trace(go.Image(z=np.zeros((8, 26, 3), dtype=np.uint8)), row=1, col=1)
    for column in (1, 2, 3):
        for kind in kinds:
            fig.add_scatter(x=[], y=[], mode="lines", line=dict(color=PATH_COLOURS[kind]), legendgroup=kind,
                            showlegend=False, row=2, col=column)
    for column in (1, 2, 3):
        fig.add_scatter(x=[0, 0], y=[0, 1], mode="lines", line=dict(color="black", dash="dot", width=1),
                        showlegend=False, hoverinfo="skip", row=2, col=column)
    fig.update_xaxes(showticklabels=False, row=1, col=1)
    fig.update_yaxes(showticklabels=False, row=1, col=1)
    for column in (1, 2, 3):
        fig.update_xaxes(title_text="t", range=[0, 1], row=2, col=column)
    fig.update_layout(height=760, margin=dict(l=40, r=10, t=50, b=40), legend=dict(orientation="h", y=-0.08))
    return fig


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
    tops = [max(float(np.nanmax(result[k].report.distance)) for k in kinds),
            max(float(np.nanmax(result[k].sharpness)) for k in kinds), 1.0]
    for column, top in enumerate(tops):
        marker = f.data[curve_start + 3 * n_kinds + column]
        marker.x, marker.y = [t_now, t_now], [0, top]


def _path_readout(result: dict, i: int, graph, theta: float, kinds: Sequence[str], names: dict) -> str:
    """Where each path is at step ``i`` (segment, singular face or gap) and the OT route's summary."""
    parts = []
    for kind in kinds:
        s = result[kind]
        label = {0: "on an AE-OT segment", 1: "next to a singular face", 2: "in a gap"}[int(s.report.kind[i])]
        text = (f"<span style='color:{PATH_COLOURS[kind]}'><b>{names[kind]}</b></span>: {label}, "
                f"nearest code {s.report.distance[i]:.2f}, sharpness {s.sharpness[i]:.4f}")
        if s.scores is not None:
            text += f", P(fake) {s.scores[i]:.2f}"
        parts.append(text)
    route = result["ot"].route
    if route is not None:
        parts.append(f"OT route through {len(route.nodes)} training codes, "
                     f"{route.singular_steps} step(s) across the singular set; "
                     f"{100 * graph.singular.mean():.0f}% of the neighbouring cells meet on a singular face at "
                     f"θ = {theta:.2f}")
    return "<br>".join(parts)


def path_explorer(geometry, pairs: Sequence, steps: int = 41, scorer: Callable | None = None,
                  thresholds: Sequence[float] = (0.3, 0.5, 0.7, 0.9, 1.1, 1.3), max_codes: int = 1500,
                  max_singular: int = 400, seed: int = 0) -> Explorer:
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


def paths_3d_figure(geometry, studies: dict, max_codes: int = 1500, max_singular: int = 400, seed: int = 0,
                    title: str = "codes in 3 principal axes, singular faces (red) and the three paths") -> go.Figure:
    """A static 3-D view of :func:`path_explorer`'s left panel (rotate it with the mouse)."""
    from acglab.eval.interpolation import PATH_NAMES

    rng = np.random.default_rng(seed)
    shown = rng.choice(len(geometry.codes), min(max_codes, len(geometry.codes)), replace=False)
    xyz = geometry.projection(geometry.codes[shown])
    fig = go.Figure()
    fig.add_scatter3d(x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2], mode="markers", name="training codes",
                      marker=dict(color="rgba(120,120,120,0.35)", size=2))
    sing = _projected_segments(geometry.projection, geometry.codes, geometry.pairs[geometry.singular],
                               max_singular, seed)
    fig.add_scatter3d(x=sing[:, 0], y=sing[:, 1], z=sing[:, 2], mode="lines", name="singular faces",
                      line=dict(color=SINGULAR_COLOUR, width=1), opacity=0.4)
    for kind, s in studies.items():
        p = geometry.projection(s.codes)
        fig.add_scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2], mode="lines", name=PATH_NAMES[kind],
                          line=dict(color=PATH_COLOURS[kind], width=6))
    fig.update_layout(title=title, height=560, margin=dict(l=0, r=0, t=40, b=0))
    return fig


def law_table_html(evidence) -> str:
    """:class:`acglab.eval.interpolation.LawEvidence` as an HTML table (one row per path kind)."""
    from acglab.eval.interpolation import PATH_NAMES

    columns = [("off_segments", "share of points off the AE-OT segments"), ("distance", "mean distance to nearest code"),
               ("sharpness_ratio", "mean sharpness / end faces'"), ("min_sharpness_ratio", "lowest sharpness / end faces'")]
    if any("score" in row for row in evidence.table):
        columns.append(("score", "mean P(fake)"))
    head = "".join(f"<th>{name}</th>" for _, name in columns)
    rows = "".join("<tr><td><b>" + PATH_NAMES[row["kind"]] + "</b></td>"
                   + "".join(f"<td>{row.get(key, float('nan')):.3f}</td>" for key, _ in columns) + "</tr>"
                   for row in evidence.table)
    return f"<table><tr><th>path ({evidence.pairs} pairs)</th>{head}</tr>{rows}</table>"


def angle_histogram(geometry, bins: int = 60, title: str = "dihedral angles of neighbouring cells") -> go.Figure:
    """Histogram of the cell graph's dihedral angles with the singular-set threshold marked."""
    fig = go.Figure(go.Histogram(x=geometry.angles, nbinsx=bins, marker_color="rgba(90,90,90,0.7)", name="faces"))
    fig.add_vline(x=geometry.threshold, line=dict(color=SINGULAR_COLOUR, dash="dash"),
                  annotation_text=f"θ = {geometry.threshold:.2f}: singular to the right")
    fig.update_layout(title=title, xaxis_title="dihedral angle (rad)", yaxis_title="neighbouring cell pairs",
                      height=320, margin=dict(l=60, r=10, t=40, b=40))
    return fig
