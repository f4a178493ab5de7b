"""Small runtime helpers for the course notebooks: run mode, device, seeding and exercise
self-checks.

Run mode. Every notebook runs end to end on a laptop CPU in *quick mode*, which is the default:
a lecturer opens a notebook and runs it as is. ``ACGLAB_QUICK=0`` (or ``false``/``no``/``off``)
selects the full mode (longer training, finer grids); ``ACGLAB_QUICK=1`` (or
``true``/``yes``/``on``) or leaving it unset selects quick mode. The test suite executes the
notebooks with ``ACGLAB_QUICK=1``.

Device. ``ACGLAB_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) forces a device; otherwise
a CUDA GPU is used when present, then Apple's MPS, then the CPU.
"""

from __future__ import annotations

import math
import os

import numpy as np

from acglab.errors import AcglabError, NotebookSettingError

QUICK_ENV = "ACGLAB_QUICK"
DEVICE_ENV = "ACGLAB_DEVICE"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def quick_mode() -> bool:
    """True unless ``ACGLAB_QUICK`` asks for the full mode (``0``/``false``/``no``/``off``).

    Unset or empty means quick mode. Any other value raises :class:`NotebookSettingError`.
    """
    raw = os.environ.get(QUICK_ENV, "").strip().lower()
    if raw == "" or raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise NotebookSettingError(
        f"{QUICK_ENV}={raw!r} is not understood; use {QUICK_ENV}=1 (quick, the default) or {QUICK_ENV}=0 (full)"
    )


def device():
    """The ``torch.device`` notebooks train on: ``$ACGLAB_DEVICE`` if set, else CUDA, MPS or CPU
    (:func:`acglab.devices.resolve_device`)."""
    from acglab.devices import resolve_device

    wanted = os.environ.get(DEVICE_ENV, "").strip()
    try:
        return resolve_device(wanted or "auto", mps=True)
    except AcglabError as err:
        raise NotebookSettingError(f"{DEVICE_ENV}={wanted!r}: {err}; unset it or use cpu") from None


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's legacy global RNG and torch (CPU and CUDA); return a fresh
    ``numpy.random.Generator`` seeded with ``seed`` (:func:`acglab.train.seeding.seed_everything`)."""
    from acglab.train.seeding import seed_everything as seed_all

    return seed_all(seed)


def describe_run(seed: int | None = None) -> str:
    """One line saying which mode and device this notebook runs with (for the first cell)."""
    mode = "quick (set ACGLAB_QUICK=0 for the full run)" if quick_mode() else "full"
    text = f"acglab notebook: {mode} mode, device {device()}"
    return text if seed is None else f"{text}, seed {seed}"


def check_answer(answer, expected, tol: float = 1e-2, hint: str = "") -> bool | None:
    """Self-check for an exercise: print whether ``answer`` matches ``expected``.

    Numbers (or sequences of numbers) match within absolute tolerance ``tol``; anything else
    must be equal. ``answer=None`` means "not answered yet". Returns ``True`` / ``False``, or
    ``None`` when not answered. The expected value is never printed.
    """
    if answer is None:
        print("Not answered yet: replace None with your answer and run this cell again.")
        return None
    ok = _matches(answer, expected, tol)
    if ok:
        print("Correct.")
    else:
        print("Not quite." + (f" Hint: {hint}" if hint else ""))
    return ok


def _matches(answer, expected, tol: float) -> bool:
    if isinstance(expected, (bool, np.bool_, str)) or isinstance(answer, (bool, np.bool_, str)):
        return answer == expected
    try:
        a = np.asarray(answer, dtype=float)
        e = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return answer == expected
    if a.shape != e.shape:
        return False
    both_inf = np.isinf(a) & np.isinf(e) & (np.sign(a) == np.sign(e))
    with np.errstate(invalid="ignore"):
        close = np.abs(a - e) <= tol
    return bool(np.all(both_inf | close)) and not any(math.isnan(v) for v in a.ravel())


def course_index_html(readme_text: str, title: str = "acglab course") -> str:
    """The course README (Markdown) as a standalone HTML page for the notebooks rendered by
    ``make html``: links to ``X.ipynb`` point to ``X.html`` and ``X.md`` to ``X.html`` too."""
    import re

    import mistune

    body = mistune.html(readme_text)
    body = re.sub(r'href="([^"/:]+)\.(?:ipynb|md)"', r'href="\1.html"', body)
    body = re.sub(r"<code>([0-9][^<]*?)\.ipynb</code>", r'<a href="\1.html"><code>\1.ipynb</code></a>', body)
    style = (
        "body{font-family:sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top}"
        "code{background:#f4f4f4;padding:0 .2rem}pre{background:#f4f4f4;padding:.5rem;overflow:auto}"
    )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head><body>\n{body}</body></html>\n"
    )


def _main(argv=None) -> int:
    """``python -m acglab.notebook index README.md OUT.html`` (used by ``make html``); also
    renders the teacher's guide beside the README, when there is one, to ``TEACHING.html``."""
    import argparse
    from pathlib import Path

    p = argparse.ArgumentParser(prog="python -m acglab.notebook")
    sub = p.add_subparsers(dest="command", required=True)
    index = sub.add_parser("index", help="render the course README to an HTML index page")
    index.add_argument("readme", type=Path)
    index.add_argument("out", type=Path)
    args = p.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(course_index_html(args.readme.read_text(encoding="utf-8")), encoding="utf-8")
    guide = args.readme.parent / "TEACHING.md"
    if guide.is_file():
        (args.out.parent / "TEACHING.html").write_text(
            course_index_html(guide.read_text(encoding="utf-8"), "acglab course: teacher's guide"), encoding="utf-8"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
