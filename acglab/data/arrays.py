"""Small image sets held in memory as arrays, for the latent models (:mod:`acglab.models.latent`).

:func:`load_image_array` reads either ``"digits"`` (the 1,797 8x8 handwritten digits that
scikit-learn ships, one grey channel, labelled by digit) or a face folder in any layout
:func:`acglab.data.load_dataset` reads (RGB crops resized to ``img_size``, labelled real/fake and
by target identity). Images are kept as uint8 (N, C, S, S); :meth:`ImageArray.batch` gives floats
in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from acglab.errors import DataLayoutError

DIGITS = "digits"
#: grey levels of scikit-learn's digits
_DIGIT_MAX = 16.0


@dataclass
class ImageArray:
    """Images and their labellings.

    images : uint8 (N, C, S, S)
    labels : ``{labelling: int64 (N,)}``, e.g. ``{"digit": ...}`` or ``{"real/fake": ..., "identity": ...}``
    names : ``{labelling: [name of each label value]}``
    ids : one string per image (file path or ``digit-<index>``)
    """

    images: np.ndarray
    labels: dict[str, np.ndarray]
    names: dict[str, list[str]] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    source: str = ""

    def __len__(self) -> int:
        return len(self.images)

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def side(self) -> int:
        return int(self.images.shape[2])

    def batch(self, index) -> np.ndarray:
        """float32 images in [0, 1] of the rows ``index``."""
        return self.images[index].astype(np.float32) / 255.0

    def subset(self, index) -> ImageArray:
        index = np.asarray(index)
        return ImageArray(
            self.images[index],
            {k: v[index] for k, v in self.labels.items()},
            dict(self.names),
            [self.ids[i] for i in index],
            self.source,
        )


def digit_array() -> ImageArray:
    """scikit-learn's 8x8 digits, (1797, 1, 8, 8), labelled ``"digit"``."""
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.round(d.images / _DIGIT_MAX * 255.0).astype(np.uint8)[:, None]
    return ImageArray(
        images,
        {"digit": d.target.astype(np.int64)},
        {"digit": [str(i) for i in range(10)]},
        [f"digit-{i}" for i in range(len(images))],
        DIGITS,
    )


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    names = sorted(set(values))
    lookup = {n: i for i, n in enumerate(names)}
    return np.array([lookup[v] for v in values], dtype=np.int64), names


def face_array(
    root, img_size: int = 64, max_images: int | None = None, seed: int = 0, progress: bool = False
) -> ImageArray:
    """The face crops below ``root`` resized to ``img_size``, (N, 3, S, S), labelled
    ``"real/fake"`` and ``"identity"`` (the target identity); ``max_images`` draws that many at
    random (seeded)."""
    from tqdm.auto import tqdm

    from acglab.data.images import load_image, resize_square
    from acglab.data.layouts import load_dataset

    table = load_dataset(root)
    rows = [s for s in table if s.frame is not None or not str(s.path).lower().endswith((".mp4", ".avi", ".mov"))]
    if not rows:
        raise DataLayoutError(
            f"{root} holds no face images (only videos?); extract face crops first with `acglab data extract`"
        )
    if max_images is not None and len(rows) > max_images:
        keep = np.sort(np.random.default_rng(seed).choice(len(rows), size=max_images, replace=False))
        rows = [rows[i] for i in keep]
    images = np.empty((len(rows), 3, img_size, img_size), dtype=np.uint8)
    for i, s in enumerate(tqdm(rows, desc="faces", unit="img", disable=not progress)):
        images[i] = resize_square(load_image(s.path), img_size).transpose(2, 0, 1)
    real_fake = np.array([1 if s.is_real else 0 for s in rows], dtype=np.int64)
    identity, id_names = _codes([s.target for s in rows])
    return ImageArray(
        images,
        {"real/fake": real_fake, "identity": identity},
        {"real/fake": ["fake", "real"], "identity": id_names},
        [str(s.path) for s in rows],
        str(root),
    )


def load_image_array(
    data, img_size: int = 64, max_images: int | None = None, seed: int = 0, progress: bool = False
) -> ImageArray:
    """``"digits"`` (``img_size`` ignored: 8 px) or a face folder (module notes)."""
    if str(data) == DIGITS:
        return digit_array()
    return face_array(data, img_size, max_images, seed, progress)
