"""The analysis app of notebook 07, built from ipywidgets (served as a web app by Voilà).

One :class:`AnalysisApp` holds the whole page:

- *input*: upload an image or a video (``FileUpload``) or pick a sample face;
- *verdict*: the calibrated P(fake) and the verdict (:mod:`acglab.app.analysis`);
- *heatmaps*: the face with its Grad-CAM or residual map over it, with an opacity slider;
- *latent map*: the reference faces in the detector's feature space with the face as a star
  (:mod:`acglab.app.reference`);
- *edit*: replace, delete or modify a face part (:mod:`acglab.edit`), then see the verdict and
  heatmaps of the edited face;
- *report*: write the analysis report (:mod:`acglab.app.report`) and offer it for download.

Every callback catches user errors and shows them in the status line; nothing else changes then.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from acglab.data.images import png_bytes
from acglab.errors import AcglabError

PICTURE_WIDTH = 240


def verdict_html(result) -> str:
    """The verdict banner of an analysis (a face or a video)."""
    colour = {"fake": ("#fde0dd", "#a50f15"), "real": ("#deebf7", "#08519c")}[result.verdict]
    what = (
        "video, mean over frames"
        if hasattr(result, "frames")
        else ("calibrated" if result.calibrated else "uncalibrated score")
    )
    return (
        f'<div class="acglab-verdict" style="font-size:1.4em;padding:.3em .7em;border-radius:.3em;'
        f'display:inline-block;background:{colour[0]};color:{colour[1]}">{result.verdict.upper()} · '
        f'P(fake) {result.p_fake:.3f} <span style="font-size:.6em">({what})</span></div>'
    )


class AnalysisApp:
    """The app's widgets and callbacks (module notes).

    analyzer : an :class:`acglab.app.analysis.Analyzer` (with a reference map for the latent
    panel); samples : ``[(name, path)]`` of sample photos; workdir : where uploads and reports go.
    """

    def __init__(self, analyzer, samples, workdir):
        import ipywidgets as w

        from acglab.faces.parts import PARTS

        self.analyzer = analyzer
        self.samples = {name: Path(path) for name, path in samples}
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.result = None  # the analysis shown
        self.original = None  # (name, image, sha256) of the photo before any edit
        self.edited = None  # the edited image, when the shown analysis is of an edit
        self._landmarks = None
        self.upload = w.FileUpload(accept="image/*,video/*", multiple=False, description="Upload a face")
        self.sample = w.Dropdown(options=list(self.samples), value=None, description="or a sample")
        self.status = w.HTML()
        self.verdict = w.HTML()
        self.view = w.ToggleButtons(options=["Grad-CAM", "residual"], value="Grad-CAM")
        self.opacity = w.FloatSlider(
            value=0.45, min=0.0, max=1.0, step=0.05, description="opacity", continuous_update=False
        )
        self.face = w.Image(format="png", width=PICTURE_WIDTH)
        self.heat = w.Image(format="png", width=PICTURE_WIDTH)
        self.op = w.Dropdown(options=["replace", "delete", "modify"], value="replace", description="edit")
        self.part = w.Dropdown(
            options=[p for p in PARTS if p not in ("face", "skin")], value="mouth", description="part"
        )
        self.donor = w.Dropdown(options=list(self.samples), description="donor")
        self.amount = w.FloatSlider(
            value=0.3, min=-0.5, max=0.8, step=0.05, description="amount", continuous_update=False
        )
        self.apply = w.Button(description="Apply edit", icon="magic")
        self.undo = w.Button(description="Original", icon="undo")
        self.report_button = w.Button(description="Write report", icon="file")
        self.download = w.HTML()
        self.latent = self._latent_widget()
        self.upload.observe(self._on_upload, names="value")
        self.sample.observe(self._on_sample, names="value")
        self.view.observe(lambda _: self._draw_heat(), names="value")
        self.opacity.observe(lambda _: self._draw_heat(), names="value")
        self.apply.on_click(self._on_edit)
        self.undo.on_click(self._on_undo)
        self.report_button.on_click(self._on_report)
        self.widget = self._layout()

    # --- layout -------------------------------------------------------------------------------
    def _latent_widget(self):
        ref = self.analyzer.reference
        if ref is None:
            return None
        import plotly.graph_objects as go

        from acglab.app.report import latent_figure

        fig = latent_figure(ref, [_Origin()], [""])
        fig.data[-1].update(x=[], y=[], text=[])  # the star appears with the first analysis
        return go.FigureWidget(fig)

    def _layout(self):
        import ipywidgets as w

        pictures = w.HBox([w.VBox([w.HTML("<b>face</b>"), self.face]), w.VBox([w.HTML("<b>heatmap</b>"), self.heat])])
        edit = w.VBox(
            [
                w.HTML("<h3>Edit the face</h3>"),
                w.HBox([self.op, self.part]),
                w.HBox([self.donor, self.amount]),
                w.HBox([self.apply, self.undo]),
            ]
        )
        right = [w.HTML("<h3>Latent map</h3>"), self.latent] if self.latent is not None else []
        return w.VBox(
            [
                w.HTML("<h2>acglab face analysis</h2>"),
                w.HBox([self.upload, self.sample]),
                self.status,
                self.verdict,
                self.view,
                self.opacity,
                w.HBox([pictures, w.VBox(right)]),
                edit,
                w.HBox([self.report_button, self.download]),
            ]
        )

    # --- callbacks ----------------------------------------------------------------------------
    def _guard(self, action, *args):
        try:
            action(*args)
        except AcglabError as err:
            self.status.value = f'<span class="acglab-error" style="color:#a50f15">{err}</span>'

    def _on_sample(self, change):
        if change["new"]:
            self._guard(self.open, self.samples[change["new"]], change["new"])

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0]
        name = Path(item["name"]).name or "upload"
        target = self.workdir / "uploads" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bytes(item["content"]))
        self._guard(self.open, target, name)

    def _on_edit(self, _):
        self._guard(self.edit)

    def _on_undo(self, _):
        if self.original is not None:
            self._guard(self._analyse, *self.original)

    def _on_report(self, _):
        self._guard(self.report)

    # --- actions ------------------------------------------------------------------------------
    def open(self, path, name: str) -> None:
        """Analyse an image or video file and show it."""
        from acglab.app.analysis import MAX_SIDE, VIDEO_SUFFIXES, sha256_of
        from acglab.data.images import load_image

        self.status.value = f"analysing {name} ..."
        path = Path(path)
        if path.suffix.lower() in VIDEO_SUFFIXES:
            result = self.analyzer.analyze_file(path)
            self.original, self.edited, self._landmarks = None, None, None
            self._show(result, f"{name}: {len(result.frames)} frames analysed")
            return
        image = load_image(path, max_side=MAX_SIDE)
        self.original = (name, image, sha256_of(path))
        self._landmarks = None
        self._analyse(*self.original)

    def _analyse(self, name, image, sha256, note: str = "") -> None:
        result = self.analyzer.analyze_face(image, name, sha256)
        self.edited = None if not note else image
        self._show(
            result,
            note
            or f"{name}: {result.n_faces} face(s) found" + (", the largest analysed" if result.n_faces > 1 else ""),
        )

    def edit(self) -> None:
        """Apply the chosen edit to the original photo and analyse the edited face."""
        from acglab.data.images import load_image
        from acglab.edit.faces import locate_face
        from acglab.edit.geometric import apply_edit

        if self.original is None:
            raise AcglabError("open a photo first (videos cannot be edited)")
        name, image, _ = self.original
        if self._landmarks is None:
            self._landmarks = locate_face(image, name).landmarks
        options, donor, donor_landmarks = {}, None, None
        if self.op.value == "replace":
            donor_name = self.donor.value
            donor = load_image(self.samples[donor_name])
            donor_landmarks = locate_face(donor, donor_name).landmarks
        elif self.op.value == "modify":
            options["amount"] = float(self.amount.value)
        before = self.result.p_fake if self.result is not None else float("nan")
        edited = apply_edit(image, self._landmarks, self.op.value, self.part.value, donor, donor_landmarks, **options)
        self._analyse(
            f"{name} ({self.op.value} {self.part.value})",
            edited.image,
            None,
            note=f"edited: {self.op.value} {self.part.value}; P(fake) {before:.3f} → ",
        )
        self.status.value += f"{self.result.p_fake:.3f}"

    def report(self) -> Path:
        """Write the report of the shown analysis and offer it as a download link."""
        from acglab.app.report import report_html, write_html

        if self.result is None:
            raise AcglabError("nothing analysed yet")
        page = report_html([self.result], self.analyzer.card, self.analyzer.reference, interactive=False)
        path = write_html(self.workdir / "acglab-report.html", page)
        data = base64.b64encode(page.encode()).decode()
        self.download.value = (
            f'<a class="acglab-download" download="acglab-report.html" '
            f'href="data:text/html;base64,{data}">Download the report</a>'
        )
        return path

    # --- drawing ------------------------------------------------------------------------------
    def _show(self, result, note: str) -> None:
        self.result = result
        self.verdict.value = verdict_html(result)
        self.status.value = note
        self.download.value = ""
        face = self._face_analysis()
        self.face.value = png_bytes(face.explanation.face)
        self._draw_heat()
        if self.latent is not None and face.placement is not None:
            star = self.latent.data[-1]
            star.update(
                x=[float(face.placement.position[0])], y=[float(face.placement.position[1])], text=["this face"]
            )

    def _face_analysis(self):
        r = self.result
        return max(r.frames, key=lambda f: f.p_fake) if hasattr(r, "frames") else r

    def _draw_heat(self) -> None:
        from acglab.explain.figures import GRADCAM_CMAP, RESIDUAL_CMAP, heatmap_overlay

        if self.result is None:
            return
        e = self._face_analysis().explanation
        heat, cmap = (
            (e.gradcam, GRADCAM_CMAP)
            if self.view.value == "Grad-CAM" or e.residual is None
            else (e.residual, RESIDUAL_CMAP)
        )
        self.heat.value = png_bytes(heatmap_overlay(e.face, heat, alpha=float(self.opacity.value), cmap=cmap))


class _Origin:
    """A placeholder placement at the origin (the latent star before any face is analysed)."""

    position = np.zeros(2)
