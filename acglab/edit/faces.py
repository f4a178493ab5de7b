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
        raise ImageError(
            f"the face in {what} is {side:.0f} px wide; landmarks need at least {MIN_FACE_SIDE} px (use a larger image)"
        )
    return LocatedFace(landmarks68(image, face.box).astype(np.float64), tuple(float(v) for v in face.box), len(faces))


def sample_faces(root, n: int = 4, seed: int = 0, real_only: bool = True) -> list[tuple[str, np.ndarray, LocatedFace]]:
    """``n`` photos of a dataset with their located faces, for demonstrations: the full frames
    under ``root/frames`` when the dataset has them (celebdf-mini does), else its face images;
    real videos only unless ``real_only`` is False; drawn in a seeded order, skipping images
    where no usable face is found."""
    from pathlib import Path

    from acglab.data.images import load_image
    from acglab.data.layouts import load_dataset
    from acglab.errors import AcglabError

    root = Path(root)
    frames = root / "frames"
    if frames.is_dir():
        paths = sorted(p for p in frames.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if real_only:
            paths = [p for p in paths if "real" in p.parent.name.lower()]
    else:
        paths = sorted(str(s.path) for s in load_dataset(root) if s.is_real or not real_only)
        paths = [Path(p) for p in paths if Path(p).suffix.lower() in (".jpg", ".jpeg", ".png")]
    order = np.random.default_rng(seed).permutation(len(paths))
    found = []
    for i in order:
        image = load_image(paths[i])
        try:
            found.append((str(paths[i]), image, locate_face(image, str(paths[i]))))
        except AcglabError:
            continue
        if len(found) == n:
            break
    if not found:
        raise NoFaceError(f"no usable face found among {len(paths)} images of {root}")
    return found
