"""The course as a whole: the notebook README lists the notebooks, the teacher's guide solves
every exercise, `make lab` opens JupyterLab ready for a class, `make html` renders the course."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from acglab.notebook import course_index_html

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
OVERRIDES = ROOT / ".jupyter" / "lab" / "settings" / "overrides.json"


def exercise_count(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(len(re.findall(r"^### Exercise \d+", c.source, re.M)) for c in nb.cells if c.cell_type == "markdown")


def test_the_readme_lists_exactly_the_notebooks_there_are():
    readme = (NOTEBOOK_DIR / "README.md").read_text()
    listed = set(re.findall(r"^\| `(\d\d_[a-z0-9_]+\.ipynb)`", readme, re.M))
    assert listed == {p.name for p in NOTEBOOKS}


def test_the_teachers_guide_covers_every_notebook_and_every_exercise():
    guide = (NOTEBOOK_DIR / "TEACHING.md").read_text()
    sections = re.split(r"^### ", guide, flags=re.M)
    for path in NOTEBOOKS:
        assert f"`{path.name}`" in guide, f"{path.name} missing from the order table"
        number = path.name[:2]
        section = next((s for s in sections if s.startswith(f"{number} ·")), None)
        assert section is not None, f"no solutions section for {path.name}"
        solutions = re.findall(r"^(\d+)\. ", section, re.M)
        assert [int(s) for s in solutions] == list(range(1, exercise_count(path) + 1)), path.name


def test_lab_opens_the_course_readme_without_news():
    makefile = (ROOT / "Makefile").read_text()
    assert "--notebook-dir=notebooks" in makefile and "default_url=/lab/tree/README.md" in makefile
    overrides = json.loads(OVERRIDES.read_text())
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    if not schemas.is_dir():
        pytest.skip(f"JupyterLab's schemas are not installed in {sys.prefix}")
    for plugin, values in overrides.items():
        package, name = plugin.rsplit(":", 1)
        schema = json.loads((schemas / package / f"{name}.json").read_text())
        assert set(values) <= set(schema["properties"]), plugin
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    if installed.is_file():  # `make install` copied it into this environment
        assert json.loads(installed.read_text()) == overrides


def test_course_index_links_the_rendered_notebooks(tmp_path):
    page = course_index_html((NOTEBOOK_DIR / "README.md").read_text())
    for path in NOTEBOOKS:
        assert f'href="{path.stem}.html"' in page, path.name
    assert 'href="TEACHING.html"' in page and "<table>" in page
    out = tmp_path / "html" / "index.html"
    subprocess.run(
        [sys.executable, "-m", "acglab.notebook", "index", str(NOTEBOOK_DIR / "README.md"), str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_text() == page and (out.parent / "TEACHING.html").is_file()


def test_make_html_executes_every_notebook_to_html():
    dry = subprocess.run(["make", "-n", "html"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "nbconvert --to html --execute" in dry and "notebooks/*.ipynb" in dry and "acglab.notebook index" in dry


def test_explorers_render_a_static_snapshot_for_make_html(monkeypatch):
    from acglab.viz.gan_widgets import optimal_discriminator_explorer

    explorer = optimal_discriminator_explorer(mean=2.0, width=1.0)
    live = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in live
    monkeypatch.setenv("ACGLAB_STATIC", "1")
    static = explorer._repr_mimebundle_()
    assert "plotly" in static["text/html"] and "mean = 2.0" in static["text/html"]
    assert "application/vnd.jupyter.widget-view+json" not in static
    dry = subprocess.run(["make", "-n", "html"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "ACGLAB_STATIC=1" in dry and "PLOTLY_RENDERER=notebook_connected" in dry
