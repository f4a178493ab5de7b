"""The layers of acglab: every module imports only from its own sub-package and from lower layers.

The order is declared here, lowest first. Imports are read with :mod:`ast` from every module,
function-level imports included, so a lazy import cannot hide a dependency that goes up or sideways.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "acglab"

#: lowest first; a sub-package (or top-level module) may import those of lower rows only
LAYERS = (
    ("errors", "labels"),  # what every layer may raise and the class labels
    ("paths", "fileio", "lazy", "devices"),  # files, lazy imports and devices
    ("faces", "ot", "topology", "theory", "losses", "metrics"),  # face geometry and mathematics
    ("synth",),  # fakes made from faces
    ("data",),  # datasets, splits, image tensors, the offline default set
    ("models",),
    ("train", "explain", "edit"),  # fitting, explaining and editing
    ("eval",),  # protocols that train, score and compare models
    ("notebook", "viz", "app"),  # what people look at
    ("cli",),
)
LEVEL = {name: level for level, row in enumerate(LAYERS) for name in row}


def unit_of(path: Path) -> str:
    """The layer unit of a module file: its sub-package, or the module's name at the top level."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def imported_units(path: Path) -> set[tuple[str, int]]:
    """``(unit, line)`` of every ``acglab.<unit>`` a module imports, anywhere in its body."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = list(here[:-1])  # the module's package (an __init__'s own package)
                base = base[: len(base) - (node.level - 1)]
                names = [".".join(base + ([node.module] if node.module else []))]
            else:
                names = [node.module or ""]
            if names == ["acglab"]:  # from acglab import x
                names = [f"acglab.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "acglab" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


def violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "__init__.py":
            continue  # the package root sets the environment and the version only
        unit = unit_of(path)
        for target, line in sorted(imported_units(path)):
            if target == unit or target == "__version__":
                continue
            if unit not in LEVEL or target not in LEVEL:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {unit} or {target} has no declared layer")
            elif LEVEL[target] >= LEVEL[unit]:
                way = "sideways" if LEVEL[target] == LEVEL[unit] else "up"
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {unit} imports {target} ({way})")
    return bad


def test_every_import_goes_down():
    bad = violations()
    assert not bad, "imports against the declared layers:\n" + "\n".join(bad)


def test_every_unit_has_a_layer():
    units = {unit_of(p) for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py"}
    assert units <= set(LEVEL), f"modules with no declared layer: {sorted(units - set(LEVEL))}"


def test_the_checker_sees_function_level_and_relative_imports(tmp_path):
    fake = tmp_path / "acglab"
    (fake / "ot").mkdir(parents=True)
    (fake / "ot" / "__init__.py").write_text("")
    (fake / "ot" / "bad.py").write_text(
        "from acglab.errors import AcglabError\n"
        "def f():\n    from acglab.train import train\n"
        "from ..viz import figures\n"
    )
    global PACKAGE
    saved, PACKAGE = PACKAGE, fake
    try:
        found = violations()
    finally:
        PACKAGE = saved
    assert any("ot imports train (up)" in line for line in found)
    assert any("ot imports viz (up)" in line for line in found)
    assert not any("errors" in line for line in found)


def test_building_the_command_line_parser_imports_no_torch():
    import subprocess
    import sys

    code = (
        "import sys; from acglab.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('torch', 'timm', 'torchvision', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", f"building the parser imports {out}"


def test_parser_constants_agree_with_the_package():
    from acglab.cli import edit
    from acglab.cli.explain import GRADCAM_TARGETS
    from acglab.cli.latent import LATENT_MODELS
    from acglab.edit.geometric import DEFAULT_BLEND, OPS
    from acglab.explain.gradcam import GRADCAM_TARGETS as TARGETS
    from acglab.faces.parts import PARTS
    from acglab.models.latent import LATENT_MODELS as MODELS

    assert LATENT_MODELS == MODELS and set(GRADCAM_TARGETS) == set(TARGETS) | {"verdict"}
    assert (edit.OPS, edit.DEFAULT_BLEND, edit.PARTS) == (OPS, DEFAULT_BLEND, PARTS)


def test_error_classes_live_in_acglab_errors():
    elsewhere = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                (getattr(b, "id", None) or getattr(b, "attr", "")).endswith(("Error", "Exception")) for b in node.bases
            ):
                elsewhere.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.name}")
    assert not elsewhere, "exception classes outside acglab/errors.py:\n" + "\n".join(elsewhere)


MAX_MODULE_LINES, MAX_BODY_LINES = 400, 60


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's body after its docstring (nested functions included)."""
    body = node.body
    if (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return node.end_lineno - body[0].lineno + 1 if body else 0


def test_modules_and_functions_stay_small():
    large = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        name = path.relative_to(PACKAGE.parent)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            large.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and body_lines(node) > MAX_BODY_LINES:
                large.append(f"{name}:{node.lineno}: {node.name} has a {body_lines(node)}-line body")
    assert not large, f"over {MAX_MODULE_LINES} lines a module or {MAX_BODY_LINES} a function body:\n" + "\n".join(
        large
    )


def test_body_lines_counts_after_the_docstring():
    tree = ast.parse('def f():\n    """doc\n    more"""\n    a = 1\n    return a\n')
    assert body_lines(tree.body[0]) == 2
