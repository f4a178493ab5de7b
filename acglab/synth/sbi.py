"""Self-Blended Images: a pseudo-fake made from one real image.

Shiohara & Yamasaki ("Detecting Deepfakes with Self-Blended Images", CVPR 2022) blend a real
face with a slightly altered copy of itself (colour and frequency jitter, a small shift and
scale) through a randomised face mask. The result carries the generic traces of face swapping
(a blending boundary, colour and sharpness mismatch, a landmark offset) without any particular
forgery method, so a detector trained on it generalises across methods.
"""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from acglab.faces.parts import as_points68, check_part, part_mask
from acglab.labels import FAKE, REAL
from acglab.synth.align import warp_image
from acglab.synth.blend import alpha_blend
from acglab.synth.inputs import as_landmarks, as_rgb_image
from acglab.synth.jitter import jitter_colors, jitter_frequency, random_similarity
from acglab.synth.masks import (
    draw_forehead,
    elastic_deform,
    erode_or_dilate,
    face_ellipse_mask,
    face_hull_mask,
    face_scale,
    part_scale,
    soften,
)

#: blend ratios of SBI's ``dynamic_blend`` (full-strength blends are the most frequent)
BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)


def self_blend(
    image, landmarks, rng: np.random.Generator, *, blend_ratios=BLEND_RATIOS, parts=None
) -> tuple[np.ndarray, np.ndarray]:
    """A self-blended pseudo-fake of ``image``.

    With ``x`` the image: the source is ``x_s = A(F(C(x)))`` (``C`` colour jitter, ``F``
    downscale or sharpen, ``A`` a similarity of scale 0.95..1/0.95 and shift up to 3 %/1.5 %);
    the mask is the hull or ellipse face mask moved by the same ``A``, elastically deformed,
    eroded or dilated, blurred, and scaled by a ratio ``r`` drawn from ``blend_ratios``; the fake
    is ``m·x_s + (1 - m)·x``. Only the source is altered, so the fake equals the image wherever
    ``m = 0``.

    The face mask depends on the landmarks. Five (MTCNN's): with probability 1/2 each, the hull
    of the landmarks extended to brows, cheeks and chin, or an ellipse fitted to them
    (:func:`~acglab.synth.masks.face_hull_mask`, :func:`~acglab.synth.masks.face_ellipse_mask`).
    68 (dlib's, :func:`acglab.faces.landmarks68.landmarks68`): SBI's mask, the convex hull of all
    68 points, with probability 1/2 extended over the forehead by moving the brows up by
    ``Uniform(0, 0.3)`` of the brow-to-chin distance (:func:`~acglab.synth.masks.draw_forehead`).
    Sizes (shift of the mask, deformation, erosion, blur) scale with the face measured on the
    five points (the 68 reduced by :func:`~acglab.faces.landmarks68.five_from_68`).

    ``parts`` (68 landmarks only) makes a *local* pseudo-fake: a part name of
    :data:`acglab.faces.parts.PARTS` (``"mouth"``, ``"eyes"``, ...) or a sequence of names, one
    drawn uniformly per call; the mask is then that part's region
    (:func:`~acglab.faces.parts.part_mask`) and its sizes scale with the part
    (:func:`~acglab.synth.masks.part_scale`), the forgery a local edit makes.

    Parameters
    ----------
    image : uint8 ``(H, W, 3)`` RGB; landmarks : ``(5, 2)`` or ``(68, 2)`` in it; rng : fixes
    every random choice.

    Returns
    -------
    fake : uint8 ``(H, W, 3)``; mask : float32 ``(H, W)`` in [0, 1], the blend weight ``m``.

    Raises :class:`ImageError` for a bad image or landmarks, ``ValueError`` for bad ``blend_ratios``.
    """
    if len(blend_ratios) == 0 or not all(0 < r <= 1 for r in blend_ratios):
        raise ValueError(f"blend_ratios must be values in (0, 1], got {blend_ratios!r}")
    img = as_rgb_image(image)
    lm = as_landmarks(landmarks, img.shape, allow68=True)
    size = img.shape[:2]
    part = draw_part(parts, rng)
    if part is not None:
        base = part_mask(img.shape, as_points68(lm), part)
        s = part_scale(base, lm, part)
    elif len(lm) == 68:
        base, s = face_hull_mask(img.shape, lm, forehead=draw_forehead(rng)), face_scale(lm)
    else:
        s = face_scale(lm)
        base = face_hull_mask(img.shape, lm) if rng.random() < 0.5 else face_ellipse_mask(img.shape, lm)
    source = jitter_frequency(jitter_colors(img, rng), rng)
    move = random_similarity(size, rng)
    source = warp_image(source, move, size)
    moved = warp_image(base, move, size, interpolation=cv2.INTER_NEAREST)  # stays binary
    mask = moved if moved.any() else base
    warped = elastic_deform(mask, rng, amplitude=0.08 * s, smoothness=0.25 * s)
    mask = warped if warped.any() else mask
    changed = erode_or_dilate(mask, int(rng.integers(0, int(0.1 * s) + 1)), dilate=bool(rng.integers(2)))
    mask = changed if changed.any() else mask
    soft = soften(mask, float(rng.uniform(0.04, 0.12)) * s)
    soft *= float(blend_ratios[int(rng.integers(len(blend_ratios)))])
    return alpha_blend(source, img, soft), soft


