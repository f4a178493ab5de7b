"""The notebooks' sliders work in a real JupyterLab driven by headless Chromium.

For every notebook that uses the interactive figures of ``acglab.viz``, the shared driver
``tools/lab_client.py`` (beside ``../shared/data``) starts JupyterLab with this interpreter's
``jupyter`` on a temporary copy of notebooks/ (JupyterLab writes checkpoints and autosaves),
runs all cells, then drags the sliders; the test asserts that the notebook ran,
showed no error output, had sliders, and that every drag changed an output.

Needs ``/usr/bin/chromium``, the ``playwright`` package and the driver; when one is missing the
test fails under ``CI=true`` and is skipped (with the reason) elsewhere.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from acglab.paths import shared_data_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
CHROMIUM = Path("/usr/bin/chromium")
MAX_DRAGS = 10
RUN_TIMEOUT_S = 420
_USES_WIDGETS = re.compile(r"\bacglab\.viz\b")


def _missing(what: str) -> None:
    msg = f"{what} (needed to drive JupyterLab in a browser)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def notebooks_with_sliders() -> list[Path]:
    """Notebooks whose code cells use acglab.viz (the modules that build slider explorers)."""
    found = []
    for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if any(c.cell_type == "code" and _USES_WIDGETS.search(c.source) for c in nb.cells):
            found.append(path)
    return found


def lab_client() -> Path:
    shared = shared_data_dir()
    script = shared.parent / "tools" / "lab_client.py" if shared is not None else None
    if script is None or not script.is_file():
        _missing("tools/lab_client.py not found beside ../shared/data")
    return script


def python3_kernelspec(base: Path) -> Path:
    """A ``python3`` kernelspec that starts ipykernel with this interpreter (put first on JUPYTER_PATH)."""
    spec_dir = base / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "env": {"ACGLAB_QUICK": "1"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return base


SLIDER_NOTEBOOKS = notebooks_with_sliders()


def test_some_notebook_has_sliders():
    assert SLIDER_NOTEBOOKS, "no notebook uses acglab.viz: nothing for the browser test to drag"


@pytest.mark.parametrize("path", SLIDER_NOTEBOOKS, ids=[p.name for p in SLIDER_NOTEBOOKS])
def test_sliders_update_figures_in_jupyterlab(path, tmp_path):
    script = lab_client()
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        _missing("the playwright package is not installed")
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        _missing(f"{jupyter} not found (install the lab extra)")
    # Render every cell at once (no lazy "windowing"): lazily rendered outputs above a slider
    # shift it while the driver aims at it.
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(
        os.environ,
        ACGLAB_QUICK="1",
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab-settings"),
        JUPYTER_PATH=os.pathsep.join(
            filter(None, [str(python3_kernelspec(tmp_path / "jupyter-path")), os.environ.get("JUPYTER_PATH")])
        ),
    )
    # JupyterLab writes checkpoints (and autosaves outputs on long runs): give it a copy
    workdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, workdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for attempt in range(2):  # one retry: a drag can still miss on a loaded machine
        out = tmp_path / f"lab-{attempt}"
        cmd = [
            sys.executable,
            str(script),
            str(jupyter),
            str(workdir),
            path.name,
            str(out),
            "--timeout",
            str(RUN_TIMEOUT_S),
            "--drags",
            str(MAX_DRAGS),
        ]
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S + 180)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{path.name}: the browser run took longer than {RUN_TIMEOUT_S + 180} s (see {out})")
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        assert lines, f"{path.name}: lab_client printed no result (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        result = json.loads(lines[-1])
        summary = json.dumps(result, indent=1)
        print(summary)  # shown with pytest -rP
        missed = any(not d["changed"] for d in result.get("drags", []))
        if not (missed and result["ran"] and not result["errors"]):
            break
    assert result["ran"], f"{path.name}: the notebook did not finish in JupyterLab:\n{summary}"
    assert not result["errors"], f"{path.name}: error outputs in JupyterLab:\n{summary}"
    assert result["sliders"] >= 1, f"{path.name}: no slider rendered (are the widget extensions installed?)"
    assert len(result["drags"]) == min(result["sliders"], MAX_DRAGS)
    unchanged = [d["slider"] for d in result["drags"] if not d["changed"]]
    assert not unchanged, f"{path.name}: dragging sliders {unchanged} changed no output:\n{summary}"
    assert proc.returncode == 0, f"{path.name}: lab_client exited {proc.returncode}:\n{summary}"
