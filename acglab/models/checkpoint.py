"""Checkpoints: everything needed to rebuild a detector and resume its training.

A checkpoint is one ``torch.save`` file holding plain containers and tensors only, so that it
loads with ``torch.load(weights_only=True)`` (no pickled code runs when reading it)::

    {"format": "acglab-checkpoint-1",
     "config": model.config,               # rebuilds the model (arch, backbone, img_size, options)
     "model": model.state_dict(),          # includes the OT module's bank, heights and counters
     "ema": ema.state_dict(),              # only when training kept a weight average
     "optimizer": ..., "scheduler": ..., "scaler": ...,   # their state_dict() or None
     "state": {...}}                       # epoch, step, best_auc, RNG states as tensors, history...

It is written to a temporary file in the same folder and moved into place with ``os.replace``,
so a crash never leaves half a checkpoint under the final name. Reading errors (missing,
truncated or corrupt file, a file that is not an acglab checkpoint, another architecture) raise
:class:`~acglab.errors.CheckpointError` with a one-line message.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from acglab.errors import CheckpointError, ModelConfigError
from acglab.fileio import atomic_write

FORMAT = "acglab-checkpoint-1"
_PLAIN = (str, int, float, bool, type(None))


def _check_plain(value, where: str) -> None:
    """Values ``torch.load(weights_only=True)`` can read back: tensors, numbers, strings, None,
    and lists/tuples/dicts of them."""
    if isinstance(value, (torch.Tensor, torch.dtype, torch.Size) + _PLAIN):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise CheckpointError(f"cannot save {where}: key {k!r} is a {type(k).__name__} (use str or int keys)")
            _check_plain(v, f"{where}[{k!r}]")
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
        return
    raise CheckpointError(
        f"cannot save {where}: a {type(value).__module__}.{type(value).__name__} is not a plain "
        f"value (convert it to a tensor, number, string, list or dict)"
    )


def _state_dict_or_none(obj, name: str):
    if obj is None:
        return None
    if not hasattr(obj, "state_dict"):
        raise CheckpointError(f"cannot save the {name}: a {type(obj).__name__} has no state_dict()")
    return obj.state_dict()


def save_checkpoint(
    path, model: nn.Module, optimizer=None, scheduler=None, scaler=None, ema: nn.Module | None = None, **state
) -> Path:
    """Write a checkpoint of ``model`` (and the training objects given) to ``path`` atomically.

    ``ema``: a moving average of ``model``'s weights (same architecture), kept as ``"ema"``;
    :func:`model_from_checkpoint` builds the model with it.

    ``state``: anything else to keep (epoch, step, best_auc, RNG states as tensors, history...),
    plain values only (checked; a numpy array, for instance, must be converted first).
    Returns the path written.
    """
    config = getattr(model, "config", None)
    if not isinstance(config, dict):
        raise CheckpointError("cannot save: the model has no .config (build it with acglab.models.build_model)")
    try:
        json.dumps(config)
    except TypeError as err:
        raise CheckpointError(f"cannot save: the model's config is not JSON-able ({err})") from None
    payload = {
        "format": FORMAT,
        "config": config,
        "model": model.state_dict(),
        "optimizer": _state_dict_or_none(optimizer, "optimizer"),
        "scheduler": _state_dict_or_none(scheduler, "scheduler"),
        "scaler": _state_dict_or_none(scaler, "scaler"),
        "state": dict(state),
    }
    if ema is not None:
        payload["ema"] = ema.state_dict()
    for key in ("optimizer", "scheduler", "scaler", "state"):
        _check_plain(payload[key], key)
    return atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (``torch.load(weights_only=True)``).

    Raises CheckpointError when the file is missing, unreadable (truncated, corrupt, not a torch
    file, or holding objects other than plain values and tensors) or not an acglab checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # zip/pickle errors, EOF, forbidden globals: all mean "not readable"
        raise CheckpointError(
            f"cannot read checkpoint {path}: {type(err).__name__} (truncated, corrupt or not a torch file)"
        ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        found = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(f"{path} is not an acglab checkpoint (format {found!r}, expected {FORMAT!r})")
    missing = [k for k in ("config", "model") if not isinstance(ckpt.get(k), dict)]
    if missing:
        raise CheckpointError(f"checkpoint {path} is incomplete: no {' or '.join(missing)}")
    return ckpt


def _as_checkpoint(path_or_dict, map_location) -> tuple[dict, str]:
    if isinstance(path_or_dict, dict):
        if path_or_dict.get("format") != FORMAT:
            raise CheckpointError(f"the dict given is not an acglab checkpoint (format {path_or_dict.get('format')!r})")
        return path_or_dict, "the checkpoint"
    return load_checkpoint(path_or_dict, map_location), str(path_or_dict)


def _describe(config: dict) -> str:
    return f"arch {config.get('arch')!r} with backbone {config.get('backbone')!r}"


def optional_state_keys(model: nn.Module) -> set[str]:
    """``state_dict`` keys a checkpoint may lack: the buffers a submodule lists in its
    ``OPTIONAL_BUFFERS`` (added after checkpoints were written; the module fills them in when
    loading, e.g. the OT module's bank labels as -1)."""
    return {
        f"{name}.{b}" if name else b
        for name, module in model.named_modules()
        for b in getattr(module, "OPTIONAL_BUFFERS", ())
    }


def load_weights(model: nn.Module, path_or_dict, map_location="cpu", average: bool = False) -> dict:
    """Load a checkpoint's weights (and OT buffers) into an existing ``model``; returns the checkpoint.

    ``average``: load the weight average (``"ema"``) when the checkpoint holds one, otherwise
    the trained weights.

    The checkpoint must come from the same architecture: a different arch or backbone, or weights
    that do not fit (e.g. other decoder widths or OT bank size), raise CheckpointError naming the
    mismatch. Options that do not change the weights (noise, dropout, OT schedule) may differ.
    Buffers added since a checkpoint was written (:func:`optional_state_keys`) may be missing.
    """
    ckpt, name = _as_checkpoint(path_or_dict, map_location)
    config, own = ckpt["config"], getattr(model, "config", None)
    if isinstance(own, dict):
        if (config.get("arch"), config.get("backbone")) != (own.get("arch"), own.get("backbone")):
            raise CheckpointError(f"{name} holds {_describe(config)}, but the model is {_describe(own)}")
    state = ckpt["ema"] if average and isinstance(ckpt.get("ema"), dict) else ckpt["model"]
    mine = model.state_dict()
    optional = optional_state_keys(model)
    missing = [k for k in mine if k not in state and k not in optional]
    unexpected = [k for k in state if k not in mine]
    shaped = [k for k in state if k in mine and tuple(state[k].shape) != tuple(mine[k].shape)]
    if missing or unexpected or shaped:
        parts = [
            f"{len(keys)} {what} (e.g. {keys[0]!r})"
            for what, keys in (("missing", missing), ("unexpected", unexpected), ("of another shape", shaped))
            if keys
        ]
        raise CheckpointError(f"{name} ({_describe(config)}) does not fit the model: {', '.join(parts)}")
    model.load_state_dict(state)
    return ckpt


def model_from_checkpoint(path_or_dict, map_location="cpu") -> nn.Module:
    """Build the model a checkpoint describes and load its weights (eval mode, on ``map_location``
    when that names a device): the weight average when training kept one, which is what
    validation scored."""
    from acglab.models.registry import build_model_from_config

    ckpt, name = _as_checkpoint(path_or_dict, map_location)
    try:
        model = build_model_from_config(ckpt["config"])
    except ModelConfigError as err:
        raise CheckpointError(f"{name} describes a model that cannot be built: {err}") from None
    load_weights(model, ckpt, average=True)
    if isinstance(map_location, (str, torch.device)):
        model.to(map_location)
    return model.eval()
