r"""Interactive figures for the singular-set notebook: where the semi-discrete OT map tears, and
why the AE-OT generator's samples stay on the data while naive ones fall between modes.

A fitted :class:`~acglab.ot.solver.SemiDiscreteOT` sends a source point :math:`x` to
:math:`T(x) = y_{i(x)}`, :math:`i(x) = \arg\max_i \langle x, y_i\rangle + h_i` (thesis eq. 1.7).
Two neighbouring cells :math:`W_i, W_j` meet on a face whose *dihedral angle*
:math:`\theta_{ij} = \arccos\langle n_i, n_j\rangle`, :math:`n_i = (y_i, -1)/\|(y_i, -1)\|`, measures
the jump of the map there; faces with :math:`\theta_{ij}` above a threshold form the singular
set (:mod:`acglab.ot.singular`). The generator interpolates :math:`(1 - w)\,y_i + w\,y_j` only
across regular faces (:mod:`acglab.ot.generate`).

Explorers (each an :class:`acglab.viz.gan_widgets.Explorer`: ``.sliders``, ``.figure``,
``.readout``):

* :func:`singular_set_explorer` -- the power diagram of a 2-D problem with its regular and
  singular faces, an angle-threshold slider, and a probe moving along a segment of the source
  whose image :math:`T(x)` jumps between components;
* :func:`generation_explorer` -- AE-OT samples, random-pair interpolations and a Gaussian fit
  side by side, with sliders for :math:`w` and the threshold and the share of samples off the
  data's support;
* :func:`digit_generation_explorer` -- the same comparison on autoencoder codes, decoded to
  images, with the histogram of dihedral angles of neighbouring cells.

Static figures: :func:`digit_grid_figure`, :func:`component_gap_figure`,
:func:`embedding_with_generated_figure`. The numbers come from :mod:`acglab.ot`: the raster of the
cells and its faces (:mod:`acglab.ot.raster`), their angles and the map along a probe
(:mod:`acglab.ot.neighbours`), and the mode-mixing measures :func:`acglab.ot.support_radius`,
:func:`acglab.ot.off_support_fraction` and :func:`acglab.ot.same_label_fraction`
(:mod:`acglab.ot.support`); this module only draws them.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import plotly.colors as pcolors
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from acglab.ot.generate import (DEFAULT_TOPK, DEFAULT_WEIGHT, gaussian_generate, interpolate, naive_pairs_generate,
                                ot_generate)
from acglab.ot.neighbours import neighbour_face_angles, probe_segment, raster_face_angles, transport_along_segment
from acglab.ot.raster import pixel_centres, raster_faces
from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD
from acglab.ot.support import off_support, same_label_fraction, support_radius
from acglab.ot.targets import OTInputError
from acglab.topology import embedding_figure, merge_heights
from acglab.viz.gan_widgets import Explorer

LABEL_COLORS = pcolors.qualitative.Plotly  # 10 colours, one per digit
SINGULAR_COLOR = "#d62728"
REGULAR_COLOR = "rgba(90, 90, 90, 0.7)"
OFF_SUPPORT_COLOR = "#d62728"
ON_SUPPORT_COLOR = "#1f77b4"
#: half-width of the square drawn for each source measure
SOURCE_REACH = {"cube": 0.5, "gaussian": 3.0}
ANGLE_RANGE = (0.0, 2.0)
#: value of the pixels between tiled images (drawn light blue, below the grey levels 0..1)
GAP_VALUE = -0.1 / 0.9


# ---------------------------------------------------------------------------- small pieces
def _slider(description: str, value: float, low: float, high: float, step: float) -> widgets.FloatSlider:
    return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                               continuous_update=False, readout_format=".2f",
                               style={"description_width": "initial"}, layout=widgets.Layout(width="340px"))


def _threshold_slider(value: float) -> widgets.FloatSlider:
    return _slider("angle threshold θ (rad)", value, *ANGLE_RANGE, 0.05)


def _weight_slider(value: float) -> widgets.FloatSlider:
    return _slider("interpolation weight w", value, 0.0, 1.0, 0.05)


def _label_array(labels, n: int) -> np.ndarray:
    if labels is None:
        return np.zeros(n, dtype=np.int64)
    lab = np.asarray(labels)
    if lab.shape != (n,):
        raise OTInputError(f"labels must have shape ({n},), got {lab.shape}")
    return np.unique(lab, return_inverse=True)[1].astype(np.int64)


def _label_colors(codes: np.ndarray) -> list[str]:
    return [LABEL_COLORS[c % len(LABEL_COLORS)] for c in codes]


def _planar(sdot) -> np.ndarray:
    if sdot.dim != 2:
        raise OTInputError(f"this figure draws the plane: give a solver fitted on 2-D targets, "
                           f"got dimension {sdot.dim}")
    return sdot.targets.cpu().numpy().astype(np.float64)


# ---------------------------------------------------------------------------- the singular set
def _singular_set_figure(axis: np.ndarray, cell_labels: np.ndarray, y: np.ndarray, lab: np.ndarray, probe: tuple,
                         path_y: np.ndarray, reach: float) -> go.Figure:
    """The figure of :func:`singular_set_explorer` before its first update (traces listed there):
    ``cell_labels`` (R, R) the label of each pixel's cell, ``probe`` (start, end), ``path_y`` the
    image of the probe."""
    start, end = probe
    n_labels = int(lab.max()) + 1
    colors = _label_colors(np.arange(n_labels))
    scale = ([[k / (n_labels - 1), c] for k, c in enumerate(colors)] if n_labels > 1
             else [[0, colors[0]], [1, colors[0]]])
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("source: power cells and their faces", "targets: x(t) ↦ T(x(t))"))
    fig.add_trace(go.Heatmap(x=axis, y=axis, z=cell_labels, zmin=0,
                             zmax=max(n_labels - 1, 1), colorscale=scale, opacity=0.3, showscale=False,
                             hoverinfo="skip", name="cells"), row=1, col=1)
    fig.add_scatter(x=[], y=[], mode="markers", name="regular face", marker=dict(color=REGULAR_COLOR, size=2),
                    row=1, col=1)
    fig.add_scatter(x=[], y=[], mode="markers", name="singular face", marker=dict(color=SINGULAR_COLOR, size=3),
                    row=1, col=1)
    fig.add_scatter(x=[start[0], end[0]], y=[start[1], end[1]], mode="lines", name="probe",
                    line=dict(color="black", dash="dash"), row=1, col=1)
    fig.add_scatter(x=[start[0]], y=[start[1]], mode="markers", name="x(t)", showlegend=False,
                    marker=dict(color="black", size=12, symbol="x"), row=1, col=1)
    fig.add_scatter(x=y[:, 0], y=y[:, 1], mode="markers", name="targets", showlegend=False,
                    marker=dict(color=_label_colors(lab), size=5), row=1, col=2)
    fig.add_scatter(x=path_y[:, 0], y=path_y[:, 1], mode="lines", name="T along the probe",
                    line=dict(color="black", width=1), row=1, col=2)
    fig.add_scatter(x=[path_y[0, 0]], y=[path_y[0, 1]], mode="markers", name="T(x(t))", showlegend=False,
                    marker=dict(color="black", size=14, symbol="star"), row=1, col=2)
    fig.update_xaxes(range=[-reach, reach], row=1, col=1)
    fig.update_yaxes(range=[-reach, reach], scaleanchor="x", row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", row=1, col=2)
    fig.update_layout(height=480, margin=dict(l=40, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.12))
    return fig


def singular_set_explorer(sdot, labels=None, threshold: float = DEFAULT_ANGLE_THRESHOLD, resolution: int = 160,
                          probe: tuple | None = None, n_probe: int = 300) -> Explorer:
    r"""The power diagram of a fitted 2-D solver with its singular faces, and the map on a probe.

    Left: the source, each pixel coloured by the label of the target owning its cell (labels
    (N,), e.g. mixture components; one colour when ``None``); the faces between cells as grey
    (regular, :math:`\theta_{ij} \le \theta`) or red (singular) dots; the probe segment and the
    point :math:`x(t)` on it. Right: the targets, the path of :math:`T` along the probe (a jump is
    a long stroke) and :math:`T(x(t))`. Faces are found on a ``resolution``-square raster of the
    source (:func:`acglab.ot.raster_faces`, :func:`acglab.ot.raster_face_angles`), the probe's image
    by :func:`acglab.ot.transport_along_segment`.

    Sliders: ``threshold`` (θ) and ``probe`` (t in [0, 1]). ``probe``: two source points
    (start, end); by default from the source region of the first label to that of the second.
    Traces: 0 cells, 1 regular faces, 2 singular faces, 3 probe segment, 4 x(t), 5 targets,
    6 T along the probe, 7 T(x(t)).
    """
    y = _planar(sdot)
    lab = _label_array(labels, y.shape[0])
    reach = SOURCE_REACH[sdot.source]
    axis, grid = pixel_centres(resolution, -reach, reach)
    best = sdot.assign(grid).cpu().numpy()
    face_xy, face_cells = raster_faces(axis, best.reshape(len(axis), len(axis)))
    face_angle, face_pairs, pair_angle = raster_face_angles(sdot.targets, face_cells)
    if probe is None:
        start, end = probe_segment(lab[best], grid)
    else:
        start, end = (np.asarray(p, dtype=np.float64) for p in probe)
    path_x, path_cell, path_y, jumps = transport_along_segment(sdot, start, end, n_probe)
    fig = _singular_set_figure(axis, lab[best].reshape(len(axis), len(axis)), y, lab, (start, end), path_y, reach)

    def update(ex: Explorer, v: dict) -> None:
        theta = v["threshold"]
        singular = face_angle > theta
        ex.figure.data[1].x, ex.figure.data[1].y = face_xy[~singular, 0], face_xy[~singular, 1]
        ex.figure.data[2].x, ex.figure.data[2].y = face_xy[singular, 0], face_xy[singular, 1]
        k = min(int(round(v["probe"] * (len(path_x) - 1))), len(path_x) - 1)
        ex.figure.data[4].x, ex.figure.data[4].y = [path_x[k, 0]], [path_x[k, 1]]
        ex.figure.data[7].x, ex.figure.data[7].y = [path_y[k, 0]], [path_y[k, 1]]
        n_singular = int((pair_angle > theta).sum())
        ex.readout.value = (f"θ = {theta:.2f}: <b>{n_singular}</b> of {len(face_pairs)} faces singular "
                            f"({100 * n_singular / max(len(face_pairs), 1):.0f}%) &nbsp;|&nbsp; probe at t = "
                            f"{v['probe']:.2f}: cell {path_cell[k]} (label {lab[path_cell[k]]}) &nbsp;|&nbsp; "
                            f"along the probe T jumps {int((jumps > 0).sum())} times, the longest jump "
                            f"{jumps.max(initial=0.0):.2f}")

    sliders = {"threshold": _threshold_slider(threshold), "probe": _slider("probe position t", 0.5, 0.0, 1.0, 0.01)}
    return Explorer(sliders, fig, update)


# ---------------------------------------------------------------------------- generation in the plane
def generation_explorer(sdot, n: int = 400, labels=None, radius: float | None = None, w: float = DEFAULT_WEIGHT,
                        threshold: float = DEFAULT_ANGLE_THRESHOLD, k: int = DEFAULT_TOPK, seed: int = 0) -> Explorer:
    r"""AE-OT generation against naive generators for a fitted 2-D solver.

    Panels: the OT generator (:func:`acglab.ot.generate.ot_generate` with weight ``w``,
    threshold θ and ``k`` candidates), random pairs interpolated with the same ``w``
    (:func:`~acglab.ot.generate.naive_pairs_generate`), and a Gaussian fitted to the targets
    (:func:`~acglab.ot.generate.gaussian_generate`). Samples farther than ``radius`` (default
    :func:`acglab.ot.support_radius`) from every target are drawn in red; the readout gives each
    generator's :func:`acglab.ot.off_support_fraction` and, with ``labels``, the share of
    interpolated pairs whose two targets share a label (:func:`acglab.ot.same_label_fraction`).

    Traces: 0, 2, 4 targets; 1 OT samples, 3 random-pair samples, 5 Gaussian samples.
    """
    y = _planar(sdot)
    lab = None if labels is None else _label_array(labels, y.shape[0])
    r = support_radius(y) if radius is None else float(radius)
    gaussian = gaussian_generate(sdot.targets, n, seed=seed).cpu().numpy()
    titles = ("AE-OT (regular faces only)", "random pairs, same w", "Gaussian fitted to the targets")
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.05, subplot_titles=titles)
    for col in (1, 2, 3):
        fig.add_scatter(x=y[:, 0], y=y[:, 1], mode="markers", name="targets", showlegend=col == 1,
                        marker=dict(color="lightgrey", size=5), row=1, col=col)
        fig.add_scatter(x=[], y=[], mode="markers", name="generated", showlegend=col == 1,
                        marker=dict(size=4), row=1, col=col)
    reach = 1.15 * float(np.abs(y).max())
    for col in (1, 2, 3):
        fig.update_xaxes(range=[-reach, reach], row=1, col=col)
        fig.update_yaxes(range=[-reach, reach], scaleanchor="x" if col == 1 else f"x{col}", row=1, col=col)
    fig.update_layout(height=420, margin=dict(l=30, r=20, t=60, b=30), legend=dict(orientation="h", y=-0.12))

    def show(ex: Explorer, trace: int, points: np.ndarray) -> float:
        off = off_support(points, y, r)
        ex.figure.data[trace].x, ex.figure.data[trace].y = points[:, 0], points[:, 1]
        ex.figure.data[trace].marker.color = np.where(off, OFF_SUPPORT_COLOR, ON_SUPPORT_COLOR)
        return float(off.mean()) if len(off) else math.nan

    def update(ex: Explorer, v: dict) -> None:
        try:
            made = ot_generate(sdot, n, k=k, threshold=v["threshold"], w=v["weight"], seed=seed, return_pairs=True)
            ot_points, ot_pairs = made.codes.cpu().numpy(), made.pairs
        except ValueError:
            ot_points, ot_pairs = np.zeros((0, 2)), None
        naive = naive_pairs_generate(sdot.targets, n, w=v["weight"], seed=seed).cpu().numpy()
        fractions = [show(ex, 1, ot_points), show(ex, 3, naive), show(ex, 5, gaussian)]
        names = ("AE-OT", "random pairs", "Gaussian")
        parts = [f"{name}: <b>{100 * f:.1f}%</b>" if not math.isnan(f) else f"{name}: no admissible pair (raise θ)"
                 for name, f in zip(names, fractions)]
        line = f"off the support (farther than r = {r:.3f} from every target): " + " &nbsp;|&nbsp; ".join(parts)
        if lab is not None and ot_pairs is not None:
            line += f"<br>pairs joining one component: AE-OT {100 * same_label_fraction(ot_pairs, lab):.0f}%"
        ex.readout.value = line

    sliders = {"weight": _weight_slider(w), "threshold": _threshold_slider(threshold)}
    return Explorer(sliders, fig, update)


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
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = imgs[idx]
    return out


def _image_heatmap(tiled: np.ndarray) -> go.Heatmap:
    """Grey levels 0 (white) to 1 (black); the gap value below 0 is light blue."""
    scale = [[0.0, "#dbe9f6"], [0.0999, "#dbe9f6"], [0.1, "white"], [1.0, "black"]]
    return go.Heatmap(z=tiled, colorscale=scale, zmin=GAP_VALUE, zmax=1, showscale=False, hoverinfo="skip")


def _image_axes(fig: go.Figure, row: int, col: int) -> None:
    """Hide the axes of an image panel and keep its pixels square, first row on top."""
    x_name = fig.get_subplot(row, col).xaxis.plotly_name.replace("axis", "")
    fig.update_xaxes(visible=False, constrain="domain", row=row, col=col)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor=x_name, scaleratio=1, constrain="domain",
                     row=row, col=col)


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


def digit_generation_explorer(sdot, decode: Callable[[np.ndarray], np.ndarray], labels, n: int = 30,
                              w: float = 0.5, threshold: float = DEFAULT_ANGLE_THRESHOLD, k: int = DEFAULT_TOPK,
                              columns: int = 10, seed: int = 0, n_probe: int = 20000) -> Explorer:
    r"""AE-OT against random-pair interpolation on autoencoder codes, decoded to images.

    ``sdot`` is fitted on the codes (N, d); ``decode`` maps codes (n, d) to images (n, h, w) in
    [0, 1]; ``labels`` (N,) the digit of every code. Top: ``n`` decoded AE-OT codes and ``n``
    decoded random-pair interpolations with the same weight ``w``. Bottom: the dihedral angles
    of neighbouring cells (pairs of best and second-best cells of ``n_probe`` source samples),
    split into pairs of the same digit and of different digits, with the threshold θ as a
    vertical line: a good θ keeps most same-digit faces and cuts most of the others.

    Traces: 0 AE-OT images, 1 random-pair images, 2 same-digit angles, 3 different-digit
    angles, 4 threshold line.
    """
    lab = np.asarray(labels)
    _, angles, same = neighbour_face_angles(sdot, lab, n_probe, seed + 1)
    naive_pairs = torch.randint(sdot.n_targets, (n, 2), generator=torch.Generator().manual_seed(seed)).to(sdot.device)
    fig = make_subplots(rows=2, cols=2, row_heights=[0.5, 0.5], vertical_spacing=0.14, horizontal_spacing=0.04,
                        specs=[[{}, {}], [{"colspan": 2}, None]],
                        subplot_titles=("AE-OT codes, decoded", "random pairs, decoded",
                                        "dihedral angles of neighbouring cells"))
    blank = np.zeros((8, 8))
    fig.add_trace(_image_heatmap(blank), row=1, col=1)
    fig.add_trace(_image_heatmap(blank), row=1, col=2)
    _image_axes(fig, 1, 1)
    _image_axes(fig, 1, 2)
    bins = dict(start=0.0, end=float(max(angles.max(initial=0.0), threshold)) + 0.05, size=0.025)
    fig.add_trace(go.Histogram(x=angles[same], name="same digit", xbins=bins, marker_color="#2ca02c", opacity=0.7),
                  row=2, col=1)
    fig.add_trace(go.Histogram(x=angles[~same], name="different digits", xbins=bins, marker_color=SINGULAR_COLOR,
                               opacity=0.7), row=2, col=1)
    fig.add_scatter(x=[threshold, threshold], y=[0, 1], mode="lines", name="θ",
                    line=dict(color="black", dash="dash"), row=2, col=1)
    fig.update_layout(barmode="overlay", height=560, margin=dict(l=40, r=20, t=60, b=40),
                      legend=dict(orientation="h", y=-0.12))
    fig.update_xaxes(title_text="angle (rad)", row=2, col=1)
    counts = np.histogram(angles, bins=np.arange(bins["start"], bins["end"] + bins["size"], bins["size"]))[0]
    top = float(counts.max(initial=1)) * 1.05

    def update(ex: Explorer, v: dict) -> None:
        theta, weight = v["threshold"], v["weight"]
        try:
            made = ot_generate(sdot, n, k=k, threshold=theta, w=weight, seed=seed, return_pairs=True)
            ot_images, ot_same = decode(made.codes.cpu().numpy()), same_label_fraction(made.pairs, lab)
        except ValueError:
            ot_images, ot_same = blank[None], math.nan
        naive = interpolate(sdot.targets, naive_pairs, weight).cpu().numpy()
        ex.figure.data[0].z = tile_images(ot_images, columns)
        ex.figure.data[1].z = tile_images(decode(naive), columns)
        ex.figure.data[4].x, ex.figure.data[4].y = [theta, theta], [0, top]
        kept = angles <= theta
        ot_text = "no admissible pair (raise θ)" if math.isnan(ot_same) else f"<b>{100 * ot_same:.0f}%</b>"
        ex.readout.value = (f"pairs joining two codes of the same digit: AE-OT {ot_text}, random pairs "
                            f"{100 * same_label_fraction(naive_pairs, lab):.0f}% &nbsp;|&nbsp; faces kept at θ = "
                            f"{theta:.2f}: {100 * kept[same].mean():.0f}% of same-digit, "
                            f"{100 * kept[~same].mean():.0f}% of different-digit")

    sliders = {"weight": _weight_slider(w), "threshold": _threshold_slider(threshold)}
    return Explorer(sliders, fig, update)


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
        fig.add_scatter(x=np.arange(1, len(deaths) + 1), y=deaths, mode="lines+markers", name=name,
                        marker=dict(size=4))
    fig.update_layout(title=title, height=380, xaxis=dict(title="rank of the merge (largest first)", type="log"),
                      yaxis=dict(title="scale at which two components merge", type="log"))
    return fig


def embedding_with_generated_figure(embedding, labels, generated_embedding, label_names: dict | None = None,
                                    title: str = "codes and generated codes", generated_name: str = "AE-OT codes"
                                    ) -> go.Figure:
    """A 2-D or 3-D embedding of codes coloured by label (:func:`acglab.topology.embedding_figure`)
    with generated codes (m, 2 or 3), embedded together with them, overlaid in black."""
    fig = embedding_figure(embedding, labels, label_names=label_names, title=title, marker_size=2.5)
    gen = np.asarray(generated_embedding, dtype=np.float64)
    if gen.ndim != 2 or gen.shape[1] != np.asarray(embedding).shape[1]:
        raise OTInputError(f"generated_embedding must have shape (m, {np.asarray(embedding).shape[1]}), "
                           f"got {gen.shape}")
    style = dict(mode="markers", name=generated_name, marker=dict(color="black", size=2.5, symbol="diamond"))
    if gen.shape[1] == 3:
        fig.add_trace(go.Scatter3d(x=gen[:, 0], y=gen[:, 1], z=gen[:, 2], **style))
    else:
        fig.add_trace(go.Scatter(x=gen[:, 0], y=gen[:, 1], **style))
    fig.update_layout(height=600, margin=dict(l=0, r=0, t=40, b=0))
    return fig
