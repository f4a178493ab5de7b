"""Face landmarks of training images, for the self-blending augmentation.

:class:`acglab.synth.SelfBlendAugment` needs landmarks of each real face: five (eyes, nose,
mouth corners) or dlib's 68, whose convex hull is SBI's own blending mask. Five points: the
offline face set lists them in its manifest (:func:`acglab.data.layouts.offline.frame_landmarks`);
for any other dataset they are found once with MTCNN (:func:`acglab.faces.detect_faces`, the
best-scoring face). 68 points: MTCNN finds the face box and dlib's shape predictor places the
points in it (:func:`acglab.faces.landmarks68.landmarks68`; needs the ``weights`` extra). Both
are cached in ``cache_dir()/landmarks/<hash of the dataset folder>[-68].json``, keyed by image
path and checked against each file's size and modification time. Images where no face is found
map to nothing and stay real during training.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from acglab.data.layouts import offline
from acglab.data.samples import REAL, SampleTable
from acglab.errors import AcglabError, ImageError
from acglab.fileio import write_text_atomic
from acglab.paths import cache_dir
from acglab.train.presets import LANDMARK_POINTS

#: smallest face side searched for in face crops (the face fills most of the crop)
CROP_MIN_FACE_SIZE = 40
#: write the cache after this many newly detected images, so an interruption loses little
SAVE_EVERY = 200


def cache_file(root, points: int = 5) -> Path:
    """Where the ``points``-point landmarks of the images below ``root`` are cached."""
    key = hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "landmarks" / (f"{key}.json" if points == 5 else f"{key}-{points}.json")


def _fingerprint(path: str) -> list[int]:
    st = os.stat(path)
    return [int(st.st_size), int(st.st_mtime_ns)]


def _read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, entries: dict) -> None:
    write_text_atomic(path, json.dumps(entries))


def detect_landmarks(path: str) -> np.ndarray | None:
    """``(5, 2)`` float32 landmarks of the best face in the image at ``path``, or ``None``."""
    from acglab.data.images import load_image
    from acglab.faces import detect_faces

    image = load_image(path)
    # a face cannot be larger than the image; MTCNN needs its pyramid to start at the image size or below
    faces = detect_faces(image, min_face_size=min(CROP_MIN_FACE_SIZE, *image.shape[:2]))
    return faces[0].landmarks.astype(np.float32) if faces else None


def detect_landmarks68(path: str) -> np.ndarray | None:
    """``(68, 2)`` float32 landmarks of the best MTCNN face in the image at ``path`` (dlib's shape
    predictor in MTCNN's box), or ``None`` when MTCNN finds no face."""
    from acglab.data.images import load_image
    from acglab.faces import detect_faces
    from acglab.faces.landmarks68 import landmarks68

    image = load_image(path)
    faces = detect_faces(image, min_face_size=min(CROP_MIN_FACE_SIZE, *image.shape[:2]))
    return landmarks68(image, box=faces[0].box) if faces else None


def face_landmarks(
    table: SampleTable, root=None, progress: bool = True, detect=None, points: int = 5
) -> dict[str, np.ndarray]:
    """``{image path: (points, 2) float32 landmarks}`` of the real samples of ``table`` that show a face.

    Parameters
    ----------
    table : the samples (only real ones are looked at)
    root : the dataset folder (the offline set's manifest is read from it; the cache is keyed by it)
    progress : tqdm bar while detecting
    detect : ``path -> landmarks or None`` (default :func:`detect_landmarks` for 5 points,
        :func:`detect_landmarks68` for 68)
    points : 5 or 68 (module notes)
    """
    if points not in LANDMARK_POINTS:
        raise AcglabError(f"landmark points must be one of {', '.join(map(str, LANDMARK_POINTS))}, got {points!r}")
    if detect is None:
        detect = detect_landmarks if points == 5 else detect_landmarks68
    real = [s.path for s in table if s.label == REAL]
    if points == 5 and root is not None and offline.looks_like(Path(root)):
        listed = offline.frame_landmarks(Path(root))
        return {p: listed[p] for p in real if p in listed}
    store = cache_file(root if root is not None else os.path.commonpath(real) if real else ".", points)
    cached = _read_cache(store)
    found: dict[str, np.ndarray] = {}
    missing = []
    for p in real:
        entry = cached.get(p)
        if entry is not None and entry.get("file") == _fingerprint(p):
            if entry.get("landmarks") is not None:
                found[p] = np.asarray(entry["landmarks"], np.float32).reshape(points, 2)
        else:
            missing.append(p)
    for k, p in enumerate(tqdm(missing, desc="face landmarks", unit="image", disable=not progress or not missing), 1):
        try:
            lm = detect(p)
        except ImageError:
            lm = None
        cached[p] = {"file": _fingerprint(p), "landmarks": None if lm is None else np.round(lm, 2).tolist()}
        if lm is not None:
            found[p] = np.asarray(cached[p]["landmarks"], np.float32).reshape(points, 2)
        if k % SAVE_EVERY == 0:
            _write_cache(store, cached)
    if missing:
        _write_cache(store, cached)
    return found
