"""Sub-packages of acglab never import each other both ways (function-level imports included)."""
from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "acglab"
IMPORT = re.compile(r"^\s*(?:from|import)\s+acglab\.(\w+)", re.MULTILINE)


def _edges() -> dict[str, set[str]]:
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    edges = {name: set() for name in subpackages}
    for name in subpackages:
        for path in (PACKAGE / name).rglob("*.py"):
            edges[name] |= {m for m in IMPORT.findall(path.read_text()) if m in subpackages and m != name}
    return edges


def test_no_two_subpackages_import_each_other():
    edges = _edges()
    both_ways = sorted({tuple(sorted((a, b))) for a, targets in edges.items() for b in targets if a in edges[b]})
    assert not both_ways, f"sub-packages importing each other: {both_ways}"


def test_the_checker_sees_imports():
    edges = _edges()
    assert "faces" in edges["data"] and "synth" in edges["data"]  # extraction and the offline set


def test_building_the_command_line_parser_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys; from acglab.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'timm', 'torchvision', 'cv2') if m in sys.modules))")
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
