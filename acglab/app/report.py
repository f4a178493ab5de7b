"""The analysis report: one self-contained HTML file, and a PDF with the same content.

:func:`report_html` turns analyses (:mod:`acglab.app.analysis`) into one HTML page that
opens with no network: every picture is an embedded PNG, the latent map an embedded plotly
figure with plotly.js inlined (``interactive=False`` draws it as a PNG instead, for the PDF). The
page holds, for each input: its name and SHA-256, the verdict with its calibrated probability,
the face with its Grad-CAM and residual heatmaps, its place among the reference faces, for a
video the per-frame score curve; and once: the model (name, checkpoint SHA-256, training data,
calibration), the acglab version, the date, and a plain-language reading with its limits.

:func:`write_pdf` prints the static page to PDF with headless Chromium (Debian's ``chromium``).
Both writers go through a temporary file, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from acglab.data.images import png_bytes
from acglab.errors import ReportError

#: what the report says about the limits of the quick-preset detectors, as measured in
#: benchmarks/RESULTS.md (2026-12-03, celebdf-mini split by target identity)
MEASURED_LIMITS = (
    "Measured for the quick-preset detectors (benchmarks/RESULTS.md): on Celeb-DF videos of people they never "
    "saw, video AUC 0.92-0.93; on local edits of real faces (a replaced, deleted or recoloured eye, brow, nose "
    "or mouth), frame AUC 0.45-0.60, chance; across datasets (other forgery methods, other cameras) scores "
    "of this kind of detector are known to fall towards chance."
)


#: pictures in the report are shrunk to at most this many pixels a side (the page shows them at 200)
PICTURE_SIDE = 224


def _png(picture: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(picture, max_side=PICTURE_SIDE)).decode()


def _figure_png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def face_pictures(analysis) -> dict[str, str]:
    """Data URLs of the face, its Grad-CAM overlay and its residual overlay (when there is one)."""
    from acglab.explain.figures import GRADCAM_CMAP, RESIDUAL_CMAP, heatmap_overlay

    e = analysis.explanation
    out = {"face": _png(e.face), "gradcam": _png(heatmap_overlay(e.face, e.gradcam, cmap=GRADCAM_CMAP))}
    if e.residual is not None:
        out["residual"] = _png(heatmap_overlay(e.face, e.residual, alpha=0.6, cmap=RESIDUAL_CMAP))
    return out


def latent_figure(reference, placements, names):
    """Plotly figure of the reference layout (real / fake) with the analysed faces as stars."""
    import plotly.graph_objects as go

    from acglab.labels import FAKE

    fig = go.Figure()
    for label, colour, name in ((1 - FAKE, "#2c7fb8", "reference real"), (FAKE, "#d7301f", "reference fake")):
        pts = reference.layout[reference.labels == label]
        fig.add_trace(
            go.Scatter(
                x=pts[:, 0],
                y=pts[:, 1],
                mode="markers",
                name=name,
                marker={"size": 6, "color": colour, "opacity": 0.55},
            )
        )
    xy = np.array([p.position for p in placements])
    fig.add_trace(
        go.Scatter(
            x=xy[:, 0],
            y=xy[:, 1],
            mode="markers+text",
            name="analysed",
            text=names,
            textposition="top center",
            marker={"size": 16, "symbol": "star", "color": "#111", "line": {"width": 1, "color": "#fff"}},
        )
    )
    fig.update_layout(
        width=520,
        height=420,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="position among reference faces (UMAP of the detector's features)",
        xaxis={"visible": False},
        yaxis={"visible": False},
        legend={"orientation": "h"},
    )
    return fig


def latent_png(reference, placements, names) -> str:
    """The same map as :func:`latent_figure`, drawn with matplotlib (static reports, PDF)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from acglab.labels import FAKE

    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    for label, colour, name in ((1 - FAKE, "#2c7fb8", "reference real"), (FAKE, "#d7301f", "reference fake")):
        pts = reference.layout[reference.labels == label]
        ax.scatter(pts[:, 0], pts[:, 1], s=10, c=colour, alpha=0.55, label=name)
    for p, name in zip(placements, names):
        ax.scatter([p.position[0]], [p.position[1]], s=220, marker="*", c="#111", edgecolors="white", zorder=3)
        ax.annotate(name, p.position, textcoords="offset points", xytext=(0, 9), ha="center", fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title("position among reference faces (UMAP of the detector's features)", fontsize=9)
    ax.legend(fontsize=8, loc="best")
    return _figure_png(fig)


def frame_curve_png(video) -> str:
    """P(fake) of each analysed frame of a video, with the threshold."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 2.4))
    ax.plot([f.frame for f in video.frames], [f.p_fake for f in video.frames], "o-", color="#333")
    ax.axhline(0.5, color="#d7301f", lw=1, ls="--")
    ax.set_ylim(0, 1), ax.set_xlabel("frame"), ax.set_ylabel("P(fake)")
    return _figure_png(fig)


def reading(analysis, card) -> str:
    """A short plain-language reading of one result."""
    p = analysis.p_fake
    strength = "clearly" if abs(p - 0.5) > 0.35 else ("somewhat" if abs(p - 0.5) > 0.15 else "barely")
    side = "forged" if analysis.verdict == "fake" else "authentic"
    calibrated = (
        "calibrated on its validation faces"
        if getattr(analysis, "calibrated", True)
        else "not calibrated (the checkpoint has no fitted temperature), so read it as a score, not a probability"
    )
    text = (
        f"The detector {strength} leans towards <b>{side}</b>: P(fake) = {p:.2f}, {calibrated}. "
        "The Grad-CAM map shows which regions raised the score of its decision; the residual map shows where "
        "the autoencoder, trained to rebuild real faces, fails to rebuild this one."
    )
    placement = getattr(analysis, "placement", None)
    if placement is not None:
        share = placement.fake_share
        where = {
            "regular": "among reference faces, where the OT map interpolates between neighbours",
            "singular": "across a singular face of the OT map, between clusters of reference faces",
            "gap": "far from every reference face: the detector has seen nothing like it",
        }[placement.kind]
        text += (
            f" In the detector's feature space the face lies {where}; {100 * share:.0f}% of its "
            f"{len(placement.neighbours)} nearest reference faces are fakes."
        )
    return text


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }
.verdict { font-size: 1.3em; padding: .4em .8em; border-radius: .3em; display: inline-block; }
.fake { background: #fde0dd; color: #a50f15; } .real { background: #deebf7; color: #08519c; }
.pics { display: flex; gap: 1em; flex-wrap: wrap; } .pics figure { margin: 0; text-align: center; }
.pics img { width: 200px; height: auto; image-rendering: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; } td, th { padding: .2em .8em; border-bottom: 1px solid #eee; text-align: left; }
code { font-size: .85em; word-break: break-all; } .limits { background: #f7f7f7; padding: .6em 1em; }
section.face { page-break-inside: avoid; }
"""


def _face_section(analysis, title: str, text: str = "") -> str:
    pics = face_pictures(analysis)
    figures = "".join(
        f'<figure><img alt="{k}" src="{v}"><figcaption>{k}</figcaption></figure>'
        for k, v in (("face", pics["face"]), ("Grad-CAM", pics["gradcam"]), ("residual", pics.get("residual")))
        if v
    )
    faces = f" The largest of {analysis.n_faces} faces was analysed." if analysis.n_faces > 1 else ""
    return (
        f'<section class="face"><h2>{html.escape(title)}</h2>'
        f'<p><span class="verdict {analysis.verdict}">{analysis.verdict.upper()} · P(fake) {analysis.p_fake:.3f}'
        f"</span></p><p>SHA-256 <code>{analysis.sha256 or '-'}</code>.{faces}</p>"
        f'<div class="pics">{figures}</div>{f"<p>{text}</p>" if text else ""}</section>'
    )


def _summary_section(results) -> str:
    """The table of every input's verdict (reports of two or more inputs)."""
    rows = "".join(
        f"<tr><td>{k}</td><td>{html.escape(Path(r.source).name)}</td><td>{r.verdict}</td><td>{r.p_fake:.3f}</td></tr>"
        for k, r in enumerate(results, 1)
    )
    fakes = sum(r.verdict == "fake" for r in results)
    return (
        f"<section><h2>Summary</h2><p>{fakes} of {len(results)} called fake.</p><table><tr><th>#</th>"
        f"<th>input</th><th>verdict</th><th>P(fake)</th></tr>{rows}</table></section>"
    )


def _input_sections(k: int, r, card) -> tuple[list[str], object]:
    """The sections of input ``k`` and the latent placement it shows (``None`` without one); a
    video shows its frame curve and its frame with the highest P(fake)."""
    name = Path(r.source).name
    if not hasattr(r, "frames"):
        return [_face_section(r, f"{k}. {name}", reading(r, card))], r.placement
    first = max(r.frames, key=lambda f: f.p_fake)
    video = (
        f"<section><h2>{k}. {html.escape(name)} (video)</h2>"
        f'<p><span class="verdict {r.verdict}">{r.verdict.upper()} · mean P(fake) {r.p_fake:.3f}</span>'
        f"</p><p>SHA-256 <code>{r.sha256}</code>. {len(r.frames)} of {r.n_frames} frames analysed"
        f"{'; skipped: ' + str(len(r.skipped)) if r.skipped else ''}.</p>"
        f'<img alt="frame scores" src="{frame_curve_png(r)}"></section>'
    )
    face = _face_section(first, f"{k}. {name}, frame {first.frame} (highest P(fake))")
    return [video, face, f"<p>{reading(r, card)}</p>"], first.placement


def _latent_section(reference, placements, names, interactive: bool) -> str:
    """The latent map with every analysed face: interactive plotly, or a picture."""
    if interactive:
        fig = latent_figure(reference, placements, names)
        return "<section><h2>Latent map</h2>" + fig.to_html(full_html=False, include_plotlyjs=True) + "</section>"
    return (
        f'<section><h2>Latent map</h2><img alt="latent map" src="{latent_png(reference, placements, names)}"></section>'
    )


def _trained_on(card) -> str:
    """What the detector was trained on, from its card."""
    data = card.data or {}
    return (
        f"{data.get('root') or 'unknown data'} ({data.get('train_samples', '?')} training faces, "
        f"{data.get('val_samples', '?')} validation faces)"
    )


def _model_section(card, version: str) -> str:
    """The detector: name, checkpoint and its hash, training data, calibration, acglab version."""
    cal = card.calibration
    cal_text = (
        f"temperature {cal['temperature']:.2f} fitted on {cal['n']} validation faces (ECE "
        f"{cal['ece_before']:.3f} before, {cal['ece_after']:.3f} after)"
        if cal
        else "none"
    )
    return (
        "<section><h2>Model</h2><table>"
        f"<tr><th>model</th><td>{html.escape(card.name)}</td></tr>"
        f"<tr><th>checkpoint</th><td>{html.escape(Path(card.checkpoint).name)}, epoch {card.epoch}</td></tr>"
        f"<tr><th>checkpoint SHA-256</th><td><code>{card.sha256}</code></td></tr>"
        f"<tr><th>trained on</th><td>{html.escape(_trained_on(card))}</td></tr>"
        f"<tr><th>calibration</th><td>{cal_text}</td></tr>"
        f"<tr><th>acglab</th><td>{version}</td></tr></table></section>"
    )


def _limits_section(card) -> str:
    """What a verdict can and cannot say, with the measured limits of the quick-preset detectors."""
    return (
        '<section><h2>Limits</h2><div class="limits"><p>A detector is a model of the forgeries it was '
        "trained on. Its verdict is evidence, not proof: a real face can score high (unusual lighting, "
        "heavy compression, a face unlike its training faces) and a forgery of an unseen kind can score "
        f"low. This model was trained on {html.escape(_trained_on(card))}.</p><p>{MEASURED_LIMITS}</p></div></section>"
    )


def report_html(
    results, card, reference=None, interactive: bool = True, version: str | None = None, date: str | None = None
) -> str:
    """The report page of ``results`` (:class:`FaceAnalysis` / :class:`VideoAnalysis`) by the
    detector described by ``card`` (module notes)."""
    from acglab import __version__

    if not results:
        raise ReportError("nothing to report: every input failed")
    version = version or __version__
    date = date or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"<h1>acglab analysis report</h1><p>{len(results)} input(s), {html.escape(date)}, acglab {version}.</p>"]
    if len(results) > 1:
        body.append(_summary_section(results))
    placements, names = [], []
    for k, r in enumerate(results, 1):
        sections, placement = _input_sections(k, r, card)
        body += sections
        if placement is not None:
            placements.append(placement)
            names.append(f"{k}")
    if reference is not None and placements:
        body.append(_latent_section(reference, placements, names, interactive))
    body += [_model_section(card, version), _limits_section(card)]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>acglab analysis report</title>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>"
    )


def write_html(path, page: str) -> Path:
    """Write the page atomically."""
    from acglab.fileio import write_text_atomic

    return write_text_atomic(path, page)


def chromium() -> str | None:
    """The headless browser that prints PDFs: Debian's ``chromium`` (or ``chromium-browser``)."""
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


def write_pdf(path, page: str, timeout: float = 120.0) -> Path:
    """Print the (static) page to a PDF at ``path`` with headless Chromium, atomically."""
    import os
    import subprocess
    import tempfile

    browser = chromium()
    if browser is None:
        raise ReportError("writing a PDF needs Debian's chromium (apt install chromium); the HTML report needs nothing")
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(page, encoding="utf-8")
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={out}",
            src.as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, text=True)
        except subprocess.TimeoutExpired:
            raise ReportError(f"chromium did not print the PDF within {timeout:.0f} s") from None
        if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            last = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise ReportError(f"chromium could not print the PDF ({last[0]})")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_target = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp_target.write_bytes(out.read_bytes())
        os.replace(tmp_target, path)
    return path
