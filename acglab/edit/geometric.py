r"""Semantic face editing on photos: replace, delete, modify and synthesize face parts.

Each operation works inside a part's region (:mod:`acglab.faces.parts`) and blends its result
into the photo through a feathered mask that falls to exactly zero ``band`` pixels outside the
region (``band = blend · iod``, the blending band; ``iod`` the inter-ocular distance): every
pixel farther out is the original's, which :func:`changed_outside` measures.

- :func:`replace_part` -- the part from another face: the donor is aligned onto the target by
  the similarity that maps the part's landmarks onto the target's (least squares,
  :func:`acglab.synth.align.similarity_transform`), its colours matched to the target's around
  the part (Reinhard transfer in L*a*b*, :func:`acglab.synth.color.reinhard_transfer`) and
  blended in (alpha through the feathered mask, or Poisson, Pérez et al. 2003).
- :func:`delete_part` -- the part removed: its region is filled from the surrounding skin
  (Telea's fast-marching inpainting, :func:`cv2.inpaint`) and blended in.
- :func:`modify_part` -- the part scaled about its centre by ``1 + amount``, moved by
  ``(dx, dy)`` inter-ocular distances and its hue turned by ``hue`` degrees; where it was, the
  surrounding skin is filled in first.
- :func:`synthesize_face` -- a new face composed of parts of several faces (successive
  replacements on a base face).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from acglab.errors import ImageError
from acglab.faces.parts import PartError, as_points68, check_part, inter_ocular, mask_bbox, part_mask, part_points
from acglab.synth.align import similarity_transform, warp_coverage, warp_image
from acglab.synth.blend import alpha_blend, poisson_blend
from acglab.synth.color import reinhard_transfer
from acglab.synth.inputs import as_rgb_image
from acglab.synth.masks import erode_or_dilate, soften

OPS = ("replace", "delete", "modify", "synthesize")
#: default blending band, in inter-ocular distances
DEFAULT_BLEND = 0.12
#: a pixel counts as changed when a channel moves by more than this many grey levels
CHANGE_LEVELS = 8
#: largest scale ratio between two faces that replace aligns (beyond it the detail is not there)
MAX_SCALE_RATIO = 4.0
#: largest difference in head turn (nose offset between the eyes, in inter-ocular distances)
MAX_TURN_DIFFERENCE = 0.35


@dataclass
class EditResult:
    """An edited photo and where it was edited.

    image : (H, W, 3) uint8; op, part : what was done; mask : (H, W) uint8, the edited region
    (union over parts); band : the region the edit may change (mask grown by the blending
    band); bbox : ``(x0, y0, x1, y1)`` of ``mask``; changed_outside : share of the pixels
    outside ``band`` changed by more than :data:`CHANGE_LEVELS` grey levels (0 by construction).
    """

    image: np.ndarray
    op: str
    part: str
    mask: np.ndarray
    band: np.ndarray
    bbox: tuple[int, int, int, int]
    changed_outside: float
    details: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """The JSON record of ``acglab edit --json``."""
        return {
            "op": self.op,
            "part": self.part,
            "bbox": list(self.bbox),
            "changed_outside": self.changed_outside,
            **self.details,
        }


def band_width(iod: float, blend: float) -> int:
    """Width of the blending band in pixels for eyes ``iod`` pixels apart: ``blend · iod``
    rounded, at least 1."""
    if not blend >= 0:
        raise PartError(f"the blend width must be non-negative, got {blend}")
    return max(1, int(round(blend * float(iod))))


def band_pixels(landmarks, blend: float) -> int:
    """:func:`band_width` of the face with these 68 landmarks."""
    return band_width(inter_ocular(landmarks), blend)


def feathered(mask: np.ndarray, band: int) -> np.ndarray:
    """Soft mask, 1 inside ``mask``, falling to exactly 0 within ``band`` pixels outside it: the
    mask grown by ``band // 3`` and blurred with sigma ``band / 12`` (the blur is cut at 4 sigma
    along each axis, so it reaches at most sqrt(2) band / 3 pixels: in all, less than ``band``)."""
    grown = erode_or_dilate(mask, band // 3, dilate=True)
    soft = soften(grown, band / 12.0)
    return np.maximum(soft, mask.astype(np.float32))


def edit_band(mask: np.ndarray, band: int) -> np.ndarray:
    """The pixels an edit through :func:`feathered` may change: ``mask`` grown by ``band``."""
    return erode_or_dilate(mask, band, dilate=True)


def changed_outside(original, edited, band_mask, levels: int = CHANGE_LEVELS) -> float:
    """Share of the pixels outside ``band_mask`` where some channel differs by more than ``levels``."""
    a, b = as_rgb_image(original, "original"), as_rgb_image(edited, "edited")
    outside = band_mask == 0
    if not outside.any():
        return 0.0
    moved = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > levels
    return float(moved[outside].mean())


def _result(image, edited, op, part, mask, band, details=None) -> EditResult:
    region = edit_band(mask, band)
    return EditResult(
        edited, op, part, mask, region, mask_bbox(mask), changed_outside(image, edited, region), dict(details or {})
    )


def head_turn(landmarks) -> float:
    """Signed head turn: the nose tip's offset from the eyes' midpoint along the eye line, in
    inter-ocular distances (0 for a frontal face)."""
    pts = as_points68(landmarks)
    left, right = pts[36:42].mean(0), pts[42:48].mean(0)
    axis = (right - left) / max(np.linalg.norm(right - left), 1e-9)
    return float((pts[30] - (left + right) / 2) @ axis / inter_ocular(pts))


def check_compatible(landmarks, donor_landmarks) -> None:
    """Refuse (:class:`PartError`, with the reason) two faces too different in size or turn to
    exchange parts: a scale ratio above :data:`MAX_SCALE_RATIO` or turns that differ by more
    than :data:`MAX_TURN_DIFFERENCE`."""
    ratio = inter_ocular(landmarks) / max(inter_ocular(donor_landmarks), 1e-9)
    if not 1 / MAX_SCALE_RATIO <= ratio <= MAX_SCALE_RATIO:
        raise PartError(
            f"the faces differ {max(ratio, 1 / ratio):.1f}x in size (at most {MAX_SCALE_RATIO:.0f}x): "
            "crop or resize one of them first"
        )
    turn = abs(head_turn(landmarks) - head_turn(donor_landmarks))
    if turn > MAX_TURN_DIFFERENCE:
        raise PartError(
            f"the faces are turned too differently (head turn differs by {turn:.2f} inter-ocular "
            f"distances, at most {MAX_TURN_DIFFERENCE}): choose a donor facing the same way"
        )


def compatible(landmarks, donor_landmarks) -> bool:
    """Whether :func:`check_compatible` accepts the two faces."""
    try:
        check_compatible(landmarks, donor_landmarks)
    except PartError:
        return False
    return True


def replace_part(
    image,
    landmarks,
    donor,
    donor_landmarks,
    part: str,
    blend: float = DEFAULT_BLEND,
    color: bool = True,
    method: str = "alpha",
) -> EditResult:
    """Put ``donor``'s ``part`` in place of ``image``'s (module notes). ``method``: ``"alpha"``
    (feathered alpha blend) or ``"poisson"`` (gradient-domain blend inside the band)."""
    image, donor = as_rgb_image(image, "image"), as_rgb_image(donor, "donor")
    check_part(part)
    if method not in ("alpha", "poisson"):
        raise PartError(f"blend method must be 'alpha' or 'poisson', got {method!r}")
    check_compatible(landmarks, donor_landmarks)
    band = band_pixels(landmarks, blend)
    mask = part_mask(image.shape, landmarks, part)
    matrix = similarity_transform(part_points(donor_landmarks, part), part_points(landmarks, part))
    warped = warp_image(donor, matrix, image.shape[:2])
    coverage = warp_coverage(donor.shape, matrix, image.shape[:2])
    region = edit_band(mask, band) & coverage
    if not region.any():
        raise PartError(f"the donor's {part} falls outside the image after alignment")
    if color:
        warped = reinhard_transfer(warped, image, region)
    if method == "poisson":
        edited = poisson_blend(warped, image, region)
    else:
        edited = alpha_blend(warped, image, feathered(mask, band) * coverage)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    return _result(image, edited, "replace", part, mask, band, {"donor_scale": scale})


def _fill_from_surroundings(image: np.ndarray, mask: np.ndarray, band: int) -> np.ndarray:
    hole = erode_or_dilate(mask, max(1, band // 4), dilate=True)
    return cv2.inpaint(image, hole, max(3, band), cv2.INPAINT_TELEA)


def delete_part(image, landmarks, part: str, blend: float = DEFAULT_BLEND) -> EditResult:
    """Remove ``part``: fill its region from the surrounding skin and blend it in."""
    image = as_rgb_image(image, "image")
    check_part(part)
    if part in ("face", "skin"):
        raise PartError(
            f"deleting the whole {part} leaves nothing to fill it from; delete eyes, brows, nose, mouth or jaw"
        )
    band = band_pixels(landmarks, blend)
    mask = part_mask(image.shape, landmarks, part)
    edited = alpha_blend(_fill_from_surroundings(image, mask, band), image, feathered(mask, band))
    return _result(image, edited, "delete", part, mask, band)


def shift_hue(image: np.ndarray, degrees: float) -> np.ndarray:
    """The image with every pixel's hue turned by ``degrees`` (HSV, OpenCV's 180-step hue)."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.int32)
    hsv[..., 0] = (hsv[..., 0] + int(round(degrees / 2))) % 180
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def modify_part(
    image,
    landmarks,
    part: str,
    amount: float = 0.0,
    dx: float = 0.0,
    dy: float = 0.0,
    hue: float = 0.0,
    blend: float = DEFAULT_BLEND,
) -> EditResult:
    """Scale ``part`` by ``1 + amount`` about its centre, move it by ``(dx, dy)`` inter-ocular
    distances and turn its hue by ``hue`` degrees (module notes)."""
    image = as_rgb_image(image, "image")
    check_part(part)
    scale = 1.0 + float(amount)
    if not 0.2 <= scale <= 3.0:
        raise PartError(f"amount must keep the part between 0.2x and 3x its size, got {amount}")
    if part in ("face", "skin", "jaw") and (amount or dx or dy):
        raise PartError(f"the {part} can only be recoloured (--hue), not moved or scaled")
    band = band_pixels(landmarks, blend)
    iod = inter_ocular(landmarks)
    mask = part_mask(image.shape, landmarks, part)
    cx, cy = part_points(landmarks, part).mean(0)
    matrix = np.array([[scale, 0.0, (1 - scale) * cx + dx * iod], [0.0, scale, (1 - scale) * cy + dy * iod]])
    moved = warp_image(shift_hue(image, hue) if hue else image, matrix, image.shape[:2])
    moved_mask = cv2.warpAffine(mask, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_NEAREST)
    geometric = scale != 1.0 or dx or dy
    base = alpha_blend(_fill_from_surroundings(image, mask, band), image, feathered(mask, band)) if geometric else image
    edited = alpha_blend(moved, base, feathered(moved_mask, band))
    union = (mask | moved_mask).astype(np.uint8)
    return _result(
        image, edited, "modify", part, union, band, {"scale": scale, "shift": [float(dx), float(dy)], "hue": float(hue)}
    )


