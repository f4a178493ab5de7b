"""Finding the face to edit: MTCNN boxes (:mod:`acglab.faces.detect`), then dlib's 68 landmarks
(:mod:`acglab.faces.landmarks68`) inside the chosen box."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acglab.errors import ImageError, NoFaceError

#: smallest face box side (pixels) the 68-point predictor is asked to read
MIN_FACE_SIDE = 40


@dataclass
class LocatedFace:
    """The face an edit works on: ``landmarks`` (68, 2), its ``box`` (x0, y0, x1, y1), and how
    many faces the detector found (the largest one is used)."""

    landmarks: np.ndarray
    box: tuple[float, float, float, float]
    faces_found: int

    def describe(self, what: str) -> str:
        box = ", ".join(f"{v:.0f}" for v in self.box)
        extra = f" (the largest of {self.faces_found} faces)" if self.faces_found > 1 else ""
        return f"{what}: face at [{box}]{extra}"


def locate_face(image, what: str = "the image") -> LocatedFace:
    """The largest face of ``image`` with its 68 landmarks; :class:`NoFaceError` when there is
    none, :class:`ImageError` when it is too small for landmarks."""
    from acglab.faces.detect import detect_faces, largest_face
    from acglab.faces.landmarks68 import landmarks68

    faces = detect_faces(image)
    if not faces:
        raise NoFaceError(f"no face found in {what}; give an image showing a face")
    face = largest_face(faces)
    x0, y0, x1, y1 = face.box
    side = min(x1 - x0, y1 - y0)
    if side < MIN_FACE_SIDE:
        raise ImageError(f"the face in {what} is {side:.0f} px wide; landmarks need at least {MIN_FACE_SIDE} px "
                         "(use a larger image)")
    return LocatedFace(landmarks68(image, face.box).astype(np.float64), tuple(float(v) for v in face.box), len(faces))
