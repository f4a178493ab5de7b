"""Plotly figures of a trained face-forgery detector: training curves, ROC curves of several
models, Grad-CAM and residual grids, and the feature space with OT-generated features. The
``*_figure`` functions take arrays or plain dicts and return a ``go.Figure``. The ablation table,
its bootstrap intervals and the AUC per forgery method are drawn by
:mod:`acglab.viz.ablation_figures` (importable from here too).

Conventions: labels 1 = real, 0 = fake; a score is P(fake) (:mod:`acglab.metrics`, positive
class fake). Real faces are drawn in blue, fake ones in red.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from acglab.data.samples import FAKE, REAL
from acglab.errors import DataLayoutError
from acglab.explain.figures import GRADCAM_CMAP, RESIDUAL_CMAP, colorize, heatmap_overlay

# re-exported: the comparisons of several detectors are drawn there

REAL_COLOR = "#1f77b4"
FAKE_COLOR = "#d62728"
BANK_COLOR = "#9a9a9a"
GENERATED_COLOR = "black"
CLASS_STYLE = {REAL: ("real", REAL_COLOR), FAKE: ("fake", FAKE_COLOR)}
#: loss columns of log.csv and their names (thesis eq. 2.7: L = L_cls + lambda_1 L_r + lambda_2 L_m)
LOSS_COLUMNS = {"train_loss": "L (total)", "train_cls": "L_cls", "train_rec": "L_r (real faces)", "train_metric": "L_m"}
AUC_COLUMNS = {"val_frame_auc": "val AUC (frames)", "val_video_auc": "val AUC (videos)"}
#: what each explanation row shows
PANELS = {"face": "face", "gradcam": "Grad-CAM", "residual": "residual |x - x\u0302|"}


# --- training curves -------------------------------------------------------------------------
def read_training_log(path) -> dict[str, np.ndarray]:
    """The columns of a run's ``log.csv`` (``path``: the file or its run folder) as float arrays
    (empty cells and ``True``/``False`` as NaN/1/0), one entry per epoch row.

    Raises :class:`DataLayoutError` when the file is missing or has no rows.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / "log.csv"
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        raise DataLayoutError(f"no training log at {path}; train a run there first (`acglab train`)") from None
    if not rows:
        raise DataLayoutError(f"{path} holds no epoch rows yet; let the run finish an epoch")

    def number(text):
        text = (text or "").strip()
        if text in ("True", "False"):
            return float(text == "True")
        try:
            return float(text)
        except ValueError:
            return math.nan

    return {k: np.array([number(r.get(k)) for r in rows]) for k in rows[0]}


def training_curves_figure(log, title: str = "training run") -> go.Figure:
    """Loss parts (left) and validation AUC (right) per epoch of a run.

    ``log``: the path of ``log.csv`` or its run folder, or the dict of
    :func:`read_training_log`. Left: one trace per loss column present (L, L_cls, L_r, L_m);
    right: one per validation AUC column present, and the chance line AUC = 0.5.
    """
    columns = log if isinstance(log, dict) else read_training_log(log)
    if "epoch" not in columns:
        raise DataLayoutError("the training log has no 'epoch' column; is it a log.csv written by `acglab train`?")
    epoch = np.asarray(columns["epoch"])
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=("training losses (epoch means)", "validation AUC")
    )
    for key, name in LOSS_COLUMNS.items():
        if key in columns:
            fig.add_scatter(x=epoch, y=columns[key], mode="lines+markers", name=name, row=1, col=1)
    for key, name in AUC_COLUMNS.items():
        if key in columns:
            fig.add_scatter(x=epoch, y=columns[key], mode="lines+markers", name=name, row=1, col=2)
    if len(epoch):
        fig.add_scatter(
            x=[epoch.min(), epoch.max()],
            y=[0.5, 0.5],
            mode="lines",
            name="chance",
            line=dict(color="grey", dash="dot"),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="epoch", dtick=1)
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    fig.update_layout(title=title, height=380, margin=dict(l=40, r=20, t=70, b=40))
    return fig


