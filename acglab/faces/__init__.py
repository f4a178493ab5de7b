"""Faces: detection (MTCNN, weights inside ``facenet-pytorch``), cropping with a margin,
agreement with published crops, dlib's 68 landmarks (:mod:`~acglab.faces.landmarks68`) and the
face parts they outline (:mod:`~acglab.faces.parts`).

``detect_faces(image)`` returns every :class:`Face` (box, score, five landmarks), best first;
``find_face(image)`` returns one and raises :class:`acglab.errors.NoFaceError` when there is none;
``crop_face(image, face)`` cuts the face out with the Celeb-DF v2 framing.
"""

from acglab.faces.crop import DEFAULT_MARGIN, crop_box, crop_face, side_margins
from acglab.faces.detect import (
    DEFAULT_MIN_FACE_SIZE,
    FRAME_MIN_FACE_SIZE,
    LANDMARK_NAMES,
    Face,
    best_face,
    detect_faces,
    detector,
    find_face,
    largest_face,
)

__all__ = [
    "DEFAULT_MARGIN",
    "DEFAULT_MIN_FACE_SIZE",
    "FRAME_MIN_FACE_SIZE",
    "LANDMARK_NAMES",
    "Face",
    "best_face",
    "crop_box",
    "crop_face",
    "detect_faces",
    "detector",
    "find_face",
    "largest_face",
    "side_margins",
]
