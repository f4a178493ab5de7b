"""Every notebook in notebooks/ is stored stripped, keeps its code in acglab (no ``def`` or
``class`` in cells), and runs end to end in quick mode.

Execution uses nbclient with a kernel started from this interpreter (``sys.executable``), via
a temporary kernelspec found through ``JUPYTER_PATH``, with ``ACGLAB_QUICK=1`` and the notebook
folder as working directory. Each notebook has a time budget (default
:data:`DEFAULT_BUDGET_S`; a notebook may set ``metadata.acglab.timeout`` in seconds); a failure
reports the failing cell and its error.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL_NAME = "acglab-test-python"
DEFAULT_BUDGET_S = 600

_MAGIC = re.compile(r"^\s*[%!]")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DEF_OR_CLASS = re.compile(r"^\s*(?:async\s+def|def|class)\s+(\w+)", re.MULTILINE)


def _ids(paths):
    return [p.name for p in paths]


def _code_cells(nb):
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def definitions_in(source: str) -> list[str]:
    """Names of functions and classes defined in a code cell (IPython magics ignored)."""
    code = "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [m.group(1) for m in _DEF_OR_CLASS.finditer(code)]
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return [node.name for node in ast.walk(tree) if isinstance(node, kinds)]


def stripping_problems(nb) -> list[str]:
    """What keeps a notebook from being stored stripped (outputs, counts, widget state)."""
    problems = []
    for i, cell in _code_cells(nb):
        if cell.get("outputs"):
            problems.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has execution_count {cell.execution_count}")
    if "widgets" in nb.metadata:
        problems.append("notebook metadata holds saved widget state")
    return problems


def test_notebooks_exist():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


def test_checkers_catch_bad_cells():
    """The two static checks flag what they should (so an empty result means something)."""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%matplotlib inline\nx = 1"),
            nbformat.v4.new_code_cell(
                "def f():\n    return 1", execution_count=3, outputs=[nbformat.v4.new_output("stream", text="1")]
            ),
            nbformat.v4.new_code_cell("if True:\n    class A:\n        pass"),
        ]
    )
    assert definitions_in(nb.cells[0].source) == []
    assert definitions_in(nb.cells[1].source) == ["f"]
    assert definitions_in(nb.cells[2].source) == ["A"]
    assert definitions_in("def broken(:\n  pass") == ["broken"]
    assert stripping_problems(nb) == ["cell 1 has outputs", "cell 1 has execution_count 3"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stripped(path):
    nb = nbformat.read(path, as_version=4)
    problems = stripping_problems(nb)
    assert not problems, f"{path.name} is not stripped: {'; '.join(problems)} (clear all outputs before saving)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_defines_nothing(path):
    nb = nbformat.read(path, as_version=4)
    found = {i: definitions_in(c.source) for i, c in _code_cells(nb)}
    found = {i: names for i, names in found.items() if names}
    assert not found, f"{path.name} defines functions/classes in cells {found}; move them into acglab"


@pytest.fixture(scope="module")
def venv_kernel(tmp_path_factory):
    """A kernelspec that starts ipykernel with this very interpreter, found via JUPYTER_PATH."""
    base = tmp_path_factory.mktemp("jupyter-path")
    spec_dir = base / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "acglab test kernel",
        "language": "python",
        "env": {"ACGLAB_QUICK": "1", "MPLBACKEND": "Agg"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return base


#: notebooks that score faces with a detector when ``ACGLAB_DETECTOR`` names a checkpoint; the
#: suite runs them with one (the browser test runs them without)
DETECTOR_NOTEBOOKS = ("04_latent_interpolation.ipynb", "06_semantic_editing.ipynb", "07_analysis_app.ipynb")


@pytest.fixture(scope="module")
def detector_checkpoint(tmp_path_factory):
    """A checkpoint of the quick preset's network, randomly initialised (what the notebooks do
    with a detector does not depend on its training)."""
    import torch

    from acglab.models import build_model
    from acglab.models.checkpoint import save_checkpoint
    from acglab.train.presets import preset
    from acglab.train.trainer import model_options

    c = preset("quick", pretrained=False)
    torch.manual_seed(0)
    model = build_model(c.arch, c.backbone, False, c.img_size, **model_options(c))
    path = tmp_path_factory.mktemp("detector") / "quick.pt"
    save_checkpoint(path, model)
    return path


def _budget(nb) -> float:
    return float(nb.metadata.get("acglab", {}).get("timeout", DEFAULT_BUDGET_S))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path, venv_kernel, monkeypatch, request):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    monkeypatch.setenv("JUPYTER_PATH", str(venv_kernel))
    monkeypatch.setenv("ACGLAB_QUICK", "1")
    if path.name in DETECTOR_NOTEBOOKS:
        monkeypatch.setenv("ACGLAB_DETECTOR", str(request.getfixturevalue("detector_checkpoint")))
    else:
        monkeypatch.delenv("ACGLAB_DETECTOR", raising=False)
    nb = nbformat.read(path, as_version=4)
    budget = _budget(nb)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=budget,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    deadline = time.monotonic() + budget
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{path.name}: over its {budget:.0f} s budget before cell {index}")
            client.timeout = max(1, int(left))
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                pytest.fail(f"{path.name}: cell {index} ran past the notebook's {budget:.0f} s budget:\n{cell.source}")
            except CellExecutionError as err:
                pytest.fail(
                    f"{path.name}: cell {index} failed with {err.ename}: {err.evalue}\n{_ANSI.sub('', err.traceback)}",
                    pytrace=False,
                )
    # what `make html` does with the executed notebook: a static page that holds the outputs
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "<html" in html and "Traceback" not in html
    if path.name in DETECTOR_NOTEBOOKS:
        printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
        assert "detector: " in printed, f"{path.name} did not load the detector"
        assert path.name != "06_semantic_editing.ipynb" or "P(fake)" in printed, "the edits were not scored"