# --- ROC curves of several models ---------------------------------------------------------------
def roc_comparison_figure(models: dict, pos_label: int = FAKE) -> go.Figure:
    """ROC curves of several models, frames (left) and videos (right).

    ``models``: name -> ``(labels, scores)`` or ``(labels, scores, videos)`` (arrays (n,); a
    video's score is the mean of its frames', :func:`acglab.metrics.video_scores`). Without
    videos only the left panel gets that model's curve. Trace 0 and 1 are the chance
    diagonals; then, per model and level, the curve (``customdata`` = thresholds) named
    ``"<name>: AUC a, EER e%"``.
    """
    from acglab.metrics import equal_error_rate, roc_auc, roc_curve, video_scores

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=("frames", "videos"))
    for col in (1, 2):
        fig.add_scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="chance",
            line=dict(color="grey", dash="dot"),
            showlegend=col == 1,
            row=1,
            col=col,
        )
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]
    for k, (name, data) in enumerate(models.items()):
        labels, scores = np.asarray(data[0]), np.asarray(data[1], dtype=np.float64)
        levels = [(1, labels, scores)]
        if len(data) > 2 and data[2] is not None:
            video_labels, video_means, _ = video_scores(labels, scores, data[2])
            levels.append((2, video_labels, video_means))
        for col, level_labels, level_scores in levels:
            curve = roc_curve(level_labels, level_scores, pos_label)
            auc = roc_auc(level_labels, level_scores, pos_label)
            eer, _ = equal_error_rate(level_labels, level_scores, pos_label)
            fig.add_scatter(
                x=curve.fpr,
                y=curve.tpr,
                mode="lines",
                customdata=curve.thresholds,
                name=f"{name}: AUC {auc:.3f}, EER {100 * eer:.1f}%",
                legendgroup=name,
                line=dict(color=palette[k % len(palette)], dash="solid" if col == 1 else "dash"),
                hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}<br>threshold %{customdata:.4f}<extra></extra>",
                row=1,
                col=col,
            )
    positive, negative = CLASS_STYLE[pos_label][0], CLASS_STYLE[1 - pos_label][0]
    fig.update_xaxes(title_text=f"false positive rate ({negative} called {positive})", range=[0, 1])
    fig.update_yaxes(title_text=f"true positive rate ({positive} found)", range=[0, 1])
    fig.update_layout(
        title=f"ROC, positive class: {positive} (solid: frames, dashed: videos)",
        height=450,
        margin=dict(l=40, r=20, t=70, b=40),
    )
    return fig


# --- explanation grid ---------------------------------------------------------------------------
def explanation_tiles(faces, gradcam, residual=None, residual_vmax: float | None = None) -> dict[str, np.ndarray]:
    """The pictures of :func:`explanation_grid_figure`, each (n, S, S, 3) uint8: ``face``,
    ``gradcam`` (:func:`acglab.explain.heatmap_overlay` of the map on the face) and, given
    ``residual``, ``residual`` (coloured on one scale for all faces: 0 to ``residual_vmax``,
    default the largest residual)."""
    faces = np.asarray(faces)
    if faces.ndim != 4 or faces.shape[-1] != 3:
        raise ValueError(f"faces must be (n, S, S, 3) uint8, got shape {faces.shape}")
    tiles = {
        "face": faces.astype(np.uint8),
        "gradcam": np.stack([heatmap_overlay(f, h, cmap=GRADCAM_CMAP) for f, h in zip(faces, gradcam)]),
    }
    if residual is not None:
        residual = np.asarray(residual, dtype=np.float64)
        vmax = residual_vmax if residual_vmax is not None else float(residual.max()) or 1.0
        tiles["residual"] = np.stack(
            [np.rint(255 * colorize(r, RESIDUAL_CMAP, vmax)).astype(np.uint8) for r in residual]
        )
    return tiles


