"""The analysis app served by Voila, driven in headless Chromium with Playwright.

`voila notebooks/07_analysis_app.ipynb` (as `make app` runs it) is started on 127.0.0.1 with a
detector checkpoint (a randomly initialised small ACG network with a fitted temperature; what
the page does does not depend on its training). The browser waits for the verdict, uploads a
face, drags the opacity slider, deletes a face part, downloads the report and checks its
content; screenshots go to build/test-artifacts/app/. Needs Debian's chromium and the playwright
package: without them the test fails under ``CI=true`` and is skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "app"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
START_TIMEOUT_S = 120
RUN_TIMEOUT_S = 420


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(what)
    pytest.skip(what)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def detector_checkpoint(tmp_path_factory):
    from acglab.models import build_model
    from acglab.models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model(arch="acg", backbone="resnet18", pretrained=False, img_size=64)
    path = tmp_path_factory.mktemp("app-detector") / "last.pt"
    save_checkpoint(
        path,
        model,
        calibration={"temperature": 1.7, "ece_before": 0.1, "ece_after": 0.04, "n": 40, "source": "validation"},
    )
    return path


@pytest.fixture(scope="module")
def voila_app(detector_checkpoint, tmp_path_factory):
    voila = Path(sys.executable).with_name("voila")
    if not voila.is_file():
        _missing("voila is not installed (pip extra `lab`)")
    port = _free_port()
    env = {
        **os.environ,
        "ACGLAB_DETECTOR": str(detector_checkpoint),
        "ACGLAB_QUICK": "1",
        "MPLBACKEND": "Agg",
        "JUPYTER_RUNTIME_DIR": str(tmp_path_factory.mktemp("jupyter-runtime")),
    }
    log = tmp_path_factory.mktemp("voila-log") / "voila.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                str(voila),
                str(ROOT / "notebooks" / "07_analysis_app.ipynb"),
                "--no-browser",
                "--Voila.ip=127.0.0.1",
                f"--port={port}",
                "--strip_sources=True",
                "--VoilaExecutor.timeout=600",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"voila exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url + "static/no-such-file", timeout=2)
            break
        except urllib.error.HTTPError:  # any answer: the server is up
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"voila did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")
    yield url, log
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_app_in_a_real_browser(voila_app, detector_checkpoint, celebdf_mini, tmp_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    if not Path(CHROMIUM).is_file():
        _missing(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    url, log = voila_app
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    face = next((celebdf_mini / "frames" / "YouTube-real").glob("*.jpg"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1400}, accept_downloads=True)
        try:
            page.goto(url, timeout=RUN_TIMEOUT_S * 1000)
            verdict = page.locator(".acglab-verdict")
            verdict.first.wait_for(timeout=RUN_TIMEOUT_S * 1000)
            assert "P(fake)" in verdict.first.inner_text()
            assert (
                not page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']").count()
                or "Traceback" not in page.content()
            )
            page.screenshot(path=str(ARTIFACTS / "1-sample.png"), full_page=True)

            # upload a face: the verdict is redrawn for it
            with page.expect_file_chooser(timeout=30_000) as chooser:
                page.get_by_text("Upload a face").click()
            chooser.value.set_files(str(face))
            page.get_by_text(f"{face.name}: ").first.wait_for(timeout=120_000)
            page.screenshot(path=str(ARTIFACTS / "2-upload.png"), full_page=True)

            # drag the opacity slider: the heatmap picture changes
            heat = page.locator("img.widget-image").nth(1)
            before = heat.get_attribute("src")
            handle = page.locator(".widget-slider .noUi-handle").first
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
            page.wait_for_function("([el, old]) => el.src !== old", arg=[heat.element_handle(), before], timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "3-opacity.png"), full_page=True)

            # delete the brows: the status says so and the face picture changes
            face_img = page.locator("img.widget-image").nth(0)
            face_before = face_img.get_attribute("src")
            page.locator("select").filter(has=page.locator("option", has_text="delete")).select_option(label="delete")
            page.locator("select").filter(has=page.locator("option", has_text="brows")).first.select_option(
                label="brows"
            )
            page.get_by_role("button", name="Apply edit").click()
            page.get_by_text("edited: delete brows").first.wait_for(timeout=120_000)
            assert face_img.get_attribute("src") != face_before
            page.screenshot(path=str(ARTIFACTS / "4-edit.png"), full_page=True)

            # write the report and download it
            page.get_by_role("button", name="Write report").click()
            link = page.locator("a.acglab-download")
            link.wait_for(timeout=120_000)
            with page.expect_download(timeout=60_000) as info:
                link.click()
            saved = tmp_path / "report.html"
            info.value.save_as(saved)
            page.screenshot(path=str(ARTIFACTS / "5-report.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            print(log.read_text()[-4000:])
            raise
        finally:
            browser.close()
    from acglab.app.analysis import sha256_of

    report = saved.read_text()
    assert "delete brows" in report and "P(fake)" in report and ("FAKE ·" in report or "REAL ·" in report)
    assert sha256_of(detector_checkpoint) in report  # the model that said it
    assert report.count("data:image/png;base64,") >= 3  # face, Grad-CAM, residual
    for name in ("1-sample", "2-upload", "3-opacity", "4-edit", "5-report"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
