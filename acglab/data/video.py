"""Reading evenly spaced frames of a video with OpenCV.

Frame choice
------------
``n`` frames of a video with ``n_total`` frames are taken at

.. math::

    i_k = \\left\\lfloor \\frac{k \\, n_{total}}{n} \\right\\rfloor, \\qquad k = 0, \\dots, n - 1,

the starts of ``n`` equal segments: the first frame is always taken, the gap between taken
frames is ``n_total / n`` rounded down or up, and the indices are distinct whenever
``n <= n_total``. When ``n >= n_total`` every frame is taken once.

Frames are decoded sequentially (``grab`` up to each wanted index, ``retrieve`` it), which is
exact for every codec, unlike seeking with ``CAP_PROP_POS_FRAMES``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from acglab.errors import ImageError


def sample_frame_indices(n_total: int, n: int) -> list[int]:
    """``n`` evenly spaced frame indices of ``range(n_total)``: ``floor(k * n_total / n)``.

    Returns all of ``range(n_total)`` when ``n >= n_total`` and ``[]`` when either is 0.
    """
    n_total, n = int(n_total), int(n)
    if n_total < 0 or n < 0:
        raise ValueError(f"frame counts must be non-negative, got n_total={n_total}, n={n}")
    if n == 0 or n_total == 0:
        return []
    if n >= n_total:
        return list(range(n_total))
    return [k * n_total // n for k in range(n)]


def _open(video_path: Path) -> cv2.VideoCapture:
    if not video_path.exists():
        raise ImageError(f"video {video_path} does not exist")
    if not video_path.is_file():
        raise ImageError(f"{video_path} is not a file; expected a video file")
    if video_path.stat().st_size == 0:
        raise ImageError(f"video {video_path} is empty (0 bytes)")
    cap = cv2.VideoCapture(str(video_path))
    if not cap.isOpened():
        cap.release()
        raise ImageError(f"video {video_path} cannot be decoded (corrupt or unsupported codec)")
    return cap


def count_frames(video_path) -> int:
    """The number of frames of a video: the container's count, else counted by decoding."""
    path = Path(video_path)
    cap = _open(path)
    try:
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if n > 0:
            return n
        while cap.grab():
            n += 1
        return n
    finally:
        cap.release()


def read_frames(video_path, n: int) -> list[tuple[int, np.ndarray]]:
    """``n`` evenly spaced frames of a video as ``(frame index, (H, W, 3) uint8 RGB)`` pairs.

    The indices follow :func:`sample_frame_indices` on the container's frame count. A video
    that ends early yields the frames it has; one that yields no frame at all raises
    :class:`ImageError`, as does a missing, empty or undecodable file.
    """
    path = Path(video_path)
    if int(n) <= 0:
        raise ValueError(f"number of frames must be positive, got {n}")
    n_total = count_frames(path)
    wanted = sample_frame_indices(n_total, n)
    cap = _open(path)
    frames: list[tuple[int, np.ndarray]] = []
    try:
        position = 0  # index of the next frame grab() will decode
        for index in wanted:
            ok = True
            while position <= index and ok:
                ok = cap.grab()
                position += 1
            if not ok:
                break
            ok, bgr = cap.retrieve()
            if not ok or bgr is None or bgr.size == 0:
                break
            frames.append((index, np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))))
    finally:
        cap.release()
    if not frames:
        raise ImageError(f"video {path} has no decodable frames")
    return frames
