"""Explaining one image: find the face, score it, and say where the model looked.

:func:`explain_image` loads an image (:func:`acglab.data.images.load_image`), takes its face
(MTCNN, :func:`acglab.faces.find_face` + :func:`acglab.faces.crop_face`, unless the image is
already a face crop), resizes it to the model's input size, normalises it, and returns an
:class:`Explanation`: ``P(fake) = sigmoid(z)``, the verdict (fake when ``P(fake) >= 0.5``), the
Grad-CAM heatmap (:mod:`acglab.explain.gradcam`), the autoencoder's reconstruction and the
residual map (:mod:`acglab.explain.residual`). :func:`save_explanation` writes them to a folder.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from acglab.data.images import png_bytes
from acglab.explain.figures import GRADCAM_CMAP, RESIDUAL_CMAP, explanation_figure, heatmap_overlay
from acglab.explain.gradcam import GRADCAM_TARGETS, gradcam_map, gradcam_target_layer
from acglab.explain.residual import denormalize, normalization_stats, reconstruct, reconstruction_residual
from acglab.fileio import write_bytes_atomic

#: decision threshold on P(fake)
THRESHOLD = 0.5
#: an image whose face crop would cover at least this share of it is taken as a crop already
CROP_COVERAGE = 0.8
#: files written by :func:`save_explanation`, in writing order (``verdict.json`` last)
EXPLANATION_FILES = (
    "face.png",
    "gradcam.npy",
    "gradcam.png",
    "reconstruction.png",
    "residual.npy",
    "residual.png",
    "explanation.png",
    "verdict.json",
)


@dataclass
class Explanation:
    """What the model says about one face and where it looked.

    Attributes
    ----------
    face : (h, w, 3) uint8, the analysed face at its own resolution
    p_fake, logit : P(fake) = sigmoid(logit)
    verdict : ``"fake"`` when ``p_fake >= THRESHOLD``, else ``"real"``
    gradcam : (S, S) in [0, 1] at the model's input size S
    reconstruction : (S, S, 3) uint8 image-space reconstruction, or ``None`` (no autoencoder)
    residual : (S, S) float64 residual map, or ``None``
    face_box, face_score : the detected face (``None`` when not detected)
    cropped : whether ``face`` was cut out of a larger image
    gradcam_layer, gradcam_target : the layer read and the class explained (``"fake"`` or ``"real"``)
    features : (D,) the pooled bottleneck features the classifier read, or ``None``
    """

    face: np.ndarray
    p_fake: float
    logit: float
    verdict: str
    gradcam: np.ndarray
    reconstruction: np.ndarray | None
    residual: np.ndarray | None
    face_box: tuple[float, float, float, float] | None = None
    face_score: float | None = None
    cropped: bool = False
    gradcam_layer: str = ""
    gradcam_target: str = "fake"
    config: dict = field(default_factory=dict)
    features: np.ndarray | None = None

    def summary(self) -> dict:
        """The JSON-able part: probability, verdict, face and Grad-CAM settings."""
        return {
            "p_fake": self.p_fake,
            "logit": self.logit,
            "verdict": self.verdict,
            "threshold": THRESHOLD,
            "face": {
                "box": list(self.face_box) if self.face_box is not None else None,
                "score": self.face_score,
                "cropped": self.cropped,
                "size": [int(self.face.shape[1]), int(self.face.shape[0])],
            },
            "gradcam": {"layer": self.gradcam_layer, "target": self.gradcam_target},
            "residual": self.residual is not None,
            "model": self.config,
        }


def take_face(image: np.ndarray, face_crop: bool | None = None, what: str = "image", device: str = "cpu", faces=None):
    """``(face, box, score, cropped)`` of an (H, W, 3) uint8 image.

    ``face_crop=False`` uses the image as it is (no detection). ``True`` detects the best face
    and crops it with the Celeb-DF framing (:data:`acglab.faces.DEFAULT_MARGIN`). ``None``
    (automatic) detects the face and crops only when the crop would cover less than
    :data:`CROP_COVERAGE` of the image (otherwise the image is a face crop already).

    ``faces``: faces detected already (the first is used), to skip detection.

    Raises :class:`acglab.errors.NoFaceError` when detection finds no face.
    """
    from acglab.faces import DEFAULT_MARGIN, crop_box, crop_face, find_face

    if face_crop is False:
        return image, None, None, False
    face = faces[0] if faces else find_face(image, what=what, device=device)
    x0, y0, x1, y1 = crop_box(face.box, image.shape, DEFAULT_MARGIN)
    coverage = (x1 - x0) * (y1 - y0) / float(image.shape[0] * image.shape[1])
    if face_crop is None and coverage >= CROP_COVERAGE:
        return image, face.box, face.score, False
    return crop_face(image, face, DEFAULT_MARGIN), face.box, face.score, True


def face_tensor(face: np.ndarray, img_size: int, normalization) -> torch.Tensor:
    """(3, S, S) float32 normalised tensor of an (h, w, 3) uint8 face, prepared exactly as the
    data pipeline prepares evaluation images (:mod:`acglab.data.tensors`): resized to S x S (area
    averaging when shrinking, bilinear otherwise), then ``(v / 255 - m_c) / s_c`` per channel."""
    from acglab.data.images import resize_square
    from acglab.data.tensors import as_mean_std, normalize

    mean, std = as_mean_std(tuple(normalization_stats(normalization)))
    return normalize(resize_square(np.ascontiguousarray(face), int(img_size)), mean, std)


def to_uint8_image(x: torch.Tensor, normalization) -> np.ndarray:
    """(3, S, S) normalised tensor -> (S, S, 3) uint8 image (de-normalised, clipped to [0, 1])."""
    mean, std = normalization_stats(normalization)
    pixels = denormalize(x.detach().to("cpu", torch.float64), mean, std).clamp(0, 1)
    return np.rint(pixels.numpy().transpose(1, 2, 0) * 255.0).astype(np.uint8)


def explain_image(
    image,
    model: nn.Module,
    face_crop: bool | None = None,
    device="cpu",
    gradcam_target: str = "verdict",
    what: str | None = None,
    faces=None,
) -> Explanation:
    """Score one image with ``model`` and explain the score (module docstring).

    Parameters
    ----------
    image : path of an image file, or an (H, W, 3) uint8 RGB array
    model : the detector, with ``.config["img_size"]`` and ``.normalization``
    face_crop : ``None`` automatic, ``True`` always detect and crop, ``False`` use as is
    device : where the model runs (detection runs on the CPU)
    gradcam_target : ``"verdict"`` (the predicted class), ``"fake"`` or ``"real"``
    what : how error messages name the image (default: its path, or "the image")
    faces : faces detected in it already (:func:`acglab.faces.detect_faces`; the first is used)

    Raises
    ------
    ImageError
        The file is missing, corrupt or not an image.
    NoFaceError
        Detection found no face (with ``face_crop`` ``None`` or ``True``).
    """
    from acglab.data.images import load_image
    from acglab.faces.detect import as_rgb_array

    if gradcam_target not in GRADCAM_TARGETS:
        raise ValueError(f"gradcam_target must be one of {GRADCAM_TARGETS}, got {gradcam_target!r}")
    if isinstance(image, (str, os.PathLike)):
        what, pixels = what or str(image), load_image(image)
    else:
        what, pixels = what or "the image", as_rgb_array(image)
    face, box, score, cropped = take_face(pixels, face_crop, what=what, faces=faces)
    device = torch.device(device)
    model.to(device)
    x = face_tensor(face, int(model.config["img_size"]), model.normalization).to(device)[None]
    out = reconstruct(model, x)
    logits = out.logits if hasattr(out, "logits") else out
    logit = float(logits.reshape(-1)[0])
    p_fake = float(torch.sigmoid(torch.tensor(logit, dtype=torch.float64)))
    recon = getattr(out, "recon", None)
    pooled = getattr(out, "features", None)
    features = None if pooled is None else pooled[0].detach().to("cpu", torch.float64).numpy()
    reconstruction = residual = None
    if recon is not None:
        mean, std = normalization_stats(model.normalization)
        residual = reconstruction_residual(x, recon, mean, std)[0]
        reconstruction = to_uint8_image(recon[0], model.normalization)
    verdict = "fake" if p_fake >= THRESHOLD else "real"
    layer_name, layer = gradcam_target_layer(model)
    explained = verdict if gradcam_target == "verdict" else gradcam_target
    heat = gradcam_map(model, x, target_layer=layer, target=explained)
    return Explanation(
        face=face,
        p_fake=p_fake,
        logit=logit,
        verdict=verdict,
        gradcam=heat,
        reconstruction=reconstruction,
        residual=residual,
        face_box=tuple(float(v) for v in box) if box is not None else None,
        face_score=float(score) if score is not None else None,
        cropped=cropped,
        gradcam_layer=layer_name,
        gradcam_target=explained,
        config=dict(getattr(model, "config", {}) or {}),
        features=features,
    )


def _npy_bytes(values: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(values), allow_pickle=False)
    return buf.getvalue()


def _figure_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def explanation_contents(expl: Explanation, info: dict | None = None) -> dict[str, bytes]:
    """``{file name: bytes}`` of every file of the explanation (see :data:`EXPLANATION_FILES`);
    maps are saved at the model's input size, overlays at the face's own size."""
    files = {
        "face.png": png_bytes(expl.face),
        "gradcam.npy": _npy_bytes(expl.gradcam.astype(np.float32)),
        "gradcam.png": png_bytes(heatmap_overlay(expl.face, expl.gradcam, cmap=GRADCAM_CMAP)),
    }
    if expl.reconstruction is not None:
        files["reconstruction.png"] = png_bytes(expl.reconstruction)
    if expl.residual is not None:
        files["residual.npy"] = _npy_bytes(expl.residual.astype(np.float32))
        files["residual.png"] = png_bytes(heatmap_overlay(expl.face, expl.residual, alpha=0.6, cmap=RESIDUAL_CMAP))
    files["explanation.png"] = _figure_bytes(
        explanation_figure(expl.face, expl.gradcam, expl.p_fake, expl.verdict, expl.reconstruction, expl.residual)
    )
    summary = {
        **expl.summary(),
        **(info or {}),
        "files": [n for n in EXPLANATION_FILES if n in files or n == "verdict.json"],
    }
    files["verdict.json"] = (json.dumps(summary, indent=2) + "\n").encode()
    return files


def save_explanation(expl: Explanation, out_dir, info: dict | None = None) -> list[Path]:
    """Write the explanation's files into ``out_dir`` (created), each atomically (temp file then
    ``os.replace``), ``verdict.json`` last; everything is encoded before the first write.
    Returns the paths written."""
    contents = explanation_contents(expl, info)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in EXPLANATION_FILES:
        if name not in contents:
            continue
        written.append(write_bytes_atomic(out / name, contents[name]))
    return written


def face_analyser(model: nn.Module, device="cpu", gradcam_target: str = "fake"):
    """``analyse(face) -> (P(fake), Grad-CAM map)`` for face crops (uint8 (h, w, 3), used as
    they are, no detection): what the editing notebook shows beside each edit."""

    def analyse(face: np.ndarray) -> tuple[float, np.ndarray]:
        expl = explain_image(
            np.ascontiguousarray(face), model, face_crop=False, device=device, gradcam_target=gradcam_target
        )
        return expl.p_fake, expl.gradcam

    return analyse
