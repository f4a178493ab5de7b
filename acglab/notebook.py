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
import random

import numpy as np

from acglab.errors import AcglabError

QUICK_ENV = "ACGLAB_QUICK"
DEVICE_ENV = "ACGLAB_DEVICE"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class NotebookSettingError(AcglabError, ValueError):
    """An environment setting read by the notebooks has a value they do not understand."""


def quick_mode() -> bool:
    """True unless ``ACGLAB_QUICK`` asks for the full mode (``0``/``false``/``no``/``off``).

    Unset or empty means quick mode. Any other value raises :class:`NotebookSettingError`.
    """
    raw = os.environ.get(QUICK_ENV, "").strip().lower()
    if raw == "" or raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise NotebookSettingError(f"{QUICK_ENV}={raw!r} is not understood; use {QUICK_ENV}=1 (quick, the default) "
                               f"or {QUICK_ENV}=0 (full)")


def device():
    """The ``torch.device`` notebooks train on: ``$ACGLAB_DEVICE`` if set, else CUDA, MPS or CPU."""
    import torch

    wanted = os.environ.get(DEVICE_ENV, "").strip()
    if wanted:
        try:
            dev = torch.device(wanted)
        except (RuntimeError, ValueError):
            raise NotebookSettingError(f"{DEVICE_ENV}={wanted!r} is not a torch device; use cpu, cuda or mps") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise NotebookSettingError(f"{DEVICE_ENV}={wanted!r} but no CUDA GPU is available; unset it or use cpu")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's legacy global RNG and torch (CPU and CUDA); return a fresh
    ``numpy.random.Generator`` seeded with ``seed`` for code that takes an explicit RNG."""
    import torch

    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


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
