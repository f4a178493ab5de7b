"""A built-in face-forgery synthesizer on numpy arrays.

Two ways to make a fake from real faces with five landmarks each (eyes, nose, mouth corners)
or dlib's 68:

- :func:`face_swap`: the target's scene and head with the source's face, aligned by a
  similarity transform, colour-corrected and blended through a randomised soft face mask;
- :func:`self_blend`: Self-Blended Images (Shiohara & Yamasaki, CVPR 2022), one image blended
  with a jittered copy of itself; :class:`SelfBlendAugment` applies it as a training augmentation.

With 68 landmarks both also work on one face part (``part=`` / ``parts=``: eyes, brows, nose,
mouth, ... of :mod:`acglab.faces.parts`, randomised by :func:`random_part_mask`): the local
forgeries that semantic editing (:mod:`acglab.edit`) makes.

Both return ``(fake, mask)`` with the fake equal to the target wherever the mask is 0. Every
random choice comes from a ``np.random.Generator``, so a seed fixes the output. Images are
uint8 RGB ``(H, W, 3)``; bad input raises :class:`acglab.errors.ImageError`, bad parameters
``ValueError``. The building blocks live in :mod:`~acglab.synth.masks`, :mod:`~acglab.synth.color`,
:mod:`~acglab.synth.blend`, :mod:`~acglab.synth.align` and :mod:`~acglab.synth.jitter`.
"""

from acglab.synth.align import align_face, similarity_transform, transform_points, warp_image
from acglab.synth.blend import alpha_blend, poisson_blend
from acglab.synth.color import reinhard_transfer
from acglab.synth.masks import face_ellipse_mask, face_hull_mask, random_face_mask, random_part_mask
from acglab.synth.sbi import SelfBlendAugment, self_blend
from acglab.synth.swap import face_swap

__all__ = [
    "SelfBlendAugment",
    "align_face",
    "alpha_blend",
    "face_ellipse_mask",
    "face_hull_mask",
    "face_swap",
    "poisson_blend",
    "random_face_mask",
    "random_part_mask",
    "reinhard_transfer",
    "self_blend",
    "similarity_transform",
    "transform_points",
    "warp_image",
]
