"""Face parts from dlib's 68 landmarks: the regions semantic editing works on.

The iBUG 300-W scheme (:mod:`acglab.faces.landmarks68`) outlines the jaw (0-16), the brows
(17-26), the nose (27-35), the eyes (36-47) and the mouth (48-67). A part's region is the
convex hull of its points grown about its centre (``GROWTH``: an eye's six points trace the
lid margin, so the region grows to hold the lids and lashes), except:

- *brows*: their five points run along the brow's middle line; the region is that line
  thickened by a quarter of the inter-ocular distance;
- *nose*: the hull of the bridge (27-30) and the base (31-35), widened to the alae;
- *jaw*: the band between the jaw line and the line through the nose base and mouth corners
  (the lower face: chin, jaw and cheeks below the mouth line);
- *skin*: the face hull (all 68 points and the forehead above the brows) minus eyes, brows
  and mouth;
- *face*: the whole face hull with the forehead.

Sizes are relative to the inter-ocular distance ``iod`` (distance between the eye centres),
so a region means the same on a 64-pixel crop and on a full HD frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from acglab.errors import PartError
from acglab.faces.landmarks68 import BROWS, JAW, LEFT_EYE, MOUTH, NOSE, RIGHT_EYE

#: the parts, in the order menus list them
PARTS = ("left_eye", "right_eye", "eyes", "left_brow", "right_brow", "brows", "nose", "mouth", "jaw", "skin", "face")
LEFT_BROW, RIGHT_BROW = range(17, 22), range(22, 27)
#: growth of a part's hull about its centre
GROWTH = {"eye": 1.8, "nose": 1.25, "mouth": 1.25}
#: brow thickness and forehead height, in inter-ocular distances
BROW_HALF_THICKNESS = 0.13
FOREHEAD = 0.55


def check_part(part: str) -> str:
    """``part`` if it is one of :data:`PARTS`, else :class:`PartError` listing them."""
    if part not in PARTS:
        raise PartError(f"unknown face part {part!r}; choose one of {', '.join(PARTS)}")
    return part


def as_points68(landmarks) -> np.ndarray:
    """``(68, 2)`` float64 landmarks, or :class:`PartError`."""
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (68, 2) or not np.isfinite(pts).all():
        raise PartError(f"face parts need 68 finite landmarks (68, 2), got shape {pts.shape}")
    return pts


def inter_ocular(landmarks) -> float:
    """Distance between the two eye centres (means of points 36-41 and 42-47)."""
    pts = as_points68(landmarks)
    return float(np.linalg.norm(pts[list(LEFT_EYE)].mean(0) - pts[list(RIGHT_EYE)].mean(0)))


def _grown(points: np.ndarray, factor: float) -> np.ndarray:
    centre = points.mean(0)
    return centre + factor * (points - centre)


def _thick_line(points: np.ndarray, half: float) -> np.ndarray:
    """A polygon around a polyline: the points shifted by ``half`` along the local normal on both sides."""
    d = np.gradient(points, axis=0)
    n = np.stack([-d[:, 1], d[:, 0]], 1)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)
    return np.vstack([points + half * n, (points - half * n)[::-1]])


def forehead_polygon(pts: np.ndarray) -> np.ndarray:
    """The face outline with the forehead: jaw points, then the brows lifted by ``FOREHEAD`` iod."""
    iod = inter_ocular(pts)
    eye_line = pts[list(RIGHT_EYE)].mean(0) - pts[list(LEFT_EYE)].mean(0)
    normal = np.array([eye_line[1], -eye_line[0]]) / max(np.linalg.norm(eye_line), 1e-9)  # points up the face
    if normal @ (pts[27] - pts[8]) < 0:
        normal = -normal
    top = pts[list(range(17, 27))] + FOREHEAD * iod * normal
    return np.vstack([pts[list(JAW)], top[::-1]])


def part_polygons(landmarks, part: str) -> list[np.ndarray]:
    """The polygon(s) ``(K, 2)`` of a part in image coordinates (module notes)."""
    pts = as_points68(landmarks)
    check_part(part)
    iod = inter_ocular(pts)
    if part in ("left_eye", "right_eye"):
        idx = LEFT_EYE if part == "left_eye" else RIGHT_EYE
        return [_grown(pts[list(idx)], GROWTH["eye"])]
    if part in ("left_brow", "right_brow"):
        idx = LEFT_BROW if part == "left_brow" else RIGHT_BROW
        return [_thick_line(pts[list(idx)], BROW_HALF_THICKNESS * iod)]
    if part == "nose":
        return [_grown(pts[list(NOSE)], GROWTH["nose"])]
    if part == "mouth":
        return [_grown(pts[list(range(48, 60))], GROWTH["mouth"])]
    if part == "eyes":
        return part_polygons(pts, "left_eye") + part_polygons(pts, "right_eye")
    if part == "brows":
        return part_polygons(pts, "left_brow") + part_polygons(pts, "right_brow")
    if part == "jaw":
        upper = np.vstack([pts[[16]], pts[[54]], pts[[33]], pts[[48]], pts[[0]]])
        return [np.vstack([pts[list(JAW)], upper[1:-1]])]
    return [forehead_polygon(pts)]  # skin and face share the outline


def _fill(shape, polygons, convex: bool) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    for poly in polygons:
        p = np.round(poly * 16).astype(np.int32)
        if convex:
            cv2.fillConvexPoly(mask, cv2.convexHull(p), 1, lineType=cv2.LINE_8, shift=4)
        else:
            cv2.fillPoly(mask, [p], 1, lineType=cv2.LINE_8, shift=4)
    return mask


def part_mask(shape, landmarks, part: str) -> np.ndarray:
    """Binary ``(H, W)`` uint8 mask of ``part`` in an image of ``shape`` (module notes)."""
    check_part(part)
    if part == "skin":
        face = part_mask(shape, landmarks, "face")
        holes = (
            part_mask(shape, landmarks, "eyes")
            | part_mask(shape, landmarks, "brows")
            | part_mask(shape, landmarks, "mouth")
        )
        return (face & (1 - holes)).astype(np.uint8)
    convex = part not in ("left_brow", "right_brow", "brows", "jaw")
    return _fill(shape, part_polygons(landmarks, part), convex)


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of the non-zero pixels (exclusive ends); PartError when empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        raise PartError("the part's region is empty (is the face inside the image?)")
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def part_points(landmarks, part: str) -> np.ndarray:
    """The landmarks that belong to ``part`` (its anchor points for alignment)."""
    pts = as_points68(landmarks)
    check_part(part)
    index = {
        "left_eye": LEFT_EYE,
        "right_eye": RIGHT_EYE,
        "eyes": range(36, 48),
        "left_brow": LEFT_BROW,
        "right_brow": RIGHT_BROW,
        "brows": BROWS,
        "nose": NOSE,
        "mouth": MOUTH,
        "jaw": JAW,
    }.get(part, range(68))
    return pts[list(index)]
