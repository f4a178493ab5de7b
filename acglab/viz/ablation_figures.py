"""Plotly figures that compare detectors on a test part: the ablation table, each arm's video AUC
with its bootstrap interval and paired difference, and the AUC per forgery method. Each function
takes the rows of :mod:`acglab.eval.ablation` or :mod:`acglab.eval.categories` and returns a
``go.Figure``; the figures of one trained detector live in :mod:`acglab.viz.detector_figures`.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots


# --- ablation table ------------------------------------------------------------------------------
def _cell(value, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * value:.1f}%" if percent else f"{value:.3f}"


def ablation_table_figure(rows: list[dict], title: str = "ablation on the test part") -> go.Figure:
    """A table of :func:`acglab.eval.ablation.ablation_rows`: model, video AUC, video EER, frame
    AUC, frame EER, frame ACC, optimizer steps, source of the numbers (one ``go.Table`` trace)."""
    header = ["model", "video AUC", "video EER", "frame AUC", "frame EER", "frame ACC", "steps", "from"]
    cells = [
        [r.get("name", r.get("arm", "")) for r in rows],
        [_cell(r.get("video_auc")) for r in rows],
        [_cell(r.get("video_eer"), True) for r in rows],
        [_cell(r.get("frame_auc")) for r in rows],
        [_cell(r.get("frame_eer"), True) for r in rows],
        [_cell(r.get("frame_acc"), True) for r in rows],
        ["" if r.get("steps") is None else str(r["steps"]) for r in rows],
        [str(r.get("source", "")) for r in rows],
    ]
    fig = go.Figure(
        go.Table(header=dict(values=header, align="left", fill_color="#e8e8e8"), cells=dict(values=cells, align="left"))
    )
    fig.update_layout(title=title, height=120 + 30 * len(rows), margin=dict(l=10, r=10, t=50, b=10))
    return fig


def ablation_interval_figure(
    rows: list[dict], reference: str = "backbone", title: str = "test video AUC with 95% bootstrap intervals"
) -> go.Figure:
    """Two panels from :func:`acglab.eval.ablation.ablation_intervals`: each arm's video AUC with
    its interval (left) and its paired difference to ``reference`` with that interval (right;
    an interval that contains 0 is no evidence of a difference)."""
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.18, subplot_titles=("video AUC", f"paired difference to {reference}")
    )
    names = [r["name"] for r in rows]
    auc = [r["video_auc"] for r in rows]
    fig.add_trace(
        go.Scatter(
            x=auc,
            y=names,
            mode="markers",
            marker=dict(size=10, color="#1f77b4"),
            name="AUC",
            error_x=dict(
                type="data",
                symmetric=False,
                array=[r["ci"][1] - a for r, a in zip(rows, auc)],
                arrayminus=[a - r["ci"][0] for r, a in zip(rows, auc)],
            ),
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    diffs = [r for r in rows if "diff" in r]
    if diffs:
        d = [r["diff"] for r in diffs]
        fig.add_trace(
            go.Scatter(
                x=d,
                y=[r["name"] for r in diffs],
                mode="markers",
                name="difference",
                marker=dict(size=10, color="#d62728"),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=[r["diff_ci"][1] - v for r, v in zip(diffs, d)],
                    arrayminus=[v - r["diff_ci"][0] for r, v in zip(diffs, d)],
                ),
                hovertemplate="%{y}: %{x:+.3f}<extra></extra>",
            ),
            row=1,
            col=2,
        )
        fig.add_vline(x=0, line_dash="dash", line_color="gray", row=1, col=2)
    fig.update_yaxes(categoryorder="array", categoryarray=names[::-1])
    n = rows[0].get("n_videos") if rows else None
    fig.update_layout(
        title=title + (f" ({n} test videos)" if n else ""),
        showlegend=False,
        height=160 + 40 * len(rows),
        margin=dict(l=10, r=10, t=70, b=40),
    )
    return fig


def category_auc_figure(
    rows: list[dict], in_domain: float | None = None, level: str = "video", title: str = "AUC per forgery method"
) -> go.Figure:
    """Bars of the AUC of each row of :func:`acglab.eval.categories.category_metrics` at ``level``
    (``"frame"`` or ``"video"``), with a dashed line at chance (0.5) and, given ``in_domain``,
    one at the detector's AUC on its own test part."""
    names = [r["category"] for r in rows]
    auc = [float("nan") if r[level] is None else r[level]["auc"] for r in rows]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=auc,
            text=[_cell(a) for a in auc],
            textposition="outside",
            marker_color="#1f77b4",
            customdata=[[r["fake_videos"], r["real_videos"]] for r in rows],
            hovertemplate="%{x}: AUC %{y:.3f}<br>%{customdata[0]} fake, %{customdata[1]} real videos<extra></extra>",
        )
    )
    fig.add_hline(y=0.5, line_dash="dot", line_color="gray", annotation_text="chance")
    if in_domain is not None:
        fig.add_hline(y=in_domain, line_dash="dash", line_color="#d62728", annotation_text="own test part")
    fig.update_layout(
        title=f"{title} ({level} level)",
        yaxis=dict(range=[0, 1.08], title="AUC"),
        height=380,
        margin=dict(l=10, r=10, t=60, b=40),
    )
    return fig