def explanation_grid_figure(
    faces, gradcam, labels, residual=None, scores=None, per_class: int = 4, panels=("face", "gradcam", "residual")
) -> go.Figure:
    """Real faces (top rows) against fake faces (bottom rows): for each class one row per panel
    (face, Grad-CAM overlay, residual), ``per_class`` faces per row.

    Parameters
    ----------
    faces : (n, S, S, 3) uint8; gradcam : (n, S, S) in [0, 1]; labels : (n,) 1 = real, 0 = fake
    residual : (n, S, S) or ``None`` (the residual rows are then left out)
    scores : (n,) P(fake), shown in the column titles
    per_class : faces per class (the first ones of each class, in order)

    Returns a figure of ``go.Image`` traces, row by row (real panels first), left to right.
    """
    labels = np.asarray(labels)
    panels = [p for p in panels if p != "residual" or residual is not None]
    unknown = [p for p in panels if p not in PANELS]
    if unknown:
        raise ValueError(f"unknown panel(s) {unknown}; choose among {list(PANELS)}")
    tiles = explanation_tiles(faces, gradcam, residual)
    chosen = {c: np.flatnonzero(labels == c)[:per_class] for c in (REAL, FAKE)}
    columns = max(1, max(len(v) for v in chosen.values()))
    titles = []  # the first column names the row; the first row of a class gives P(fake)
    for c in (REAL, FAKE):
        for p in panels:
            for k in range(columns):
                parts = []
                if k < len(chosen[c]):
                    if k == 0:
                        parts.append(f"{CLASS_STYLE[c][0]}: {PANELS[p]}")
                    if p == panels[0] and scores is not None:
                        parts.append(f"P(fake) {scores[chosen[c][k]]:.2f}")
                titles.append(", ".join(parts))
    fig = make_subplots(
        rows=2 * len(panels), cols=columns, subplot_titles=titles, vertical_spacing=0.04, horizontal_spacing=0.01
    )
    for ci, c in enumerate((REAL, FAKE)):
        for pi, p in enumerate(panels):
            for k, i in enumerate(chosen[c]):
                fig.add_trace(go.Image(z=tiles[p][i], hoverinfo="skip"), row=ci * len(panels) + pi + 1, col=k + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_annotations(font_size=11)
    side = 150
    fig.update_layout(
        height=side * 2 * len(panels) + 60,
        width=max(side * columns, 520),
        margin=dict(l=10, r=10, t=50, b=10),
        title="real faces (top rows), fake faces (bottom rows)",
    )
    return fig


# --- feature space -----------------------------------------------------------------------------
def central_range(values, share: float = 0.96, pad: float = 0.15) -> list[float]:
    """Axis range ``[lo - pad * w, hi + pad * w]`` around the central ``share`` of ``values``
    (``lo``, ``hi`` its quantiles (1 - share) / 2 and (1 + share) / 2, ``w = hi - lo``)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if not len(values):
        return [-1.0, 1.0]
    lo, hi = np.quantile(values, [(1 - share) / 2, (1 + share) / 2])
    width = max(hi - lo, 1e-9)
    return [float(lo - pad * width), float(hi + pad * width)]


def feature_embedding_figure(
    coords,
    labels,
    generated=None,
    bank=None,
    title: str = "bottleneck features",
    hover_text=None,
    generated_name: str = "OT-generated features",
    central: float | None = None,
) -> go.Figure:
    """Features in the plane coloured real/fake, with the OT bank and generated features overlaid.

    coords : (n, 2) positions of the faces' features; labels : (n,) 1 = real, 0 = fake
    generated : (m, 2) positions of OT-generated features, or ``None``
    bank : (k, 2) positions of the OT module's fitted features, or ``None``
    central : when given (e.g. 0.96), the axes show the central share of the faces and the bank
        (:func:`central_range`; bottleneck features have far outliers), not every point
    Traces, in order: real, fake, then the bank and the generated features when given.
    """
    coords, labels = np.asarray(coords, dtype=np.float64), np.asarray(labels)
    if coords.ndim != 2 or coords.shape[1] != 2 or len(labels) != len(coords):
        raise ValueError(f"coords must be (n, 2) with one label per row, got {coords.shape} and {len(labels)} labels")
    text = np.asarray(hover_text) if hover_text is not None else None
    fig = go.Figure()
    for c in (REAL, FAKE):
        name, colour = CLASS_STYLE[c]
        pick = labels == c
        fig.add_scatter(
            x=coords[pick, 0],
            y=coords[pick, 1],
            mode="markers",
            name=name,
            text=text[pick] if text is not None else None,
            marker=dict(color=colour, size=6, opacity=0.7),
        )
    for points, name, style in (
        (bank, "OT bank (fitted features)", dict(color=BANK_COLOR, size=4, symbol="circle-open")),
        (generated, generated_name, dict(color=GENERATED_COLOR, size=6, symbol="x")),
    ):
        if points is None:
            continue
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        fig.add_scatter(x=points[:, 0], y=points[:, 1], mode="markers", name=name, marker=style)
    fig.update_layout(
        title=title,
        height=520,
        margin=dict(l=40, r=20, t=60, b=40),
        xaxis=dict(title="component 1"),
        yaxis=dict(title="component 2"),
    )
    if central is not None:
        shown = coords if bank is None else np.vstack([coords, np.asarray(bank, dtype=np.float64).reshape(-1, 2)])
        fig.update_xaxes(range=central_range(shown[:, 0], central))
        fig.update_yaxes(range=central_range(shown[:, 1], central))
    return fig
