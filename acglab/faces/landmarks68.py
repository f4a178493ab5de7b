"""dlib's 68-point face landmarks (Kazemi & Sullivan, 2014, trained on iBUG 300-W).

The predictor is an ensemble of regression trees that moves a mean face shape onto the face
inside a box; its model file ``shape_predictor_68_face_landmarks.dat`` ships inside the
registry package ``face-recognition-models`` and runs on ``dlib`` (``dlib-bin``), so no download
is needed: ``pip install dlib-bin face-recognition-models`` (or ``pip install 'acglab[weights]'``).
The predictor and dlib's HOG face detector are loaded once, on first use, and cached.

Conventions
-----------
- Images are ``(H, W, 3)`` uint8 RGB arrays, as in :mod:`acglab.faces.detect`.
- Points are a ``(68, 2)`` float32 array of ``(x, y)`` pixel rows in the iBUG 300-W order:
  jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67. Indices 36-41 are the eye on the
  image-left side (the subject's right eye), 42-47 the one on the image-right side.
- :func:`five_from_68` reduces them to the five landmarks of MTCNN (:data:`~acglab.faces.detect.LANDMARK_NAMES`:
  left eye, right eye, nose tip, mouth left corner, mouth right corner), so everything built on
  five points (:func:`acglab.synth.masks.face_scale`, alignment) works from 68 as well.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from acglab.errors import LandmarkModelError
from acglab.faces.detect import as_rgb_array

#: the model file inside the ``face_recognition_models`` package
PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"
#: how to install what the predictor needs (pip names)
INSTALL = "pip install dlib-bin face-recognition-models (or pip install 'acglab[weights]')"
#: times dlib's HOG detector upsamples the image (1: finds faces down to about 40 pixels)
UPSAMPLE = 1

#: index ranges of the iBUG 300-W 68-point scheme
JAW = range(0, 17)
BROWS = range(17, 27)
NOSE = range(27, 36)
LEFT_EYE = range(36, 42)  # image-left (the subject's right eye)
RIGHT_EYE = range(42, 48)  # image-right
MOUTH = range(48, 68)
NOSE_TIP, MOUTH_LEFT, MOUTH_RIGHT, CHIN = 30, 48, 54, 8


def _dlib():
    """The ``dlib`` module; :class:`LandmarkModelError` naming the pip packages when missing."""
    try:
        import dlib
    except ImportError:
        raise LandmarkModelError(f"68-point face landmarks need dlib, which is not installed: {INSTALL}") from None
    return dlib


def predictor_path() -> Path:
    """The path of ``shape_predictor_68_face_landmarks.dat`` inside ``face_recognition_models``.

    The package is located without importing it (its ``__init__`` needs ``pkg_resources``,
    which recent setuptools no longer ship). Raises :class:`LandmarkModelError` naming the pip
    packages when it is not installed, or when it holds no model file.
    """
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise LandmarkModelError(
            f"68-point face landmarks need the package face-recognition-models, which is not installed: {INSTALL}"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "models" / PREDICTOR_FILE
        if path.is_file():
            return path
    raise LandmarkModelError(
        f"package face-recognition-models holds no models/{PREDICTOR_FILE}; reinstall it: {INSTALL}"
    )


@functools.lru_cache(maxsize=1)
def predictor():
    """The cached ``dlib.shape_predictor`` of the 68-point model (loaded on first call).

    Raises :class:`LandmarkModelError` (one line naming the pip packages) when ``dlib`` or
    ``face_recognition_models`` is missing or the model file cannot be read.
    """
    dlib = _dlib()
    path = predictor_path()
    try:
        return dlib.shape_predictor(str(path))
    except RuntimeError as err:  # truncated or corrupt file
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise LandmarkModelError(f"cannot load {path}: {reason}; reinstall it: {INSTALL}") from None


@functools.lru_cache(maxsize=1)
def face_detector():
    """dlib's cached HOG + linear SVM frontal face detector (Dalal & Triggs features)."""
    return _dlib().get_frontal_face_detector()


