"""Build detectors by name: ``build_model(arch, backbone, pretrained, img_size, **options)``.

Architectures (:data:`ARCHS`):

- ``"acg"``: the ACG detector with the OT module (:class:`~acglab.models.acg.ACGDetector`);
- ``"acg-no-ot"``: the same without the OT module (ablation);
- ``"backbone"``: the timm backbone with a one-logit head (:class:`~acglab.models.acg.BackboneDetector`).

Options (defaults in brackets):

- all: ``drop_rate`` [0.2] (dropout before the logit and before the decoder); ``max_stride``
  [None = all] (keep only the backbone stages of stride <= ``max_stride``: a truncated backbone);
- ACG: ``noise_std`` [0.03, pixel units], ``noise_prob`` [0.5], ``decoder_channels``
  [(256, 128, 64)];
- ``"acg"``: ``ot`` [{}], a dict of :class:`~acglab.models.ot_module.OTOptions` fields. The
  architectures without the OT module accept ``ot`` and ignore it, so one training
  configuration can drive all three.

Every model gets ``.config`` = ``{"arch", "backbone", "img_size", "options", "normalization"}``
(JSON-able, all options resolved, ``build_model_from_config(config)`` rebuilds it) and
``.normalization`` (mean, std of its input, from timm's ``pretrained_cfg`` or the weights' source). ``img_size`` is the side of the square
input the data pipeline should produce; the networks accept other sizes too.
"""

from __future__ import annotations

import json

from torch import nn

from acglab.errors import ModelConfigError
from acglab.models.acg import DEFAULT_DROP_RATE, DEFAULT_NOISE_PROB, DEFAULT_NOISE_STD, ACGDetector, BackboneDetector
from acglab.models.backbone import DEFAULT_BACKBONE
from acglab.models.decoder import DEFAULT_DECODER_CHANNELS
from acglab.models.names import ARCHS
from acglab.models.ot_options import OTOptions
from acglab.models.outputs import Normalization

#: smallest input side: five stride-2 stages leave a 1 x 1 map
MIN_IMG_SIZE = 32

_ACG_DEFAULTS = {
    "noise_std": DEFAULT_NOISE_STD,
    "noise_prob": DEFAULT_NOISE_PROB,
    "drop_rate": DEFAULT_DROP_RATE,
    "decoder_channels": list(DEFAULT_DECODER_CHANNELS),
    "max_stride": None,
}
_DEFAULTS = {
    "acg": {**_ACG_DEFAULTS, "ot": {}},
    "acg-no-ot": dict(_ACG_DEFAULTS),
    "backbone": {"drop_rate": DEFAULT_DROP_RATE, "max_stride": None},
}


def _number(options: dict, name: str, low: float, high: float, high_open: bool = False) -> float:
    v = options[name]
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and low <= v and (v < high if high_open else v <= high)
    if not ok:
        raise ModelConfigError(
            f"option {name} must be a number in [{low}, {high}{')' if high_open else ']'}, got {v!r}"
        )
    return float(v)


def resolve_options(arch: str, options: dict) -> dict:
    """All options of ``arch`` with defaults filled in and values checked (JSON-able)."""
    if arch not in ARCHS:
        raise ModelConfigError(f"unknown architecture {arch!r}; choose one of {list(ARCHS)}")
    options = dict(options)
    if arch != "acg":
        options.pop("ot", None)
    unknown = sorted(set(options) - set(_DEFAULTS[arch]))
    if unknown:
        raise ModelConfigError(f"unknown option(s) {unknown} for arch {arch!r}; known: {sorted(_DEFAULTS[arch])}")
    resolved = {**_DEFAULTS[arch], **options}
    resolved["drop_rate"] = _number(resolved, "drop_rate", 0.0, 1.0, high_open=True)
    if arch != "backbone":
        resolved["noise_std"] = _number(resolved, "noise_std", 0.0, 1.0)
        resolved["noise_prob"] = _number(resolved, "noise_prob", 0.0, 1.0)
        ch = resolved["decoder_channels"]
        if (
            not isinstance(ch, (list, tuple))
            or len(ch) != 3
            or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in ch)
        ):
            raise ModelConfigError(f"option decoder_channels must be three positive integers, got {ch!r}")
        resolved["decoder_channels"] = [int(c) for c in ch]
    if arch == "acg":
        ot = resolved["ot"]
        if isinstance(ot, OTOptions):
            ot.check()
            resolved["ot"] = ot.to_dict()
        elif isinstance(ot, dict):
            resolved["ot"] = OTOptions.from_dict(ot).to_dict()
        else:
            raise ModelConfigError(f"option ot must be a dict of OT options, got {type(ot).__name__}")
    return resolved


