"""Seeds and random-number-generator states, so that a run is reproducible and resumes exactly.

A training run draws random numbers from four places: torch's global generators (CPU and each
CUDA device: weight initialisation, the denoising noise of thesis eq. 2.1 when drawn with
``torch.randn``), numpy's and Python's global generators (libraries), and generator objects
held by the model itself (``torch.Generator`` or ``numpy.random.Generator`` attributes of its
modules, e.g. a noise or OT sampling generator). :func:`rng_state` captures all of them as
tensors and strings (so checkpoints load with ``torch.load(weights_only=True)``) and
:func:`set_rng_state` puts them back.
"""

from __future__ import annotations

import json
import os
import random

import numpy as np
import torch


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's, numpy's and torch's global generators (all devices) with ``seed``; return a
    fresh ``numpy.random.Generator`` seeded with it, for code that takes an explicit RNG."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def deterministic_mode(enabled: bool = True) -> None:
    """Bit-exact reruns: deterministic torch algorithms, no cuDNN autotuning.

    Sets ``CUBLAS_WORKSPACE_CONFIG`` as CUDA's deterministic matrix products need it.
    """
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(enabled)
    torch.backends.cudnn.benchmark = not enabled
    torch.backends.cudnn.deterministic = enabled


# --- global generators --------------------------------------------------------------------------
def _python_state() -> dict:
    version, internal, gauss = random.getstate()
    return {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss": gauss}


def _set_python_state(state: dict) -> None:
    internal = tuple(int(v) for v in state["internal"].tolist())
    random.setstate((state["version"], internal, state["gauss"]))


def _numpy_state() -> dict:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "name": name,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached),
    }


def _set_numpy_state(state: dict) -> None:
    keys = state["keys"].numpy().astype(np.uint32)
    np.random.set_state((state["name"], keys, state["pos"], state["has_gauss"], state["cached_gaussian"]))


# --- generators held by a model ---------------------------------------------------------------
def model_generators(model: torch.nn.Module) -> dict[str, object]:
    """``{"<module path>.<attribute>": generator}`` of every ``torch.Generator`` and
    ``numpy.random.Generator`` attribute of ``model``'s modules."""
    found = {}
    for path, module in model.named_modules():
        for name, value in vars(module).items():
            if isinstance(value, (torch.Generator, np.random.Generator)):
                found[f"{path}.{name}" if path else name] = value
    return found


def _generator_state(gen) -> object:
    if isinstance(gen, torch.Generator):
        return gen.get_state()
    return json.dumps(gen.bit_generator.state)  # numpy: big integers, kept exact as JSON text


def _set_generator_state(gen, state) -> None:
    if isinstance(gen, torch.Generator):
        gen.set_state(state)
    else:
        gen.bit_generator.state = json.loads(state)


# --- all of them ------------------------------------------------------------------------------
def rng_state(model: torch.nn.Module | None = None) -> dict:
    """The state of every generator a training run draws from (see the module docstring)."""
    state = {
        "python": _python_state(),
        "numpy": _numpy_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "model": {},
    }
    if model is not None:
        state["model"] = {name: _generator_state(g) for name, g in model_generators(model).items()}
    return state


def set_rng_state(state: dict, model: torch.nn.Module | None = None) -> None:
    """Restore what :func:`rng_state` captured (CUDA states only where CUDA is available)."""
    _set_python_state(state["python"])
    _set_numpy_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][: torch.cuda.device_count()])
    if model is not None:
        generators = model_generators(model)
        for name, saved in state.get("model", {}).items():
            if name in generators:
                _set_generator_state(generators[name], saved)
