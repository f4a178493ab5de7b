"""How well our detection and cropping agree with published face crops of the same frames.

For a full frame and the face crop published for it:

1. **Locate the published crop** in the frame by normalised cross-correlation
   (``cv2.matchTemplate``, ``TM_CCOEFF_NORMED``) on grayscale images. The crop may have been
   resized: a crop of ``w x h`` pixels at scale ``s`` covers ``w / s x h / s`` frame pixels; scale
   1 is tried first and, if its correlation is below ``accept``, a geometric grid of scales is
   searched. The best match gives the published crop box in frame coordinates.
2. **Published face region**: the crop box shrunk about its centre by ``enlargement`` (1.3 in the
   Celeb-DF companion code, which enlarges the detector box by 1.3 before cropping).
3. **Our face**: :func:`acglab.faces.detect.find_face` on the frame, cropped with
   :func:`acglab.faces.crop.crop_box`.

A frame *agrees* ("same face found") when the IoU of our face box with the published face region
is at least ``min_iou`` (0.5, the PASCAL VOC detection criterion). The framing is compared by the
IoU of our crop box with the published crop box.

.. math::

    \\mathrm{IoU}(A, B) = \\frac{|A \\cap B|}{|A| + |B| - |A \\cap B|}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from acglab.errors import NoFaceError
from acglab.faces.crop import DEFAULT_MARGIN, crop_box
from acglab.faces.detect import find_face

#: the companion code's box enlargement (crop side / detector box side)
PUBLISHED_ENLARGEMENT = 1.3


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two boxes ``(x0, y0, x1, y1)`` (continuous areas; 0 when either is empty)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0


def shrink_box(box: Sequence[float], factor: float) -> tuple[float, float, float, float]:
    """``box`` scaled by ``1 / factor`` about its centre (undoes an enlargement by ``factor``)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) / (2 * factor), (box[3] - box[1]) / (2 * factor)
    return (cx - hw, cy - hh, cx + hw, cy + hh)


@dataclass(frozen=True)
class LocatedCrop:
    """Where a crop lies in a frame: ``box`` in frame pixels, correlation ``score``, ``scale``."""

    box: tuple[float, float, float, float]
    score: float
    scale: float


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def _match_at(frame_gray: np.ndarray, crop_gray: np.ndarray, scale: float) -> LocatedCrop | None:
    h, w = crop_gray.shape
    tw, th = max(1, round(w / scale)), max(1, round(h / scale))
    if tw > frame_gray.shape[1] or th > frame_gray.shape[0] or min(tw, th) < 8:
        return None
    template = crop_gray if (tw, th) == (w, h) else cv2.resize(crop_gray, (tw, th), interpolation=cv2.INTER_AREA)
    result = cv2.matchTemplate(frame_gray, template, cv2.TM_CCOEFF_NORMED)
    _, score, _, (x, y) = cv2.minMaxLoc(result)
    return LocatedCrop((float(x), float(y), float(x + tw), float(y + th)), float(score), float(scale))


def locate_crop(
    frame: np.ndarray, crop: np.ndarray, accept: float = 0.95, scales: Iterable[float] | None = None
) -> LocatedCrop:
    """Find ``crop`` (possibly resized) inside ``frame`` by normalised cross-correlation.

    Parameters
    ----------
    frame, crop : (H, W, 3) uint8 RGB or (H, W) gray arrays
    accept : float
        A correlation at scale 1 at least this high is taken without searching other scales.
    scales : iterable of float, optional
        Crop pixels per frame pixel to try; default 33 scales from 0.5 to 2 (geometric).

    Returns
    -------
    LocatedCrop
        The best match over the scales tried.
    """
    fg, cg = _gray(np.asarray(frame)), _gray(np.asarray(crop))
    best = _match_at(fg, cg, 1.0)
    if best is not None and best.score >= accept:
        return best
    grid = np.geomspace(0.5, 2.0, 33) if scales is None else scales
    for s in grid:
        found = _match_at(fg, cg, float(s))
        if found is not None and (best is None or found.score > best.score):
            best = found
    if best is None:
        raise ValueError(f"crop {cg.shape[::-1]} does not fit in frame {fg.shape[::-1]} at any scale tried")
    return best


@dataclass(frozen=True)
class FrameAgreement:
    """The comparison for one frame (boxes in frame pixels; ``face_box`` None if no face)."""

    name: str
    published_crop: tuple[float, float, float, float]
    match_score: float
    match_scale: float
    published_face: tuple[float, float, float, float]
    face_box: tuple[float, float, float, float] | None
    our_crop: tuple[int, int, int, int] | None
    face_iou: float
    crop_iou: float
    same_face: bool


@dataclass(frozen=True)
class AgreementReport:
    """All frames compared, the fraction that agree, the mean crop IoU and the time taken."""

    frames: list[FrameAgreement]
    seconds: float

    @property
    def agreement(self) -> float:
        """Fraction of frames where the same face was found."""
        return sum(f.same_face for f in self.frames) / len(self.frames) if self.frames else 0.0

    @property
    def mean_crop_iou(self) -> float:
        return float(np.mean([f.crop_iou for f in self.frames])) if self.frames else 0.0

    @property
    def no_face(self) -> int:
        return sum(f.face_box is None for f in self.frames)

    def summary(self) -> str:
        n = len(self.frames)
        return (
            f"same face in {sum(f.same_face for f in self.frames)}/{n} frames ({self.agreement:.1%}); "
            f"mean crop IoU {self.mean_crop_iou:.3f}; no face in {self.no_face}; "
            f"{self.seconds:.1f} s ({self.seconds / max(n, 1):.2f} s/frame)"
        )

    def to_records(self) -> list[dict]:
        return [asdict(f) for f in self.frames]


def compare_frame(
    name: str,
    frame: np.ndarray,
    crop: np.ndarray,
    *,
    margin=DEFAULT_MARGIN,
    enlargement: float = PUBLISHED_ENLARGEMENT,
    min_iou: float = 0.5,
    choose: str = "best",
    **detect_options,
) -> FrameAgreement:
    """Compare our face and crop of ``frame`` with the published ``crop`` of it (module docstring)."""
    located = locate_crop(frame, crop)
    published_face = shrink_box(located.box, enlargement)
    try:
        face = find_face(frame, choose=choose, what=name, **detect_options)
    except NoFaceError:
        face = None
    if face is None:
        return FrameAgreement(
            name, located.box, located.score, located.scale, published_face, None, None, 0.0, 0.0, False
        )
    ours = crop_box(face.box, frame.shape, margin)
    face_iou = box_iou(face.box, published_face)
    return FrameAgreement(
        name,
        located.box,
        located.score,
        located.scale,
        published_face,
        face.box,
        ours,
        face_iou,
        box_iou(ours, located.box),
        face_iou >= min_iou,
    )
