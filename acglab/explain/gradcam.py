"""Grad-CAM heatmaps of the detector's fake logit (Selvaraju et al., 2020; thesis fig. 3-2).

For a target layer with activations A^k (k = 1..K channels, each h x w) and the classifier's
logit z for the class fake (or -z for real), Grad-CAM weighs each channel by its mean gradient
and keeps the positive evidence:

    alpha_k = (1 / (h w)) sum_{i,j} dz / dA^k_{ij},      L = ReLU(sum_k alpha_k A^k),

then ``L`` is min-max scaled to [0, 1], resized to the input's H x W (bilinear) and scaled to
[0, 1] again. This is the computation of ``pytorch_grad_cam.GradCAM`` (the tests check the two
agree), done here with one forward hook: importing pytorch-grad-cam costs seconds (it pulls in
scikit-learn and matplotlib), which an analysis from a cold start cannot spare.

Target layer
------------
:func:`gradcam_target_layer` picks it automatically: a module the model names itself
(attribute ``gradcam_layer``), else the last feature stage of the first timm backbone found in
the model (``feature_info[-1]``: ``layer4`` of a ResNet, ``blocks.6`` of EfficientNet-B0), with
``conv4`` for ``legacy_xception`` (its last separable convolution), else the last ``Conv2d``
outside any decoder.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

#: layer used instead of ``feature_info[-1]`` for these timm architectures
LAYER_OVERRIDES = {"legacy_xception": "conv4"}
#: which class the heatmap explains: the fake logit z, the real logit -z, or the predicted one
GRADCAM_TARGETS = ("fake", "real", "verdict")


class FakeLogit(nn.Module):
    """``model`` seen as a function of images returning the (B,) fake logits."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        logits = out.logits if hasattr(out, "logits") else out
        return logits.reshape(len(x))


def find_timm_backbone(model: nn.Module) -> tuple[str, nn.Module] | None:
    """``(name, module)`` of the first module (``model`` itself included) carrying timm's
    ``feature_info``, or ``None``."""
    for name, module in model.named_modules():
        info = getattr(module, "feature_info", None)
        if info is not None and len(info) > 0:
            return name, module
    return None


def _architecture(backbone: nn.Module, model: nn.Module) -> str | None:
    cfg = getattr(backbone, "pretrained_cfg", None) or {}
    if cfg.get("architecture"):
        return cfg["architecture"]
    config = getattr(model, "config", None) or {}
    return config.get("backbone") if isinstance(config, dict) else None


def _submodule(module: nn.Module, name: str) -> tuple[str, nn.Module] | None:
    """``name`` inside ``module``, also as timm's feature wrappers store it (``a.b`` -> ``a_b``
    in ``FeatureListNet``, under ``body.`` in ``FeatureHookNet``, under ``model.`` in
    ``FeatureGetterNet``, which truncated encoders use)."""
    for cand in (name, name.replace(".", "_"), f"body.{name}", f"model.{name}"):
        try:
            return cand, module.get_submodule(cand)
        except AttributeError:
            continue
    return None


def _last_encoder_conv(model: nn.Module) -> tuple[str, nn.Module] | None:
    found = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d) and not any(part.startswith("dec") for part in name.split(".")):
            found = (name, module)
    return found


def gradcam_target_layer(model: nn.Module) -> tuple[str, nn.Module]:
    """``(dotted name, module)`` of the layer Grad-CAM reads (see the module docstring).

    Raises
    ------
    ValueError
        The model has no convolution to read.
    """
    explicit = getattr(model, "gradcam_layer", None)
    if isinstance(explicit, nn.Module):
        for name, module in model.named_modules():
            if module is explicit:
                return name, module
    found = find_timm_backbone(model)
    if found is not None:
        prefix, backbone = found
        info = backbone.feature_info
        # FeatureInfo.module_name() lists the stages the encoder returns (a truncated encoder's
        # out_indices); indexing FeatureInfo reaches every stage of the full network
        last = info.module_name()[-1] if hasattr(info, "module_name") else info[-1]["module"]
        truncated = type(backbone).__name__ == "FeatureGetterNet"  # the overrides name layers of full networks
        name = last if truncated else LAYER_OVERRIDES.get(_architecture(backbone, model), last)
        layer = _submodule(backbone, name) or _submodule(backbone, last)
        if layer is not None:
            return (f"{prefix}.{layer[0]}" if prefix else layer[0]), layer[1]
    conv = _last_encoder_conv(model)
    if conv is None:
        raise ValueError(f"{type(model).__name__} has no Conv2d layer for Grad-CAM; pass target_layer")
    return conv


def as_batch(x: torch.Tensor) -> torch.Tensor:
    """(3, H, W) or (1, 3, H, W) -> (1, 3, H, W); anything else is a ``ValueError``."""
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"expected one image of shape (3, H, W) or (1, 3, H, W), got {tuple(x.shape)}")
    return x


def gradcam_map(
    model: nn.Module, x: torch.Tensor, target_layer: nn.Module | None = None, target: str = "fake"
) -> np.ndarray:
    """Grad-CAM heatmap of one normalised image, shape (H, W), float64 in [0, 1].

    Parameters
    ----------
    model : the detector (its output's ``.logits``, or a logits tensor); run in eval mode here
        and put back into its previous mode afterwards
    x : (3, H, W) or (1, 3, H, W) normalised image, on the model's device
    target_layer : the layer to read; default :func:`gradcam_target_layer`
    target : ``"fake"`` explains the fake logit z, ``"real"`` explains -z, ``"verdict"`` the
        predicted class (fake when z >= 0)

    Returns
    -------
    np.ndarray (H, W): ReLU(sum_k alpha_k A^k) scaled to [0, 1] (all zeros when no evidence)
    """
    import cv2

    if target not in GRADCAM_TARGETS:
        raise ValueError(f"target must be one of {GRADCAM_TARGETS}, got {target!r}")
    x = as_batch(x)
    layer = target_layer if target_layer is not None else gradcam_target_layer(model)[1]
    was_training = model.training
    wrapper = FakeLogit(model)
    store: dict[str, torch.Tensor] = {}

    def keep(module, inputs, output):
        activation = output[0] if isinstance(output, (tuple, list)) else output
        store["activation"] = activation
        if activation.requires_grad:
            activation.register_hook(lambda grad: store.__setitem__("gradient", grad))

    handle = layer.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            model.eval()
            # the input needs a gradient so that one reaches the layer even when the weights are frozen
            logit = wrapper(x.detach().clone().requires_grad_(True))[0]
            if target == "verdict":
                sign = 1.0 if float(logit) >= 0 else -1.0
            else:
                sign = 1.0 if target == "fake" else -1.0
            (sign * logit).backward()
    finally:
        handle.remove()
        model.train(was_training)
        model.zero_grad(set_to_none=True)
    activation = store["activation"].detach()[0].to("cpu", torch.float32).numpy()
    gradient = store["gradient"].detach()[0].to("cpu", torch.float32).numpy()
    alpha = gradient.mean(axis=(1, 2))
    cam = np.maximum((alpha[:, None, None] * activation).sum(axis=0), 0)
    cam = _minmax(cv2.resize(_minmax(cam), (x.shape[-1], x.shape[-2])))
    return np.asarray(cam, dtype=np.float64)


def _minmax(a: np.ndarray) -> np.ndarray:
    """``(a - min) / (max - min + 1e-7)`` in float32, as pytorch-grad-cam scales its maps."""
    a = a - np.min(a)
    return (a / (1e-7 + np.max(a))).astype(np.float32)
