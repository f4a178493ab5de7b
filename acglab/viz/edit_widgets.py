"""Interactive figures of the semantic-editing notebook (06).

* :func:`parts_figure` -- a face with the outline of every part :mod:`acglab.faces.parts` knows.
* :func:`edit_explorer` -- one face, the four photo operations of :mod:`acglab.edit.geometric`
  with widgets for the operation, the part, the donor face, the amount, the hue turn and the
  blending band; panels: the edited face, the change map with the band's edge, and (with a
  detector) its Grad-CAM; the readout gives the share changed outside the band, the time and
  the detector's P(fake) before and after.
* :func:`latent_edit_explorer` -- a face's code moved along a latent direction
  (:mod:`acglab.edit.latent`), decoded: a strip from -amount to +amount with the chosen step.

The edits and scores come from :mod:`acglab.edit` and the ``analyse`` callable; this module
only draws them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import cv2
import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from acglab.faces.parts import PARTS, part_polygons
from acglab.viz.gan_widgets import Explorer, _slider
from acglab.viz.latent_widgets import PALETTE, image_strip

#: operations the photo explorer offers (synthesize is replace applied part by part)
PHOTO_OPS = ("replace", "delete", "modify")


def _crop(image: np.ndarray, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return image[y0:y1, x0:x1]


def parts_figure(
    image: np.ndarray,
    landmarks,
    box,
    parts: Sequence[str] = ("left_eye", "right_eye", "left_brow", "right_brow", "nose", "mouth", "jaw", "face"),
    title: str = "face parts from 68 landmarks",
) -> go.Figure:
    """The face inside ``box`` (x0, y0, x1, y1) with the outline of each part and the landmarks."""
    x0, y0, _, _ = box
    fig = go.Figure(go.Image(z=_crop(image, box)))
    for k, part in enumerate(parts):
        for i, poly in enumerate(part_polygons(landmarks, part)):
            closed = np.vstack([poly, poly[:1]])
            fig.add_scatter(
                x=closed[:, 0] - x0,
                y=closed[:, 1] - y0,
                mode="lines",
                name=part,
                legendgroup=part,
                showlegend=i == 0,
                line=dict(color=PALETTE[k % len(PALETTE)], width=2),
            )
    pts = np.asarray(landmarks)
    fig.add_scatter(
        x=pts[:, 0] - x0,
        y=pts[:, 1] - y0,
        mode="markers",
        name="68 landmarks",
        marker=dict(color="white", size=4, line=dict(color="black", width=1)),
    )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(title=title, height=480, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def change_map(original: np.ndarray, edited: np.ndarray, band: np.ndarray) -> np.ndarray:
    """An RGB picture of where the edit changed pixels (max channel difference, brighter = more)
    with the edge of the blending band drawn in red."""
    diff = np.abs(edited.astype(np.int16) - original.astype(np.int16)).max(axis=2).astype(np.float32)
    grey = np.clip(diff * (255.0 / max(float(diff.max()), 1.0)), 0, 255).astype(np.uint8)
    picture = np.repeat(grey[..., None], 3, axis=2)
    edge = cv2.morphologyEx(band.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
    picture[edge] = (214, 39, 40)
    return picture


def _edit_controls(donors: Sequence[tuple[str, np.ndarray, np.ndarray]], op: str, part: str) -> dict:
    """The operation, part and donor dropdowns and the amount, hue and blending-band sliders."""
    return {
        "op": widgets.Dropdown(options=list(PHOTO_OPS), value=op, description="operation"),
        "part": widgets.Dropdown(options=[p for p in PARTS], value=part, description="part"),
        "donor": widgets.Dropdown(
            options=[(name, i) for i, (name, _, _) in enumerate(donors)], value=0, description="donor"
        ),
        "amount": _slider("modify: size change", 0.3, -0.5, 1.0, 0.05),
        "hue": _slider("modify: hue turn (°)", 0.0, -180.0, 180.0, 5.0),
        "blend": _slider("blending band (eye distances)", 0.12, 0.02, 0.4, 0.02),
    }


def _edit_figure(crop0: np.ndarray, with_detector: bool) -> go.Figure:
    """The three panels of :func:`edit_explorer` showing the unedited crop ``crop0`` (traces listed there)."""
    fig = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.02,
        subplot_titles=(
            "edited face",
            "what changed (red: edge of the blending band)",
            "detector Grad-CAM" if with_detector else "no detector given",
        ),
    )
    fig.add_trace(go.Image(z=crop0), row=1, col=1)
    fig.add_trace(go.Image(z=np.zeros_like(crop0)), row=1, col=2)
    fig.add_trace(go.Image(z=np.full_like(crop0, 200)), row=1, col=3)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def _apply_edit(image: np.ndarray, landmarks, donor: np.ndarray, donor_lm, values: dict):
    """The edit the widgets' ``values`` ask for (:mod:`acglab.edit.geometric`), on the whole photo."""
    from acglab.edit.geometric import delete_part, modify_part, replace_part

    if values["op"] == "replace":
        return replace_part(image, landmarks, donor, donor_lm, values["part"], values["blend"])
    if values["op"] == "delete":
        return delete_part(image, landmarks, values["part"], values["blend"])
    return modify_part(image, landmarks, values["part"], values["amount"], hue=values["hue"], blend=values["blend"])


