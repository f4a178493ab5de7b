"""Grad-CAM heatmaps of the detector's fake logit (Selvaraju et al., 2020; thesis fig. 3-2).

For a target layer with activations A^k (k = 1..K channels, each h x w) and the classifier's
logit z for the class fake (or -z for real), Grad-CAM weighs each channel by its mean gradient
and keeps the positive evidence:

    alpha_k = (1 / (h w)) sum_{i,j} dz / dA^k_{ij},      L = ReLU(sum_k alpha_k A^k),

then ``L`` is min-max scaled to [0, 1] and resized to the input's H x W. The computation is the
one of ``pytorch_grad_cam.GradCAM`` (which this module calls) on a wrapper whose output is the
(B,) logit vector.

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


class SignedLogit:
    """Grad-CAM target: ``sign * z`` of one image (``sign = +1`` explains fake, ``-1`` real)."""

    def __init__(self, sign: float = 1.0):
        self.sign = float(sign)

    def __call__(self, logit: torch.Tensor) -> torch.Tensor:
        return self.sign * logit


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


def gradcam_map(model: nn.Module, x: torch.Tensor, target_layer: nn.Module | None = None, target: str = "fake") -> np.ndarray:
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
    from pytorch_grad_cam import GradCAM

    if target not in GRADCAM_TARGETS:
        raise ValueError(f"target must be one of {GRADCAM_TARGETS}, got {target!r}")
    x = as_batch(x)
    layer = target_layer if target_layer is not None else gradcam_target_layer(model)[1]
    was_training = model.training
    wrapper = FakeLogit(model)
    try:
        with torch.enable_grad():
            model.eval()
            if target == "verdict":
                with torch.no_grad():
                    sign = 1.0 if float(wrapper(x)[0]) >= 0 else -1.0
            else:
                sign = 1.0 if target == "fake" else -1.0
            with GradCAM(model=wrapper, target_layers=[layer]) as cam:
                # let gradients reach the layer even when the weights are frozen
                cam.compute_input_gradient = True
                heat = cam(input_tensor=x.detach(), targets=[SignedLogit(sign)])
    finally:
        model.train(was_training)
        model.zero_grad(set_to_none=True)
    return np.asarray(heat[0], dtype=np.float64)
