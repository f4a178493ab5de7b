"""Face detection with MTCNN (Zhang et al., 2016), whose weights ship inside ``facenet-pytorch``.

MTCNN is a cascade of three small networks (P-Net proposes windows on an image pyramid, R-Net
refines them, O-Net scores them and places five landmarks). Its weights are part of the
installed wheel, so detection needs no download. The cascade runs in torch alone
(:mod:`acglab.faces.mtcnn`: the boxes of ``facenet_pytorch.MTCNN`` without importing
torchvision). The detector is built once per ``(device, min_face_size, thresholds)`` on first
use and cached.

Conventions
-----------
- Images are ``(H, W, 3)`` uint8 RGB arrays (as returned by :func:`acglab.data.images.load_image`).
- A :class:`Face` box is ``(x0, y0, x1, y1)`` in pixels, floats, ``x`` to the right and ``y`` down.
- Landmarks are a ``(5, 2)`` float32 array of ``(x, y)`` rows in the order
  :data:`LANDMARK_NAMES`: left eye, right eye, nose tip, mouth left corner, mouth right corner,
  where "left" is the side with the smaller ``x`` in the image.
- :func:`detect_faces` returns every face found, best score first, and an empty list when there
  is none; :func:`find_face` returns one face and raises :class:`NoFaceError` when there is none.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from acglab.errors import AcglabError, ImageError, NoFaceError

LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

#: smallest face side (pixels) MTCNN looks for; its image pyramid starts at 12 / min_face_size
DEFAULT_MIN_FACE_SIZE = 20
#: smallest face side searched for in video frames of face-forgery datasets (faces are large
#: there); about four times faster than 20 and the same faces on the 397 celebdf-mini frames
FRAME_MIN_FACE_SIZE = 40
#: MTCNN's per-stage score thresholds (P-Net, R-Net, O-Net), as published
DEFAULT_THRESHOLDS = (0.6, 0.7, 0.7)
#: MTCNN needs at least one 12 x 12 window
_MIN_IMAGE_SIDE = 12


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face.

    Attributes
    ----------
    box : tuple of 4 float
        ``(x0, y0, x1, y1)`` in pixels of the image it was found in.
    score : float
        The detector's face probability in ``[0, 1]``.
    landmarks : np.ndarray, shape (5, 2), float32
        ``(x, y)`` of left eye, right eye, nose, mouth left, mouth right.
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray = field(repr=False)

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)


def as_rgb_array(image) -> np.ndarray:
    """``image`` as a contiguous ``(H, W, 3)`` uint8 array; ``(H, W)`` gray is replicated.

    Raises :class:`ImageError` for any other shape or dtype.
    """
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ImageError(
            f"expected an (H, W, 3) uint8 RGB image, got shape {arr.shape} dtype {arr.dtype}; "
            "load it with acglab.data.images.load_image"
        )
    return np.ascontiguousarray(arr)


@functools.lru_cache(maxsize=4)
def detector(
    device: str = "cpu",
    min_face_size: int = DEFAULT_MIN_FACE_SIZE,
    thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS,
):
    """The cached MTCNN detector for these settings (built on first call, in eval mode).

    Raises :class:`AcglabError` for a device name torch does not know or cannot use here.
    """
    import torch

    from acglab.faces.mtcnn import MTCNN

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise AcglabError(f"unknown torch device {device!r}; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise AcglabError(f"device {device!r} asked for but no CUDA GPU is available; use --device cpu")
    return MTCNN(min_face_size=int(min_face_size), thresholds=tuple(thresholds), device=dev)


def detect_faces(
    image,
    *,
    device: str = "cpu",
    min_face_size: int = DEFAULT_MIN_FACE_SIZE,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_score: float = 0.0,
) -> list[Face]:
    """All faces in ``image``, best score first (empty list when none).

    Parameters
    ----------
    image : array-like, shape (H, W, 3) uint8 RGB (or (H, W) gray)
    device : str
        Torch device of the detector, ``"cpu"`` by default (``"cuda"`` when available).
    min_face_size : int
        Smallest face side in pixels that is searched for; larger values are faster.
    thresholds : three floats
        MTCNN's P-Net, R-Net and O-Net score thresholds.
    min_score : float
        Faces whose final score is below it are dropped.

    Returns
    -------
    list of Face
        Sorted by ``score``, descending; ties keep the larger face first.
    """
    arr = as_rgb_array(image)
    if min(arr.shape[:2]) < max(_MIN_IMAGE_SIDE, int(min_face_size)):
        return []  # no face of at least min_face_size fits (MTCNN's pyramid would be empty)
    model = detector(str(device), int(min_face_size), tuple(float(t) for t in thresholds))
    boxes, probs, points = model.detect(arr)
    faces = [
        Face(
            box=tuple(float(v) for v in box[:4]),
            score=float(prob),
            landmarks=np.asarray(pts, dtype=np.float32).reshape(5, 2),
        )
        for box, prob, pts in zip(boxes, probs, points)
        if float(prob) >= min_score
    ]
    faces.sort(key=lambda f: (-f.score, -f.area))
    return faces


def best_face(faces: Sequence[Face]) -> Face:
    """The face with the highest score; raises :class:`NoFaceError` for an empty list."""
    if not faces:
        raise NoFaceError("no face found")
    return max(faces, key=lambda f: (f.score, f.area))


def largest_face(faces: Sequence[Face]) -> Face:
    """The face with the largest box area; raises :class:`NoFaceError` for an empty list."""
    if not faces:
        raise NoFaceError("no face found")
    return max(faces, key=lambda f: (f.area, f.score))


#: how :func:`find_face` picks one face among several
CHOOSERS: dict[str, Callable[[Sequence[Face]], Face]] = {"best": best_face, "largest": largest_face}


def find_face(image, *, choose: str = "best", what: str = "image", **detect_options) -> Face:
    """The one face of ``image``: the best-scoring (``choose="best"``) or largest one.

    ``what`` names the image in the error message. Raises :class:`NoFaceError` when the
    detector finds no face. ``detect_options`` go to :func:`detect_faces`.
    """
    if choose not in CHOOSERS:
        raise ValueError(f"choose must be one of {sorted(CHOOSERS)}, got {choose!r}")
    faces = detect_faces(image, **detect_options)
    if not faces:
        raise NoFaceError(f"no face found in {what}; give an image showing a face")
    return CHOOSERS[choose](faces)