def _normalization(value) -> Normalization | None:
    """A :class:`Normalization` from ``{"mean": [3], "std": [3]}`` (``None`` passes through)."""
    if value is None:
        return None
    try:
        mean, std = (tuple(float(v) for v in value[k]) for k in ("mean", "std"))
    except (KeyError, TypeError, ValueError):
        mean = std = ()
    if len(mean) != 3 or len(std) != 3 or not all(v > 0 for v in std):
        raise ModelConfigError(
            f"normalization must be {{'mean': [3 numbers], 'std': [3 positive numbers]}}, got {value!r}"
        )
    return Normalization(mean, std)


def build_model(
    arch: str = "acg",
    backbone: str = DEFAULT_BACKBONE,
    pretrained=False,
    img_size: int = 299,
    normalization: dict | None = None,
    **options,
) -> nn.Module:
    """Build a detector (module notes). ``pretrained``: False, True or ``"timm"`` (timm hub), a
    registry source such as ``"imagenet-lite0"`` (:mod:`acglab.models.pretrained`) or a weights
    path. ``normalization`` (``{"mean", "std"}``) overrides the input scaling the weights imply
    (a rebuilt model takes it from its config).

    Raises :class:`~acglab.errors.ModelConfigError` for an unknown arch/backbone/option
    and :class:`~acglab.errors.CheckpointError` for a weights file that does not fit.
    """
    resolved = resolve_options(arch, options)
    if not isinstance(img_size, int) or isinstance(img_size, bool) or img_size < MIN_IMG_SIZE:
        raise ModelConfigError(f"img_size must be an integer >= {MIN_IMG_SIZE}, got {img_size!r}")
    norm = _normalization(normalization)
    if arch == "backbone":
        model = BackboneDetector(
            backbone, pretrained, drop_rate=resolved["drop_rate"], max_stride=resolved["max_stride"], normalization=norm
        )
    else:
        model = ACGDetector(
            backbone,
            pretrained,
            noise_std=resolved["noise_std"],
            noise_prob=resolved["noise_prob"],
            drop_rate=resolved["drop_rate"],
            decoder_channels=resolved["decoder_channels"],
            use_ot=arch == "acg",
            ot=resolved.get("ot"),
            max_stride=resolved["max_stride"],
            normalization=norm,
        )
    model.config = {
        "arch": arch,
        "backbone": backbone,
        "img_size": int(img_size),
        "options": resolved,
        "normalization": {"mean": list(model.normalization.mean), "std": list(model.normalization.std)},
    }
    json.dumps(model.config)
    return model


def build_model_from_config(config: dict, pretrained=False) -> nn.Module:
    """Rebuild a model from its ``.config`` (random init unless ``pretrained`` says otherwise)."""
    if not isinstance(config, dict) or not {"arch", "backbone", "img_size"} <= set(config):
        raise ModelConfigError("a model config needs the keys 'arch', 'backbone', 'img_size' and 'options'")
    return build_model(
        config["arch"],
        config["backbone"],
        pretrained,
        config["img_size"],
        normalization=config.get("normalization"),
        **dict(config.get("options") or {}),
    )
