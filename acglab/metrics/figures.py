"""Interactive ROC figure (plotly, imported only when a figure is drawn)."""

from __future__ import annotations

from acglab.labels import FAKE
from acglab.metrics.binary import equal_error_rate, roc_auc, roc_curve
from acglab.metrics.video import video_scores

CLASS_NAMES = {0: "fake", 1: "real"}


def roc_figure(labels, scores, videos=None, pos_label: int = FAKE, name: str = "", fig=None):
    """ROC curves at frame level and (given ``videos``) at video level, each marked at its EER.

    Parameters
    ----------
    labels, scores, videos, pos_label : as in :func:`acglab.metrics.evaluate`.
    name : prefix of the legend entries (e.g. a model name) when comparing several models.
    fig : a figure to add the curves to; a new one (with the chance diagonal) when ``None``.

    Returns
    -------
    plotly.graph_objects.Figure; legend entries read ``"<name> frames: AUC 0.973, EER 8.1%"``.
    """
    import plotly.graph_objects as go

    levels = [("frames", labels, scores)]
    if videos is not None:
        video_labels, video_means, _ = video_scores(labels, scores, videos)
        levels.append(("videos", video_labels, video_means))
    if fig is None:
        positive, negative = CLASS_NAMES[pos_label], CLASS_NAMES[1 - pos_label]
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(dash="dot", color="grey")))
        fig.update_layout(
            xaxis=dict(title=f"false positive rate ({negative} called {positive})", range=[0, 1]),
            yaxis=dict(title=f"true positive rate ({positive} found)", range=[0, 1], scaleanchor="x", scaleratio=1),
            width=520,
            height=520,
            legend=dict(x=0.98, y=0.02, xanchor="right", yanchor="bottom"),
            title=f"ROC, positive class: {positive}",
        )
    for level, level_labels, level_scores in levels:
        curve = roc_curve(level_labels, level_scores, pos_label)
        auc = roc_auc(level_labels, level_scores, pos_label)
        eer, threshold = equal_error_rate(level_labels, level_scores, pos_label)
        label = f"{name} {level}".strip()
        fig.add_trace(
            go.Scatter(
                x=curve.fpr,
                y=curve.tpr,
                mode="lines",
                legendgroup=label,
                name=f"{label}: AUC {auc:.3f}, EER {100 * eer:.1f}%",
                customdata=curve.thresholds,
                hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}<br>threshold %{customdata:.4f}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[eer],
                y=[1 - eer],
                mode="markers",
                name=f"{label} EER (threshold {threshold:.3f})",
                marker=dict(size=9, symbol="x"),
                legendgroup=label,
                showlegend=False,
                hovertemplate=f"EER {100 * eer:.2f}% at threshold {threshold:.4f}<extra></extra>",
            )
        )
    return fig
