"""Blending masks built from five (or dlib's 68) facial landmarks, of the whole face or of one part.

A forgery pastes a face region from a *source* image into a *target* image; the region is a
mask derived from the target's landmarks (eyes, nose, mouth corners). Following Self-Blended
Images (Shiohara & Yamasaki, CVPR 2022) the mask is randomised so a detector cannot learn one
fixed boundary:

1. a face region: the convex hull of the landmarks plus points extended towards the brows,
   cheeks and chin (:func:`face_hull_mask`), or an ellipse fitted to them (:func:`face_ellipse_mask`);
   with dlib's 68 points (:mod:`acglab.faces.landmarks68`) the hull is SBI's, that of all 68
   points, optionally extended over the forehead (:func:`forehead_points`);
2. a random elastic deformation of its outline (:func:`elastic_deform`);
3. a random erosion or dilation (:func:`erode_or_dilate`);
4. a Gaussian blur for a soft edge (:func:`soften`).

Steps 2-4 are :func:`randomise_mask`; with 68 landmarks they also apply to one face part
(eyes, brows, nose, mouth, jaw, skin: :mod:`acglab.faces.parts`, :func:`random_part_mask`), the
masks of local forgeries and of the semantic edits of :mod:`acglab.edit`.

All sizes scale with the face (:func:`face_scale`), so the same settings work on a 25-pixel
thumbnail and on a 512-pixel portrait. Landmarks are ``(5, 2)`` or ``(68, 2)`` arrays; sizes,
axes and the ellipse use the five points (the 68 reduced by
:func:`~acglab.faces.landmarks68.five_from_68`). Masks are ``(H, W)`` arrays: uint8 0/1 when
binary, float32 in ``[0, 1]`` when soft.
"""

from __future__ import annotations

import cv2
import numpy as np

from acglab.faces.parts import as_points68, inter_ocular, mask_bbox, part_mask
from acglab.synth.inputs import as_landmarks, five_points

#: SBI's forehead extension of the 68-point hull: with probability 1/2 the brows are moved up
#: by a fraction drawn uniformly from this range of the brow-to-chin distance
FOREHEAD = (0.0, 0.3)