#: the photo edits :func:`edit_scores` applies, by name: (operation, part, options)
SCORED_EDITS = {
    "replace mouth": ("replace", "mouth", {}),
    "delete brows": ("delete", "brows", {}),
    "modify nose +30%": ("modify", "nose", {"amount": 0.3}),
    "recolour mouth": ("modify", "mouth", {"hue": 90.0}),
}


def apply_edit(image, landmarks, op: str, part: str, donor=None, donor_landmarks=None, **options) -> EditResult:
    """One photo edit by name (``op`` in :data:`OPS` except synthesize)."""
    if op == "replace":
        if donor is None:
            raise PartError("replace needs a donor face")
        return replace_part(image, landmarks, donor, donor_landmarks, part, **options)
    if op == "delete":
        return delete_part(image, landmarks, part, **options)
    if op == "modify":
        return modify_part(image, landmarks, part, **options)
    raise PartError(f"operation must be replace, delete or modify, got {op!r}")


def edit_scores(faces, analyse, edits: dict | None = None) -> dict[str, list[float]]:
    """A detector's P(fake) of each face crop, unedited and after each edit of ``edits`` (default
    :data:`SCORED_EDITS`). ``faces``: ``(image, landmarks, crop box, donor image, donor
    landmarks)``; ``analyse``: face crop -> (P(fake), ...). An edit refused for a face scores NaN."""
    from acglab.errors import AcglabError

    edits = SCORED_EDITS if edits is None else edits
    table = {"original": []}
    table.update({name: [] for name in edits})
    for image, landmarks, box, donor, donor_landmarks in faces:
        x0, y0, x1, y1 = box
        table["original"].append(float(analyse(image[y0:y1, x0:x1])[0]))
        for name, (op, part, options) in edits.items():
            try:
                edited = apply_edit(image, landmarks, op, part, donor, donor_landmarks, **options).image
            except AcglabError:
                table[name].append(float("nan"))
                continue
            table[name].append(float(analyse(edited[y0:y1, x0:x1])[0]))
    return table


def synthesize_face(image, landmarks, donors, blend: float = DEFAULT_BLEND, color: bool = True) -> EditResult:
    """A face composed of parts of several faces: ``donors`` is a list of ``(donor image,
    donor landmarks, part)``; each part replaces the base face's in turn."""
    image = as_rgb_image(image, "image")
    if not donors:
        raise PartError("synthesize needs at least one donor face and part")
    edited, union, used = image, np.zeros(image.shape[:2], np.uint8), []
    for donor, donor_landmarks, part in donors:
        step = replace_part(edited, landmarks, donor, donor_landmarks, part, blend, color)
        edited, union = step.image, union | step.mask
        used.append(part)
    band = band_pixels(landmarks, blend)
    return _result(image, edited, "synthesize", "+".join(used), union, band, {"parts": used})


def check_image_size(image, landmarks, min_iod: float = 12.0) -> None:
    """Refuse faces too small to edit part by part (inter-ocular distance under ``min_iod`` px)."""
    iod = inter_ocular(landmarks)
    if iod < min_iod:
        raise ImageError(
            f"the face is too small to edit its parts (eyes {iod:.0f} px apart, need at least "
            f"{min_iod:.0f}); use a larger image"
        )