def _as_box(box) -> tuple[float, float, float, float]:
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ValueError(f"box must be four numbers (x0, y0, x1, y1), got {box!r}") from None
    if not np.isfinite([x0, y0, x1, y1]).all() or x1 <= x0 or y1 <= y0:
        raise ValueError(f"box must be finite with x0 < x1 and y0 < y1, got {(x0, y0, x1, y1)}")
    return x0, y0, x1, y1


def detect_box(image) -> tuple[float, float, float, float] | None:
    """``(x0, y0, x1, y1)`` of the largest face dlib's HOG detector finds (upsampling the image
    :data:`UPSAMPLE` times; ties go to the higher score), or ``None`` when it finds none."""
    arr = as_rgb_array(image)
    rects, scores, _ = face_detector().run(arr, UPSAMPLE)
    if len(rects) == 0:
        return None
    best = max(range(len(rects)), key=lambda k: (rects[k].width() * rects[k].height(), scores[k]))
    r = rects[best]
    # dlib's rectangles are inclusive: right = left + width - 1
    return float(r.left()), float(r.top()), float(r.right() + 1), float(r.bottom() + 1)


def landmarks68(image, box=None, *, clip: bool = True) -> np.ndarray:
    """The 68 landmarks of the face in ``box`` of ``image``, ``(68, 2)`` float32 ``(x, y)`` rows.

    Parameters
    ----------
    image : array-like, shape (H, W, 3) uint8 RGB (or (H, W) gray)
    box : four numbers ``(x0, y0, x1, y1)`` in pixels, or ``None``
        The face box (e.g. :attr:`acglab.faces.Face.box` from MTCNN). When ``None``, dlib's HOG
        detector looks for faces (:func:`detect_box`) and the largest one is used; when it finds
        none, the whole image is the box, which suits face crops whose face fills the image.
        The predictor always returns 68 points, so check the input is a face when that matters.
    clip : bool
        Move points the predictor places beyond the image border (the jaw in a tight crop) onto
        it, so every point lies inside the image (``0 <= x <= W - 1``, same for ``y``).

    Raises
    ------
    ImageError
        For an image that is not ``(H, W, 3)`` uint8 (or ``(H, W)`` gray).
    ValueError
        For a box that is not four finite numbers with ``x0 < x1`` and ``y0 < y1``.
    LandmarkModelError
        When ``dlib`` or ``face_recognition_models`` is not installed.
    """
    arr = as_rgb_array(image)
    model = predictor()
    h, w = arr.shape[:2]
    if box is None:
        box = detect_box(arr)
        if box is None:
            box = (0.0, 0.0, float(w), float(h))
    x0, y0, x1, y1 = _as_box(box)
    left, top = int(round(x0)), int(round(y0))
    right, bottom = max(int(round(x1)) - 1, left), max(int(round(y1)) - 1, top)
    shape = model(arr, _dlib().rectangle(left, top, right, bottom))
    points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32).reshape(68, 2)
    if clip:
        np.clip(points[:, 0], 0, w - 1, out=points[:, 0])
        np.clip(points[:, 1], 0, h - 1, out=points[:, 1])
    return points


def five_from_68(points68) -> np.ndarray:
    """The five MTCNN-order landmarks of 68 points, ``(5, 2)`` float32.

    Left eye = mean of points 36-41, right eye = mean of 42-47, nose tip = 30, mouth left = 48,
    mouth right = 54 (order of :data:`acglab.faces.LANDMARK_NAMES`; "left" is the image-left
    side of an upright face). Raises ``ValueError`` unless ``points68`` has shape ``(68, 2)``.
    """
    pts = np.asarray(points68, dtype=np.float64)
    if pts.shape != (68, 2):
        raise ValueError(f"expected (68, 2) landmarks, got shape {pts.shape}")
    five = np.stack(
        [
            pts[LEFT_EYE.start : LEFT_EYE.stop].mean(axis=0),
            pts[RIGHT_EYE.start : RIGHT_EYE.stop].mean(axis=0),
            pts[NOSE_TIP],
            pts[MOUTH_LEFT],
            pts[MOUTH_RIGHT],
        ]
    )
    return five.astype(np.float32)
