r"""Interactive figures of a trained ACG detector: controls that update a plotly figure in place.

Each builder returns an :class:`~acglab.viz.gan_widgets.Explorer` (an ``ipywidgets.VBox``):
``explorer.sliders`` (name -> control), ``explorer.readout`` (one HTML line) and
``explorer.figure`` (a ``plotly.graph_objects.FigureWidget``). Changing a control's ``value``
(in the browser or from Python) rewrites the traces inside ``batch_update``.

* :func:`face_explorer` -- one test face at a time: the face, its Grad-CAM overlay and its
  reconstruction residual, with the model's P(fake).
* :func:`ot_generation_explorer` -- bottleneck features of real and fake faces, the OT module's
  fitted features and the features it generates (thesis section 2.2), as the angle threshold
  :math:`\theta` and the weight :math:`w` of :math:`z = (1-w)\,y_i + w\,y_j` move.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from acglab.topology.embedding import pca_projection
from acglab.viz.detector_figures import (
    CLASS_STYLE,
    GENERATED_COLOR,
    PANELS,
    explanation_tiles,
    feature_embedding_figure,
)
from acglab.viz.gan_widgets import Explorer, _slider
from acglab.viz.ot_figures import transport_segments

#: largest threshold the slider offers: with codes of RMS norm 1 the facet angles stay below it
MAX_THRESHOLD = float(np.pi / 2)


def face_explorer(maps, index: int = 0) -> Explorer:
    """A slider over the faces of ``maps`` (a :class:`acglab.eval.features.FaceMaps`, or any
    object with ``faces``, ``gradcam``, ``residual``, ``labels``, ``scores``, ``videos``).

    Panels: face, Grad-CAM overlay, residual (when the model has an autoencoder; all residuals on
    one colour scale). Traces: one ``go.Image`` per panel, in that order. Readout: video, true
    class, P(fake) and the verdict at 0.5.
    """
    tiles = explanation_tiles(maps.faces, maps.gradcam, maps.residual)
    panels = [p for p in ("face", "gradcam", "residual") if p in tiles]
    n = len(tiles["face"])
    if n == 0:
        raise ValueError("no faces to explore")
    target = getattr(maps, "target", "fake")
    names = {**PANELS, "gradcam": f"Grad-CAM ({target} logit)"}
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[names[p] for p in panels], horizontal_spacing=0.02)
    for k, p in enumerate(panels):
        fig.add_trace(go.Image(z=tiles[p][0], hoverinfo="skip"), row=1, col=k + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=330, width=300 * len(panels), margin=dict(l=10, r=10, t=60, b=10))
    videos = list(getattr(maps, "videos", None) or [f"face {i}" for i in range(n)])
    scores, labels = np.asarray(maps.scores, dtype=np.float64), np.asarray(maps.labels)

    def update(ex: Explorer, v: dict) -> None:
        i = int(v["face"])
        for k, p in enumerate(panels):
            ex.figure.data[k].z = tiles[p][i]
        truth = CLASS_STYLE[int(labels[i])][0]
        verdict = "fake" if scores[i] >= 0.5 else "real"
        ex.figure.layout.title.text = f"{videos[i]} ({truth})"
        ex.readout.value = (
            f"face {i + 1} of {n}: <b>{videos[i]}</b>, truly <b>{truth}</b> &nbsp;|&nbsp; "
            f"P(fake) = <b>{scores[i]:.3f}</b>, called {verdict} "
            f"({'right' if verdict == truth else 'wrong'})"
        )

    slider = widgets.IntSlider(
        value=int(index),
        min=0,
        max=n - 1,
        step=1,
        description="face",
        continuous_update=False,
        layout=widgets.Layout(width="340px"),
    )
    return Explorer({"face": slider}, fig, update)


def ot_generation_explorer(
    ot,
    features,
    labels,
    n: int = 300,
    seed: int = 0,
    threshold: float | None = None,
    weight: float | None = None,
    projection: Callable | None = None,
    pairs_shown: int = 30,
) -> Explorer:
    r"""Sliders for the angle threshold :math:`\theta` and the weight :math:`w` of the OT module's
    generator (:meth:`~acglab.models.ot_module.OTFeatureModule.generated_features`).

    Parameters
    ----------
    ot : a fitted :class:`~acglab.models.ot_module.OTFeatureModule` (``model.ot``)
    features, labels : (N, D) bottleneck features of faces and their labels (1 = real, 0 = fake)
    n : draws per update (the same draws for every slider value: generator seeded with ``seed``)
    threshold, weight : initial values (default: the module's options)
    projection : (k, D) -> (k, 2); default :func:`acglab.topology.pca_projection` of the faces and
        the bank (a linear map keeps interpolation: :math:`(1 - w)\,y_i + w\,y_j` is drawn on the
        segment between the images of its two parents)
    pairs_shown : how many kept pairs get their segment y_i -- y_j drawn

    Traces: 0 real, 1 fake, 2 OT bank (fitted features), 3 generated features, 4 segments.
    The explorer keeps the last draw as ``explorer.generated`` (m, D) and ``explorer.record``.
    """
    from acglab.errors import ModelConfigError

    if ot is None:
        raise ModelConfigError("the model has no OT module (arch 'acg-no-ot' or 'backbone'); use an 'acg' model")
    count = int(ot.fit_count)
    if count < 2:
        raise ModelConfigError("the OT module has not been fitted yet; train the model for more steps")
    features = np.asarray(features, dtype=np.float64)
    bank = ot.fit_features[:count].detach().to("cpu", torch.float64).numpy()
    project = projection or pca_projection(np.vstack([features, bank]))
    bank_xy = project(bank)
    fig = feature_embedding_figure(
        project(features),
        labels,
        generated=np.zeros((0, 2)),
        bank=bank_xy,
        title="bottleneck features (2-D PCA, central 90% shown) and OT-generated features",
        central=0.9,
    )
    fig.add_scatter(
        x=[],
        y=[],
        mode="lines",
        name="pairs y_i - y_j",
        line=dict(color=GENERATED_COLOR, width=0.6),
        opacity=0.5,
        hoverinfo="skip",
    )
    o = ot.options
    threshold = float(o.threshold if threshold is None else threshold)
    weight = float(o.weight if weight is None else weight)

    def update(ex: Explorer, v: dict) -> None:
        g = torch.Generator().manual_seed(int(seed))
        gen, record = ot.generated_features(n, g, threshold=float(v["threshold"]), weight=float(v["weight"]))
        ex.generated, ex.record = gen, record
        xy = project(gen.detach().cpu().numpy())
        ex.figure.data[3].x, ex.figure.data[3].y = xy[:, 0], xy[:, 1]
        kept = np.flatnonzero(record.replaced.numpy())[:pairs_shown]
        ends_i, ends_j = bank_xy[record.cells.numpy()[kept]], bank_xy[record.partners.numpy()[kept]]
        ex.figure.data[4].x, ex.figure.data[4].y = transport_segments(ends_i, ends_j)
        has = record.partners.numpy() >= 0
        angles = record.angles.numpy()[has]
        mixed = int(record.replaced.sum())
        median = f"{np.median(angles):.2f}" if len(angles) else "n/a"
        ex.readout.value = (
            f"θ = {v['threshold']:.2f} rad, w = {v['weight']:.2f}: <b>{mixed}</b> of {n} draws "
            f"generated a feature ({100 * mixed / n:.0f}%), {int(has.sum()) - mixed} refused at the "
            f"singular set (θ_ij > θ), {int((~has).sum())} without neighbour &nbsp;|&nbsp; "
            f"median θ_ij of the drawn pairs {median} rad"
        )

    sliders = {
        "threshold": _slider("angle threshold θ", threshold, 0.0, MAX_THRESHOLD, 0.01, continuous=False),
        "weight": _slider("weight w", weight, 0.0, 1.0, 0.05, continuous=False),
    }
    return Explorer(sliders, fig, update)
