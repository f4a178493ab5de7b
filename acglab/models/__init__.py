"""Models: small networks trained in the notebooks and the parts of the ACG detector.

Importing this package imports nothing heavy; import the module you need, for example
:mod:`acglab.models.digits_ae` (a tiny autoencoder for scikit-learn's 8x8 digits).

The ACG detector (thesis chapter 2): :func:`build_model` (:mod:`acglab.models.registry`),
:class:`ACGOutput` (:mod:`acglab.models.outputs`) and the checkpoint functions
(:mod:`acglab.models.checkpoint`) are loaded on first access::

    from acglab.models import build_model
    model = build_model("acg", backbone="resnet18", img_size=112)
"""

from __future__ import annotations

from acglab.lazy import lazy_getattr

_LAZY = {
    "build_model": "acglab.models.registry",
    "build_model_from_config": "acglab.models.registry",
    "ARCHS": "acglab.models.registry",
    "ACGOutput": "acglab.models.outputs",
    "Normalization": "acglab.models.outputs",
    "ModelConfigError": "acglab.errors",
    "create_classifier": "acglab.models.backbone",
    "create_encoder": "acglab.models.backbone",
    "pretrained_choices": "acglab.models.pretrained",
    "SOURCES": "acglab.models.pretrained",
    "OTOptions": "acglab.models.ot_options",
    "save_checkpoint": "acglab.models.checkpoint",
    "load_checkpoint": "acglab.models.checkpoint",
    "load_weights": "acglab.models.checkpoint",
    "model_from_checkpoint": "acglab.models.checkpoint",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY, globals())
