"""Pictures of an explanation: heatmap overlays and the combined figure (matplotlib, no GUI).

A heatmap ``h`` (any resolution) is resized to the image's ``H x W`` (bilinear), scaled to
[0, 1] by ``vmax`` (``h / vmax``, clipped), coloured with a matplotlib colormap ``C`` and blended:

    overlay = (1 - alpha) * image / 255 + alpha * C(h / vmax)        (per pixel, RGB in [0, 1]),

returned as (H, W, 3) uint8. The combined figure shows the face, the Grad-CAM overlay, the
autoencoder's reconstruction and the residual map side by side with the verdict as title.
"""

from __future__ import annotations

import cv2
import numpy as np

#: colormaps of the two maps
GRADCAM_CMAP = "jet"
RESIDUAL_CMAP = "magma"


def resize_map(heat: np.ndarray, height: int, width: int) -> np.ndarray:
    """``heat`` (h, w) resized to (height, width) by bilinear interpolation, float64."""
    heat = np.asarray(heat, dtype=np.float64)
    if heat.shape == (height, width):
        return heat.copy()
    return cv2.resize(heat, (int(width), int(height)), interpolation=cv2.INTER_LINEAR)


def colorize(heat: np.ndarray, cmap: str = GRADCAM_CMAP, vmax: float | None = None) -> np.ndarray:
    """RGB colours in [0, 1], shape (H, W, 3), of ``clip(heat / vmax, 0, 1)`` under ``cmap``;
    ``vmax`` defaults to the map's maximum (1 for an all-zero map)."""
    from matplotlib import colormaps

    heat = np.asarray(heat, dtype=np.float64)
    if vmax is None:
        vmax = float(heat.max()) if heat.size and heat.max() > 0 else 1.0
    scaled = np.clip(heat / vmax, 0.0, 1.0)
    return colormaps[cmap](scaled)[..., :3]


def heatmap_overlay(
    image: np.ndarray, heat: np.ndarray, alpha: float = 0.45, cmap: str = GRADCAM_CMAP, vmax: float | None = None
) -> np.ndarray:
    """``image`` (H, W, 3) uint8 with ``heat`` blended over it (module docstring); (H, W, 3) uint8."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    colours = colorize(resize_map(heat, *image.shape[:2]), cmap, vmax)
    blend = (1.0 - alpha) * image.astype(np.float64) / 255.0 + alpha * colours
    return np.clip(np.rint(blend * 255.0), 0, 255).astype(np.uint8)


def explanation_figure(
    face: np.ndarray,
    gradcam: np.ndarray,
    p_fake: float,
    verdict: str,
    reconstruction: np.ndarray | None = None,
    residual: np.ndarray | None = None,
    title: str | None = None,
):
    """The combined figure: face, Grad-CAM overlay, and (given) reconstruction and residual map.

    Parameters
    ----------
    face : (H, W, 3) uint8, the analysed face
    gradcam : (h, w) in [0, 1]
    p_fake, verdict : the model's P(fake) and the verdict word
    reconstruction : (h, w, 3) uint8 image-space reconstruction, or ``None``
    residual : (h, w) residual map, or ``None``

    Maps and reconstruction are shown resized to the face's H x W.

    Returns
    -------
    matplotlib.figure.Figure (not attached to pyplot, so no window opens)
    """
    from matplotlib.figure import Figure

    panels = [("face", face, None), ("Grad-CAM", heatmap_overlay(face, gradcam), None)]
    if reconstruction is not None:
        height, width = face.shape[:2]
        panels.append(
            ("reconstruction", cv2.resize(reconstruction, (width, height), interpolation=cv2.INTER_LINEAR), None)
        )
    if residual is not None:
        panels.append(("residual |x - x\u0302|", resize_map(residual, *face.shape[:2]), RESIDUAL_CMAP))
    fig = Figure(figsize=(3.0 * len(panels), 3.4), layout="constrained")
    axes = fig.subplots(1, len(panels))
    for ax, (name, picture, cmap) in zip(np.atleast_1d(axes), panels):
        shown = ax.imshow(picture, cmap=cmap, vmin=0.0 if cmap else None)
        if cmap:
            fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.02)
        ax.set_title(name, fontsize=10)
        ax.set_axis_off()
    fig.suptitle(title or f"P(fake) = {p_fake:.3f}: {verdict}", fontsize=12)
    return fig