def edit_explorer(
    image: np.ndarray,
    landmarks,
    box,
    donors: Sequence[tuple[str, np.ndarray, np.ndarray]],
    analyse: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
    op: str = "replace",
    part: str = "mouth",
) -> Explorer:
    """Edit one face with widgets (module notes).

    image, landmarks : the photo and its 68 landmarks; box : the integer crop shown and analysed;
    donors : ``(name, image, landmarks)`` faces to take parts from; analyse : face crop (uint8)
    -> (P(fake), Grad-CAM map in [0, 1]) of a detector, or None.
    Traces: 0 the edited face, 1 the change map, 2 the Grad-CAM picture (grey without a detector).
    """
    from acglab.errors import AcglabError
    from acglab.explain.figures import heatmap_overlay

    sliders = _edit_controls(donors, op, part)
    crop0 = _crop(image, box)
    before = analyse(crop0) if analyse else None
    fig = _edit_figure(crop0, bool(analyse))

    def update(explorer: Explorer, values: dict) -> None:
        f = explorer.figure
        name, donor, donor_lm = donors[int(values["donor"])]
        started = time.perf_counter()
        try:
            result = _apply_edit(image, landmarks, donor, donor_lm, values)
        except AcglabError as err:
            explorer.readout.value = f"<b>refused</b>: {err}"
            return
        seconds = time.perf_counter() - started
        edited = _crop(result.image, box)
        f.data[0].z = edited
        f.data[1].z = change_map(crop0, edited, _crop(result.band, box))
        text = (
            f"{values['op']} {result.part}"
            + (f" from {name}" if values["op"] == "replace" else "")
            + f": {seconds * 1000:.0f} ms; pixels changed outside the band: {100 * result.changed_outside:.2f}%"
        )
        if analyse:
            p_fake, cam = analyse(edited)
            f.data[2].z = heatmap_overlay(edited, cam)
            text += f"; detector P(fake) {before[0]:.2f} → <b>{p_fake:.2f}</b>"
        explorer.readout.value = text

    return Explorer(sliders, fig, update)


def latent_edit_explorer(
    model, code: np.ndarray, directions, spreads: Sequence[float], steps: int = 7, max_amount: float = 3.0
) -> Explorer:
    """A face's code moved along one of ``directions`` (:class:`acglab.edit.latent.Directions`),
    ``steps`` decoded faces from -amount to +amount codes' standard deviations (``spreads``: one
    per direction). Traces: 0 the strip of decoded faces."""
    from acglab.edit.latent import decode, move_along

    sliders = {
        "direction": widgets.Dropdown(
            options=[(f"{n} ({s:.2f})", i) for i, (n, s) in enumerate(zip(directions.names, directions.scores))],
            value=0,
            description="direction",
        ),
        "amount": _slider("amount (standard deviations)", 2.0, 0.0, max_amount, 0.25),
    }
    fig = go.Figure(go.Image(z=np.zeros((8, 8, 3), np.uint8)))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=220, margin=dict(l=10, r=10, t=30, b=10), title="−amount … the face … +amount")

    def update(explorer: Explorer, values: dict) -> None:
        i, a = int(values["direction"]), float(values["amount"])
        u = directions.vectors[i]
        codes = np.stack([move_along(code, u, t, spreads[i]) for t in np.linspace(-a, a, steps)])
        explorer.figure.data[0].z = image_strip(decode(model, codes))
        explorer.readout.value = (
            f"{directions.names[i]}: {steps} faces from {-a:+.2f} to {a:+.2f} standard deviations of the codes along it"
        )

    return Explorer(sliders, fig, update)


def pictures_figure(
    pictures: Sequence[np.ndarray], titles: Sequence[str], title: str = "", height: int = 360
) -> go.Figure:
    """uint8 RGB pictures of any sizes side by side, each with its title."""
    fig = make_subplots(rows=1, cols=len(pictures), subplot_titles=list(titles), horizontal_spacing=0.02)
    for k, picture in enumerate(pictures):
        fig.add_trace(go.Image(z=np.asarray(picture)), row=1, col=k + 1)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=60 if title else 30, b=10))
    return fig
