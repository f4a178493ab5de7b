"""The analysis app's widgets (acglab.app.widgets), driven from Python by setting ``.value`` and
clicking buttons: each control changes what the page shows, and user errors land in the status
line. The browser test of the app served by Voila is in test_app_browser.py."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def app(tmp_path_factory, landmark_predictor):
    from skimage import data
    from synthetic_faces import make_generic

    from acglab.app.analysis import Analyzer, load_detector
    from acglab.app.reference import build_reference_map, reference_table
    from acglab.app.widgets import AnalysisApp
    from acglab.data.images import save_image
    from acglab.models import build_model
    from acglab.models.checkpoint import save_checkpoint

    base = tmp_path_factory.mktemp("app")
    torch.manual_seed(0)
    model = build_model(arch="acg", backbone="resnet18", pretrained=False, img_size=64)
    save_checkpoint(
        base / "last.pt",
        model,
        calibration={"temperature": 2.0, "ece_before": 0.1, "ece_after": 0.05, "n": 8, "source": "validation"},
    )
    astronaut = data.astronaut()
    save_image(base / "astronaut.jpg", astronaut)
    save_image(base / "shifted.jpg", np.roll(astronaut, 12, axis=1))
    save_image(base / "wall.png", np.full((120, 120, 3), 90, np.uint8))
    analyzer = Analyzer(base / "last.pt")
    model, card = load_detector(base / "last.pt")
    analyzer.reference = build_reference_map(
        model, reference_table(make_generic(base / "ref", videos=10, frames=1)), info={"checkpoint_sha256": card.sha256}
    )
    samples = [
        ("astronaut.jpg", base / "astronaut.jpg"),
        ("shifted.jpg", base / "shifted.jpg"),
        ("wall.png", base / "wall.png"),
    ]
    return AnalysisApp(analyzer, samples, base / "work")


def test_picking_a_sample_shows_verdict_pictures_and_the_latent_star(app):
    app.sample.value = "astronaut.jpg"
    assert "P(fake)" in app.verdict.value and "calibrated" in app.verdict.value
    assert app.face.value[:4] == b"\x89PNG" and app.heat.value[:4] == b"\x89PNG"
    star = app.latent.data[-1]
    assert star.x[0] == pytest.approx(app.result.placement.position[0]) and star.text == ("this face",)
    assert f"{app.result.p_fake:.3f}" in app.verdict.value


def test_opacity_and_view_redraw_the_heatmap(app):
    app.sample.value = "astronaut.jpg"
    first = app.heat.value
    app.opacity.value = 0.9
    assert app.heat.value != first
    opaque = app.heat.value
    app.view.value = "residual"
    assert app.heat.value != opaque
    app.view.value = "Grad-CAM"


def test_an_edit_is_analysed_and_undone(app):
    app.sample.value = "astronaut.jpg"
    before_face, before_p = app.face.value, app.result.p_raw
    app.op.value, app.part.value, app.amount.value = "modify", "mouth", 0.6
    app.apply.click()
    assert "edited: modify mouth" in app.status.value and app.edited is not None
    assert app.face.value != before_face and app.result.p_raw != before_p
    app.undo.click()
    assert app.face.value == before_face and app.result.p_raw == pytest.approx(before_p)


def test_the_report_is_offered_as_a_download(app):
    app.sample.value = "astronaut.jpg"
    app.report_button.click()
    link = app.download.value
    assert 'download="acglab-report.html"' in link
    page = base64.b64decode(link.split("base64,")[1].split('"')[0]).decode()
    assert app.result.sha256 in page and app.analyzer.card.sha256 in page and app.result.verdict.upper() in page


def test_an_upload_is_analysed_and_errors_stay_in_the_status_line(app, tmp_path):
    jpeg = (app.samples["shifted.jpg"]).read_bytes()
    app.upload.value = (
        {
            "name": "mine.jpg",
            "type": "image/jpeg",
            "size": len(jpeg),
            "content": memoryview(jpeg),
            "last_modified": datetime.now(UTC),
        },
    )
    assert app.result.source == "mine.jpg" and "mine.jpg" in app.status.value
    shown = app.verdict.value
    app.sample.value = "wall.png"
    assert "no face found" in app.status.value and "acglab-error" in app.status.value
    assert app.verdict.value == shown  # the last good analysis stays
    broken = b"\xff\xd8\xff\xe0 not a jpeg"
    app.upload.value = (
        {
            "name": "broken.jpg",
            "type": "image/jpeg",
            "size": len(broken),
            "content": memoryview(broken),
            "last_modified": datetime.now(UTC),
        },
    )
    assert "acglab-error" in app.status.value and app.verdict.value == shown


def test_demo_detector_trains_once_and_keeps_its_calibration(tmp_path):
    from synthetic_faces import make_generic

    from acglab.app.analysis import load_detector
    from acglab.train.demo import demo_detector

    data = make_generic(tmp_path / "faces", videos=12, frames=2)
    path = demo_detector(data, root=tmp_path / "runs", epochs=1)
    stamp = path.stat().st_mtime_ns
    _, card = load_detector(path)
    assert card.calibration is not None and card.calibration["temperature"] > 0
    assert card.data["root"] == str(data) and card.train_config["epochs"] == 1
    assert demo_detector(data, root=tmp_path / "runs", epochs=1) == path and path.stat().st_mtime_ns == stamp
