"""Cropping a detected face with a margin, framed like the published Celeb-DF v2 face crops.

Margin convention
-----------------
``margin`` is the fraction of the face box's width (height) added on each side. For a box
``(x0, y0, x1, y1)`` of width ``w = x1 - x0`` and height ``h = y1 - y0`` and margins
``(l, t, r, b)`` the crop is

.. math::

    [\\lfloor x_0 - l w \\rfloor,\\ \\lfloor x_1 + r w \\rfloor) \\times
    [\\lfloor y_0 - t h \\rfloor,\\ \\lfloor y_1 + b h \\rfloor)

clipped to the image (half-open pixel ranges, so the crop is ``x1' - x0'`` pixels wide).
``margin`` may be one number (all sides), a pair ``(horizontal, vertical)`` or four numbers
``(left, top, right, bottom)``.

The thesis companion code (``preprocess/extract_faces.py`` of ``j2kevin18/ACG``) enlarges a
RetinaFace box by 1.3 about its centre, i.e. a margin of 0.15 on every side, truncates to
integers and clips to the image. MTCNN boxes are about 3 % shorter than RetinaFace boxes, so
:data:`DEFAULT_MARGIN` ``= (0.15, 0.17)`` reproduces that framing on MTCNN boxes: on the 397
full frames of ``celebdf-mini`` the published crop spans a median 1.30 x the MTCNN box width and
1.34 x its height (see :mod:`acglab.faces.agreement`). Published crops are not resized
(``size=None``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from acglab.errors import ImageError
from acglab.faces.detect import Face, as_rgb_array

#: (horizontal, vertical) margin that matches the published Celeb-DF v2 crops on MTCNN boxes
DEFAULT_MARGIN = (0.15, 0.17)


def side_margins(margin) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` from a number, an ``(x, y)`` pair or four numbers."""
    if isinstance(margin, (int, float)):
        values = (float(margin),) * 4
    else:
        m = [float(v) for v in margin]
        if len(m) == 2:
            values = (m[0], m[1], m[0], m[1])
        elif len(m) == 4:
            values = tuple(m)
        else:
            raise ValueError(f"margin must be one, two or four numbers, got {margin!r}")
    if any(not math.isfinite(v) or v < -0.45 for v in values):
        raise ValueError(f"margins must be finite and >= -0.45, got {margin!r}")
    return values  # type: ignore[return-value]


def crop_box(box: Sequence[float], image_shape: Sequence[int], margin=DEFAULT_MARGIN) -> tuple[int, int, int, int]:
    """The integer crop ``(x0, y0, x1, y1)`` (half-open) of a face box with ``margin``, clipped.

    Parameters
    ----------
    box : four floats ``(x0, y0, x1, y1)``
    image_shape : ``(H, W, ...)`` of the image the box belongs to
    margin : see the module docstring

    Raises :class:`ImageError` when the enlarged box lies outside the image.
    """
    left, top, right, bottom = side_margins(margin)
    x0, y0, x1, y1 = (float(v) for v in box)
    w, h = x1 - x0, y1 - y0
    height, width = int(image_shape[0]), int(image_shape[1])
    cx0 = max(0, math.floor(x0 - left * w))
    cy0 = max(0, math.floor(y0 - top * h))
    cx1 = min(width, math.floor(x1 + right * w))
    cy1 = min(height, math.floor(y1 + bottom * h))
    if cx1 <= cx0 or cy1 <= cy0:
        raise ImageError(f"face box {tuple(round(v, 1) for v in box)} lies outside the {width}x{height} image")
    return cx0, cy0, cx1, cy1


def resize_image(image: np.ndarray, size) -> np.ndarray:
    """``image`` resized to ``size`` (an int for a square, or ``(width, height)``).

    Area averaging when shrinking, bilinear when enlarging; the aspect ratio is not kept.
    """
    w, h = (int(size), int(size)) if isinstance(size, (int, np.integer)) else (int(size[0]), int(size[1]))
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    shrinking = w * h < image.shape[0] * image.shape[1]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def crop_face(image, face, margin=DEFAULT_MARGIN, size=None) -> np.ndarray:
    """The face region of ``image`` with ``margin`` around it (see the module docstring).

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB array
    face : :class:`Face` or a box ``(x0, y0, x1, y1)``
    margin : number, ``(horizontal, vertical)`` or ``(left, top, right, bottom)``
    size : None, int or ``(width, height)``
        ``None`` keeps the native resolution (as the published crops do); otherwise the crop
        is resized to it.

    Returns
    -------
    np.ndarray, shape (h, w, 3) uint8
        A copy (not a view) of the crop.
    """
    arr = as_rgb_array(image)
    box = face.box if isinstance(face, Face) else face
    x0, y0, x1, y1 = crop_box(box, arr.shape, margin)
    out = arr[y0:y1, x0:x1].copy()
    return out if size is None else resize_image(out, size)