def face_axes(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    """The face frame of five landmarks (of :func:`~acglab.synth.inputs.five_points` for 68).

    Returns ``(eye_center, mouth_center, right, up, iod, eye_mouth)``: the two centres ``(2,)``,
    the unit vector from the left to the right eye, the unit vector from the mouth towards the
    eyes, the inter-ocular distance ``|e_r - e_l|`` and the eye-to-mouth distance
    ``|c_eye - c_mouth|``.
    """
    le, re, _, ml, mr = five_points(landmarks)
    eye_c, mouth_c = (le + re) / 2, (ml + mr) / 2
    iod = float(np.linalg.norm(re - le))
    right = (re - le) / max(iod, 1e-9)
    up_vec = eye_c - mouth_c
    eye_mouth = float(np.linalg.norm(up_vec))
    up = up_vec / eye_mouth if eye_mouth > 1e-9 else np.array([right[1], -right[0]])
    return eye_c, mouth_c, right, up, iod, eye_mouth


def face_scale(landmarks) -> float:
    """A length in pixels that grows with the face: ``max(iod, eye_mouth)`` (see :func:`face_axes`)."""
    pts = np.asarray(landmarks, dtype=np.float64)
    _, _, _, _, iod, eye_mouth = face_axes(pts)
    return max(iod, eye_mouth, 1.0)


def face_outline_points(landmarks, *, brow: float = 0.45, chin: float = 0.7, width: float = 0.55) -> np.ndarray:
    """The five landmarks plus eight points that extend them to the face region, ``(13, 2)``
    (for 68 points, those of their :func:`~acglab.synth.inputs.five_points`).

    With ``d`` the eye-to-mouth distance, ``u`` the unit vector towards the eyes and ``r`` the
    unit vector towards the right eye, the added points are the brows ``e ± width·iod·r + brow·d·u``
    (``e`` each eye), the cheeks beside the eyes and the mouth, and the chin
    ``c_mouth - chin·d·u``. The convex hull of the result covers brows to chin, cheek to cheek.
    """
    pts = five_points(landmarks)
    le, re, _, ml, mr = pts
    _, mouth_c, r, u, iod, d = face_axes(pts)
    w = width * iod
    extra = [
        le + brow * d * u - 0.3 * w * r,
        re + brow * d * u + 0.3 * w * r,
        le - w * r,
        re + w * r,
        ml - 0.8 * w * r - 0.25 * d * u,
        mr + 0.8 * w * r - 0.25 * d * u,
        mouth_c - chin * d * u - 0.4 * w * r,
        mouth_c - chin * d * u + 0.4 * w * r,
    ]
    return np.vstack([pts, np.array(extra)])


def forehead_points(landmarks, amount: float) -> np.ndarray:
    """dlib's 68 points plus their brows moved up over the forehead, ``(78, 2)``.

    SBI's hull stops at the brows; to cover the forehead too the ten brow points 17-26 are
    copied and moved by ``amount·D`` along the face's up vector ``u`` (mouth towards eyes, see
    :func:`face_axes`), with ``D`` the distance from the brow centre (mean of 17-26) to the chin
    (point 8). ``amount = 0`` adds the brows unchanged, so the hull is that of the 68 points.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (68, 2):
        raise ValueError(f"forehead_points needs (68, 2) landmarks, got shape {pts.shape}")
    if not amount >= 0:
        raise ValueError(f"amount must be >= 0, got {amount}")
    brows = pts[17:27]
    _, _, _, up, _, _ = face_axes(pts)
    reach = float(np.linalg.norm(brows.mean(axis=0) - pts[8]))
    return np.vstack([pts, brows + float(amount) * reach * up])


def draw_forehead(rng: np.random.Generator) -> float:
    """SBI's random forehead extension for :func:`forehead_points`: 0 with probability 1/2,
    otherwise ``Uniform(FOREHEAD)`` (one or two draws from ``rng``)."""
    return float(rng.uniform(*FOREHEAD)) if rng.random() < 0.5 else 0.0


def face_hull_mask(shape: tuple[int, ...], landmarks, *, forehead: float = 0.0, **outline) -> np.ndarray:
    """Binary ``(H, W)`` uint8 mask of a convex face hull.

    Five landmarks: the hull of :func:`face_outline_points` (``outline`` are its options).
    68 landmarks: SBI's mask, the hull of all 68 points, extended over the forehead by
    ``forehead`` (a fraction of the brow-to-chin distance, :func:`forehead_points`); the
    image clips it. ``forehead`` needs 68 points and ``outline`` five (``ValueError`` otherwise).
    """
    pts = as_landmarks(landmarks, shape, allow68=True)
    if len(pts) == 68:
        if outline:
            raise ValueError(f"outline options {sorted(outline)} apply to five landmarks, not 68")
        region = forehead_points(pts, forehead)
    else:
        if forehead:
            raise ValueError("forehead applies to 68 landmarks; five extend by the outline options")
        region = face_outline_points(pts, **outline)
    hull = cv2.convexHull(np.round(region * 16).astype(np.int32))
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    return mask


def face_ellipse_mask(shape: tuple[int, ...], landmarks, *, height: float = 1.1, width: float = 0.95) -> np.ndarray:
    """Binary ``(H, W)`` uint8 mask of an ellipse fitted to the (five) landmarks.

    Centre ``c_mouth + 0.4·d·u`` (between brows and chin), semi-axes ``height·d`` along ``u``
    and ``width·iod`` along ``r``, rotated with the eye line (notation of :func:`face_outline_points`).
    """
    pts = as_landmarks(landmarks, shape, allow68=True)
    _, mouth_c, r, u, iod, d = face_axes(pts)
    center = mouth_c + 0.4 * d * u
    angle = float(np.degrees(np.arctan2(r[1], r[0])))
    mask = np.zeros(shape[:2], np.uint8)
    cv2.ellipse(
        mask,
        (int(round(center[0] * 16)), int(round(center[1] * 16))),
        (max(1, int(round(width * iod * 16))), max(1, int(round(height * d * 16)))),
        angle,
        0,
        360,
        1,
        thickness=-1,
        lineType=cv2.LINE_8,
        shift=4,
    )
    return mask


def elastic_deform(mask: np.ndarray, rng: np.random.Generator, *, amplitude: float, smoothness: float) -> np.ndarray:
    """Warp a binary mask by a smooth random displacement field.

    ``D = amplitude · G_σ * U / max|G_σ * U|`` with ``U ~ Uniform(-1, 1)^{H×W×2}`` and ``G_σ`` a
    Gaussian of standard deviation ``smoothness`` pixels; the output is ``mask(x + D(x))``
    (nearest neighbour), so it stays binary. Shapes: ``(H, W) -> (H, W)`` uint8.
    """
    h, w = mask.shape
    field = rng.uniform(-1.0, 1.0, size=(2, h, w)).astype(np.float32)
    for k in range(2):
        field[k] = cv2.GaussianBlur(field[k], (0, 0), max(float(smoothness), 0.5))
        field[k] *= amplitude / max(float(np.abs(field[k]).max()), 1e-6)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(
        mask.astype(np.uint8),
        xs + field[0],
        ys + field[1],
        cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def erode_or_dilate(mask: np.ndarray, radius: int, *, dilate: bool) -> np.ndarray:
    """Erode (or dilate) a binary mask by a disc of ``radius`` pixels (OpenCV's elliptic
    ``(2·radius + 1)²`` structuring element); ``radius = 0`` returns it unchanged."""
    if radius <= 0:
        return mask.copy()
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    op = cv2.dilate if dilate else cv2.erode
    return op(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)


def soften(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Soft mask ``G_σ * mask`` (Gaussian blur, standard deviation ``sigma`` pixels), float32 in ``[0, 1]``.

    The kernel is cut at ``4σ`` along each axis, so pixels more than ``4σ`` from the mask in
    chessboard distance stay exactly 0.
    """
    m = mask.astype(np.float32)
    if sigma <= 0:
        return m
    out = cv2.GaussianBlur(m, (0, 0), float(sigma), borderType=cv2.BORDER_CONSTANT)
    return np.clip(out, 0.0, 1.0)


def random_face_mask(
    shape: tuple[int, ...],
    landmarks,
    rng: np.random.Generator,
    *,
    kind: str | None = None,
    deform: float = 0.08,
    morph: float = 0.12,
    blur: tuple[float, float] = (0.04, 0.12),
) -> np.ndarray:
    """A randomised soft face mask, float32 ``(H, W)`` in ``[0, 1]``.

    ``kind`` is ``"hull"`` or ``"ellipse"`` (random when ``None``); the base mask is made random
    by :func:`randomise_mask` with ``s`` = :func:`face_scale`. With 68 landmarks the hull is
    SBI's, extended over the forehead as :func:`draw_forehead` draws.
    """
    pts = as_landmarks(landmarks, shape, allow68=True)
    if kind is None:
        kind = ("hull", "ellipse")[int(rng.integers(2))]
    if kind == "hull":
        base = face_hull_mask(shape, pts, forehead=draw_forehead(rng) if len(pts) == 68 else 0.0)
    elif kind == "ellipse":
        base = face_ellipse_mask(shape, pts)
    else:
        raise ValueError(f"kind must be 'hull' or 'ellipse', got {kind!r}")
    return randomise_mask(base, face_scale(pts), rng, deform=deform, morph=morph, blur=blur)


def randomise_mask(
    base: np.ndarray,
    scale: float,
    rng: np.random.Generator,
    *,
    deform: float = 0.08,
    morph: float = 0.12,
    blur: tuple[float, float] = (0.04, 0.12),
) -> np.ndarray:
    """A binary mask made random and soft, float32 ``(H, W)`` in ``[0, 1]``.

    With ``s = scale`` (a length in pixels that grows with the face or part): the outline is
    deformed by up to ``deform·s`` pixels (:func:`elastic_deform`, smoothness ``0.25·s``),
    eroded or dilated by a radius drawn from ``0..morph·s`` (:func:`erode_or_dilate`), then
    blurred with ``σ ~ Uniform(blur)·s`` (:func:`soften`). A step that would empty the mask is
    skipped.
    """
    mask = base
    if deform > 0:
        warped = elastic_deform(base, rng, amplitude=deform * scale, smoothness=0.25 * scale)
        mask = warped if warped.any() else base
    radius = int(rng.integers(0, int(morph * scale) + 1)) if morph > 0 else 0
    dilate = bool(rng.integers(2))
    changed = erode_or_dilate(mask, radius, dilate=dilate)
    mask = changed if changed.any() else mask
    return soften(mask, float(rng.uniform(*blur)) * scale)


def random_part_mask(
    shape: tuple[int, ...],
    landmarks,
    part: str,
    rng: np.random.Generator,
    *,
    deform: float = 0.08,
    morph: float = 0.12,
    blur: tuple[float, float] = (0.04, 0.12),
) -> np.ndarray:
    """A randomised soft mask of one face part from dlib's 68 landmarks, float32 ``(H, W)``.

    The part's region is :func:`acglab.faces.parts.part_mask` (eyes, brows, nose, mouth, jaw,
    skin or the whole face with the forehead); it is made random by :func:`randomise_mask` with
    sizes relative to the part: ``s = max(iod, extent)`` for the whole face (``iod`` the
    inter-ocular distance) and the part's own extent (longer side of its box) otherwise, so an
    eye's mask is deformed by a fraction of the eye, not of the face. ``PartError`` for an
    unknown part or landmarks that are not ``(68, 2)``.
    """
    base = part_mask(shape, as_points68(landmarks), part)
    return randomise_mask(base, part_scale(base, landmarks, part), rng, deform=deform, morph=morph, blur=blur)


def part_scale(mask: np.ndarray, landmarks, part: str) -> float:
    """The length that sizes a part's random mask: the longer side of the box of its binary
    ``mask``, at least the inter-ocular distance for ``face`` and ``skin``, at least 1 pixel."""
    x0, y0, x1, y1 = mask_bbox(mask)
    extent = float(max(x1 - x0, y1 - y0))
    return max(inter_ocular(landmarks), extent, 1.0) if part in ("face", "skin") else max(extent, 1.0)
