"""Explaining the ACG detector's decisions: Grad-CAM heatmaps of the fake logit, the
autoencoder's reconstruction residual |x - x_hat|, overlays and a combined figure.

``gradcam_map(model, x)`` and ``residual_map(model, x)`` map one normalised image to an
(H, W) array; ``explain_image(path, model)`` does the whole analysis of one picture and
``save_explanation`` writes it to a folder (``acglab explain`` on the command line).
"""

from acglab.explain.explanation import Explanation, explain_image, face_tensor, save_explanation
from acglab.explain.figures import explanation_figure, heatmap_overlay
from acglab.explain.gradcam import gradcam_map, gradcam_target_layer
from acglab.explain.residual import reconstruction_residual, residual_map

__all__ = [
    "Explanation",
    "explain_image",
    "explanation_figure",
    "face_tensor",
    "gradcam_map",
    "gradcam_target_layer",
    "heatmap_overlay",
    "reconstruction_residual",
    "residual_map",
    "save_explanation",
]
