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

The explorers' figures before their first update and the static figures
(:func:`~acglab.viz.singular_figures.digit_grid_figure`,
:func:`~acglab.viz.singular_figures.component_gap_figure`,
:func:`~acglab.viz.singular_figures.embedding_with_generated_figure`) live in
:mod:`acglab.viz.singular_figures`. The numbers come from :mod:`acglab.ot`: the raster of the
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
import torch

from acglab.ot.generate import (
    DEFAULT_TOPK,
    DEFAULT_WEIGHT,
    gaussian_generate,
    interpolate,
    naive_pairs_generate,
    ot_generate,
)
from acglab.ot.neighbours import neighbour_face_angles, probe_segment, raster_face_angles, transport_along_segment
from acglab.ot.raster import pixel_centres, raster_faces
from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD
from acglab.ot.support import off_support, same_label_fraction, support_radius
from acglab.ot.targets import OTInputError
from acglab.viz.gan_widgets import Explorer, _slider
from acglab.viz.singular_figures import _digit_figure, _generation_figure, _singular_set_figure, tile_images

OFF_SUPPORT_COLOR = "#d62728"
ON_SUPPORT_COLOR = "#1f77b4"
#: half-width of the square drawn for each source measure
SOURCE_REACH = {"cube": 0.5, "gaussian": 3.0}
ANGLE_RANGE = (0.0, 2.0)


# ---------------------------------------------------------------------------- small pieces
def _threshold_slider(value: float) -> widgets.FloatSlider:
    return _slider("angle threshold θ (rad)", value, *ANGLE_RANGE, 0.05, continuous=False)


def _weight_slider(value: float) -> widgets.FloatSlider:
    return _slider("interpolation weight w", value, 0.0, 1.0, 0.05, continuous=False)


def _label_array(labels, n: int) -> np.ndarray:
    if labels is None:
        return np.zeros(n, dtype=np.int64)
    lab = np.asarray(labels)
    if lab.shape != (n,):
        raise OTInputError(f"labels must have shape ({n},), got {lab.shape}")
    return np.unique(lab, return_inverse=True)[1].astype(np.int64)


def _planar(sdot) -> np.ndarray:
    if sdot.dim != 2:
        raise OTInputError(
            f"this figure draws the plane: give a solver fitted on 2-D targets, got dimension {sdot.dim}"
        )
    return sdot.targets.cpu().numpy().astype(np.float64)


# ---------------------------------------------------------------------------- the singular set
def singular_set_explorer(
    sdot,
    labels=None,
    threshold: float = DEFAULT_ANGLE_THRESHOLD,
    resolution: int = 160,
    probe: tuple | None = None,
    n_probe: int = 300,
) -> Explorer:
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
        ex.readout.value = (
            f"θ = {theta:.2f}: <b>{n_singular}</b> of {len(face_pairs)} faces singular "
            f"({100 * n_singular / max(len(face_pairs), 1):.0f}%) &nbsp;|&nbsp; probe at t = "
            f"{v['probe']:.2f}: cell {path_cell[k]} (label {lab[path_cell[k]]}) &nbsp;|&nbsp; "
            f"along the probe T jumps {int((jumps > 0).sum())} times, the longest jump "
            f"{jumps.max(initial=0.0):.2f}"
        )

    sliders = {
        "threshold": _threshold_slider(threshold),
        "probe": _slider("probe position t", 0.5, 0.0, 1.0, 0.01, continuous=False),
    }
    return Explorer(sliders, fig, update)


# ---------------------------------------------------------------------------- generation in the plane
def generation_explorer(
    sdot,
    n: int = 400,
    labels=None,
    radius: float | None = None,
    w: float = DEFAULT_WEIGHT,
    threshold: float = DEFAULT_ANGLE_THRESHOLD,
    k: int = DEFAULT_TOPK,
    seed: int = 0,
) -> Explorer:
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
    fig = _generation_figure(y)

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
        parts = [
            f"{name}: <b>{100 * f:.1f}%</b>" if not math.isnan(f) else f"{name}: no admissible pair (raise θ)"
            for name, f in zip(names, fractions)
        ]
        line = f"off the support (farther than r = {r:.3f} from every target): " + " &nbsp;|&nbsp; ".join(parts)
        if lab is not None and ot_pairs is not None:
            line += f"<br>pairs joining one component: AE-OT {100 * same_label_fraction(ot_pairs, lab):.0f}%"
        ex.readout.value = line

    sliders = {"weight": _weight_slider(w), "threshold": _threshold_slider(threshold)}
    return Explorer(sliders, fig, update)


# ---------------------------------------------------------------------------- digits
def digit_generation_explorer(
    sdot,
    decode: Callable[[np.ndarray], np.ndarray],
    labels,
    n: int = 30,
    w: float = 0.5,
    threshold: float = DEFAULT_ANGLE_THRESHOLD,
    k: int = DEFAULT_TOPK,
    columns: int = 10,
    seed: int = 0,
    n_probe: int = 20000,
) -> Explorer:
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
    fig, top = _digit_figure(angles, same, threshold)
    blank = np.zeros((8, 8))

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
        ex.readout.value = (
            f"pairs joining two codes of the same digit: AE-OT {ot_text}, random pairs "
            f"{100 * same_label_fraction(naive_pairs, lab):.0f}% &nbsp;|&nbsp; faces kept at θ = "
            f"{theta:.2f}: {100 * kept[same].mean():.0f}% of same-digit, "
            f"{100 * kept[~same].mean():.0f}% of different-digit"
        )

    sliders = {"weight": _weight_slider(w), "threshold": _threshold_slider(threshold)}
    return Explorer(sliders, fig, update)