def draw_part(parts, rng: np.random.Generator) -> str | None:
    """``None`` for no parts, the part itself for one name, else one of ``parts`` drawn
    uniformly (one draw from ``rng``); ``PartError`` for an unknown name."""
    if parts is None:
        return None
    names = (parts,) if isinstance(parts, str) else tuple(parts)
    if not names:
        return None
    for name in names:
        check_part(name)
    return names[0] if len(names) == 1 else names[int(rng.integers(len(names)))]


class SelfBlendAugment:
    """Training augmentation: turn a real face into a self-blended fake with probability ``p``.

    ``aug(image, landmarks) -> (image, label, mask)``, landmarks ``(5, 2)`` or ``(68, 2)``:
    with probability ``p`` the output of
    :func:`self_blend` with label 0 (fake), otherwise the image unchanged with label 1 (real)
    and an all-zero mask. Images are uint8 ``(H, W, 3)``, masks float32 ``(H, W)``.
    With ``parts`` (names of :data:`acglab.faces.parts.PARTS`) and 68 landmarks, a fake is local
    with probability ``local_p``: the self-blend of one part drawn from ``parts`` (a local edit's
    traces) instead of the whole face.

    Randomness: pass ``rng`` per call, or let the augmentation draw from its own generator,
    seeded by ``seed``; inside a ``torch.utils.data.DataLoader`` worker it is seeded by the
    worker's torch seed too, which differs between workers and epochs (so neither workers nor
    epochs repeat each other's fakes, and ``torch.manual_seed`` makes a run reproducible).
    """

    def __init__(
        self, p: float = 0.5, seed: int | None = None, *, parts=None, local_p: float = 0.5, **self_blend_options
    ):
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"p must lie in [0, 1], got {p}")
        if not 0.0 <= float(local_p) <= 1.0:
            raise ValueError(f"local_p must lie in [0, 1], got {local_p}")
        if parts is not None:
            draw_part(parts, np.random.default_rng(0))  # checks the names
        self.p = float(p)
        self.seed = seed
        self.parts = None if parts is None else ((parts,) if isinstance(parts, str) else tuple(parts)) or None
        self.local_p = float(local_p)
        self.options = self_blend_options
        self._rng: np.random.Generator | None = None
        self._owner: tuple | None = None

    def _generator(self) -> np.random.Generator:
        worker, entropy = None, self.seed
        torch = sys.modules.get("torch")
        if torch is not None:
            worker = torch.utils.data.get_worker_info()
        if worker is not None:  # torch draws a new worker seed every epoch
            entropy = [int(worker.seed) % 2**63] + ([] if self.seed is None else [int(self.seed)])
        owner = (os.getpid(), None if worker is None else (int(worker.id), int(worker.seed)))
        if self._rng is None or self._owner != owner:
            self._rng, self._owner = np.random.default_rng(entropy), owner
        return self._rng

    def __call__(self, image, landmarks, rng: np.random.Generator | None = None):
        rng = self._generator() if rng is None else rng
        img = as_rgb_image(image)
        if rng.random() < self.p:
            local = self.parts is not None and len(landmarks) == 68 and rng.random() < self.local_p
            fake, mask = self_blend(img, landmarks, rng, parts=self.parts if local else None, **self.options)
            return fake, FAKE, mask
        as_landmarks(landmarks, img.shape, allow68=True)
        return img, REAL, np.zeros(img.shape[:2], np.float32)

    def __repr__(self) -> str:
        local = f", parts={self.parts}, local_p={self.local_p}" if self.parts else ""
        return f"SelfBlendAugment(p={self.p}, seed={self.seed}{local})"
