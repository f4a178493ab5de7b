"""Face images of a :class:`SampleTable` as normalised tensors: the detector's data pipeline.

A training image goes through, in order:

1. :func:`acglab.data.images.load_image` (any image file -> uint8 RGB ``(H, W, 3)``);
2. with ``synth_augment``, a real face becomes a self-blended fake with probability ``p``
   (:class:`acglab.synth.SelfBlendAugment`, on the full-resolution face and its landmarks; the
   label becomes fake);
3. a resize to ``img_size x img_size`` (area averaging when shrinking, bilinear when growing);
3b. with ``crop_size``, a ``crop_size x crop_size`` window at a uniformly random position (the
   model is fully convolutional with global pooling, so evaluation still sees the whole face);
4. a horizontal flip with probability 1/2 (the only augmentation of thesis §2.4);
5. ``x = (v / 255 - mean) / std`` per channel, with the backbone's ``mean`` and ``std``.

Evaluation images take steps 1, 3 and 5 only. Every random choice of sample ``i`` in epoch ``e``
comes from ``numpy.random.default_rng([seed, e, i])``, so augmentations do not depend on worker
processes or on where a run was resumed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from acglab.data.images import load_image, resize_square
from acglab.data.samples import REAL, SampleTable
from acglab.errors import AcglabError


def random_window(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``size x size`` window of ``image`` (H, W, C) whose top-left corner is uniform over the
    ``(H - size + 1) x (W - size + 1)`` positions."""
    h, w = image.shape[:2]
    top, left = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    return image[top : top + size, left : left + size]


def as_mean_std(normalization) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)``, each float32 ``(3,)``, from a ``(mean, std)`` pair or a ``{"mean", "std"}`` dict."""
    if isinstance(normalization, dict):
        mean, std = normalization["mean"], normalization["std"]
    else:
        mean, std = normalization
    mean, std = np.asarray(mean, np.float32).reshape(-1), np.asarray(std, np.float32).reshape(-1)
    if mean.shape != (3,) or std.shape != (3,) or not (std > 0).all():
        raise ValueError(f"normalization needs three means and three positive stds, got {mean}, {std}")
    return mean, std


def normalize(image: np.ndarray, mean: np.ndarray, std: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` -> float32 ``(3, H, W)`` tensor ``(v / 255 - mean) / std``."""
    x = (image.astype(np.float32) / 255.0 - mean) / std
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))


class FaceDataset(Dataset):
    """Face images of ``table`` as ``(image (3, S, S) float32, label int, index int)``.

    Parameters
    ----------
    table : the samples (image files; label 1 = real, 0 = fake)
    img_size : side ``S`` of the square model input
    normalization : the model's ``(mean, std)`` (``model.normalization``)
    train : apply the random augmentations (flip, synthetic fakes); off for evaluation
    hflip : flip horizontally with probability 1/2 (training only)
    synth_augment : ``False``, ``True`` (a :class:`~acglab.synth.SelfBlendAugment` with
        probability 1/2) or an augmentation object ``aug(image, landmarks, rng) -> (image, label, mask)``;
        applied to real training faces that have landmarks (training only)
    landmarks : ``{image path: (5, 2) landmarks}``; needed by ``synth_augment``
    seed : seed of the per-sample generators (see the module docstring)
    crop_size : side of a random square window cut from each training image after the resize
        (``None``: the whole image); evaluation images are never cropped

    The label returned is the label after augmentation (a self-blended face is fake).
    """

    def __init__(
        self,
        table: SampleTable,
        img_size: int,
        normalization,
        train: bool = False,
        hflip: bool = True,
        synth_augment=False,
        landmarks: dict | None = None,
        seed: int = 0,
        crop_size: int | None = None,
    ):
        self.table = table
        self.img_size = int(img_size)
        self.mean, self.std = as_mean_std(normalization)
        self.train = bool(train)
        self.hflip = bool(hflip)
        self.synth = self._synthesizer(synth_augment) if train else None
        if self.synth is not None and landmarks is None:
            raise AcglabError("synthetic fakes need face landmarks of the real training images; pass landmarks")
        self.landmarks = landmarks or {}
        self.seed = int(seed)
        self.epoch = 0
        if crop_size is not None and not 1 <= int(crop_size) <= self.img_size:
            raise AcglabError(f"crop size must lie in [1, {self.img_size}] (the image size), got {crop_size}")
        self.crop_size = int(crop_size) if crop_size is not None and int(crop_size) < self.img_size else None

    @staticmethod
    def _synthesizer(synth_augment):
        if synth_augment is True:
            from acglab.synth import SelfBlendAugment

            return SelfBlendAugment(p=0.5)
        return synth_augment or None

    def set_epoch(self, epoch: int) -> None:
        """Draw epoch ``epoch``'s augmentations (call before iterating the epoch)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, index: int):
        sample = self.table[index]
        image = load_image(sample.path)
        label = int(sample.label)
        rng = np.random.default_rng([self.seed, self.epoch, int(index)]) if self.train else None
        if self.synth is not None and label == REAL and sample.path in self.landmarks:
            image, label, _ = self.synth(image, self.landmarks[sample.path], rng)
        image = resize_square(image, self.img_size)
        if self.train and self.crop_size is not None:
            image = random_window(image, self.crop_size, rng)
        if self.train and self.hflip and rng.random() < 0.5:
            image = image[:, ::-1]
        return normalize(image, self.mean, self.std), int(label), int(index)


def evaluation_dataset(model, table: SampleTable) -> FaceDataset:
    """``table``'s faces as ``model`` sees them at evaluation (no flip, no noise, no synthetic
    fakes): its input side ``model.config["img_size"]`` and its ``model.normalization``."""
    config = getattr(model, "config", None)
    if not isinstance(config, dict) or "img_size" not in config or not hasattr(model, "normalization"):
        raise AcglabError(
            "the model has no .config['img_size'] or .normalization; build it with "
            "acglab.models.build_model or load it with model_from_checkpoint"
        )
    return FaceDataset(table, img_size=int(config["img_size"]), normalization=model.normalization, train=False)
