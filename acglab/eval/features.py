r"""What a trained detector computes for each face of a table: bottleneck features and scores
(:func:`bottleneck_features`), and the explanation maps of a few faces (:func:`face_maps`).

Images go through :class:`acglab.data.tensors.FaceDataset` in evaluation mode (no flip, no noise,
no synthetic fakes) at the model's own input size and normalisation, as in
:func:`acglab.eval.predict.predict_table`.

**Bottleneck features.** The ACG classifier reads the deepest encoder map, globally average
pooled (thesis section 2.2, the space :math:`Z` of eq. 2.6):

.. math:: y = \frac{1}{h w} \sum_{u, v} A_{:, u, v} \in \mathbb R^D ,

:math:`D` = 2048 for Xception, 576 for MobileNetV3-small. In ``eval()`` mode the OT module is
the identity, so :math:`y` is exactly what the classifier sees at test time.

**BatchNorm statistics.** During training every BatchNorm layer normalises with the mean and
variance of the current batch, and the OT module fits the features computed that way. At test
time the layers use their running averages instead. After a long training both agree; after a
few steps from random weights they do not (on celebdf-mini, 32 quick-preset steps: the spread of
test-time features was about 7 times smaller than that of the OT bank, and their mean 4 units away
from the bank's). ``batch_statistics=True`` computes the features as a training step does:
batches of ``batch_size`` faces in a seeded random order, BatchNorm on batch statistics, nothing
stored (running averages and every other buffer are restored afterwards), no input noise.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from acglab.data.samples import SampleTable
from acglab.errors import AcglabError


@dataclass
class FeatureSet:
    """Bottleneck features of the rows of a table, with their scores.

    Attributes
    ----------
    features : (n, D) float32, row i for sample i of the table
    scores : (n,) float64, P(fake) = sigmoid(logit)
    labels : (n,) int, 1 = real, 0 = fake
    videos : the n video ids
    """

    features: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    videos: list[str]


@dataclass
class FaceMaps:
    """Explanation maps of a few faces, all at the model's input size S.

    Attributes
    ----------
    faces : (n, S, S, 3) uint8, the model's input turned back into pixels
    gradcam : (n, S, S) float64 in [0, 1], Grad-CAM of the explained logit
    residual : (n, S, S) float64 >= 0, reconstruction residual |x - x_hat| averaged over
        colours, or ``None`` for a model without autoencoder
    scores : (n,) P(fake); labels : (n,) 1 = real, 0 = fake; videos : n video ids
    target : the class Grad-CAM explains (``"fake"``, ``"real"`` or ``"verdict"``)
    """

    faces: np.ndarray
    gradcam: np.ndarray
    residual: np.ndarray | None
    scores: np.ndarray
    labels: np.ndarray
    videos: list[str]
    target: str = "fake"


def _dataset(model: nn.Module, table: SampleTable):
    from acglab.data.tensors import evaluation_dataset
    from acglab.eval.predict import require_frames

    require_frames(table)
    return evaluation_dataset(model, table)


@contextlib.contextmanager
def batch_statistics_mode(model: nn.Module):
    """Inside the block ``model`` is in eval mode except its BatchNorm layers, which normalise
    with batch statistics; every buffer (running averages, counters) is restored on exit."""
    was_training = model.training
    saved = {k: v.detach().clone() for k, v in model.named_buffers()}
    model.eval()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.train()
    try:
        yield model
    finally:
        with torch.no_grad():
            for name, value in model.named_buffers():
                value.copy_(saved[name])
        model.train(was_training)


def bottleneck_features(
    model: nn.Module,
    table: SampleTable,
    batch_size: int = 32,
    device="cpu",
    num_workers: int = 0,
    progress: bool = True,
    batch_statistics: bool = False,
    seed: int = 0,
) -> FeatureSet:
    """Bottleneck features y (n, D) and scores P(fake) (n,) of every row of ``table`` (module notes).

    Parameters
    ----------
    model : a detector returning :class:`~acglab.models.outputs.ACGOutput` (``.features``,
        ``.logits``); run in eval mode and put back into its previous mode afterwards
    table : image rows (face crops)
    batch_size, device, num_workers : batching; progress : a tqdm bar
    batch_statistics : BatchNorm on the statistics of each batch, as in training (module notes);
        batches then follow a random order drawn with ``seed``

    Returns
    -------
    :class:`FeatureSet` in table order.
    """
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    if batch_size < 1:
        raise AcglabError(f"batch size must be at least 1, got {batch_size}")
    dataset = _dataset(model, table)
    n = len(dataset)
    order = np.random.default_rng(seed).permutation(n) if batch_statistics else np.arange(n)
    device = torch.device(device)
    if batch_statistics and n < 2:
        raise AcglabError("features with batch statistics need at least 2 faces (BatchNorm of a single image)")
    # near-equal batches: none of a single image, which BatchNorm on batch statistics refuses
    batches = [b.tolist() for b in np.array_split(order, -(-n // batch_size))]
    loader = DataLoader(dataset, batch_sampler=batches, num_workers=num_workers, pin_memory=device.type == "cuda")
    model.to(device)
    features: np.ndarray | None = None
    scores = np.full(n, np.nan)
    was_training = model.training
    mode = batch_statistics_mode(model) if batch_statistics else contextlib.nullcontext()
    try:
        with mode, torch.no_grad():
            if not batch_statistics:
                model.eval()
            for images, _, indices in tqdm(loader, desc="features", unit="batch", disable=not progress):
                out = model(images.to(device, non_blocking=True))
                if getattr(out, "features", None) is None:
                    raise AcglabError(f"{type(model).__name__} returns no bottleneck features")
                y = out.features.detach().to("cpu", torch.float32).numpy()
                if features is None:
                    features = np.zeros((n, y.shape[1]), dtype=np.float32)
                idx = indices.numpy()
                features[idx] = y
                scores[idx] = torch.sigmoid(out.logits.detach().to("cpu", torch.float64)).numpy()
    finally:
        model.train(was_training)
    return FeatureSet(
        features=features, scores=scores, labels=np.asarray(table.labels, dtype=int), videos=[s.video for s in table]
    )


def face_maps(
    model: nn.Module, table: SampleTable, device="cpu", target: str = "fake", progress: bool = False
) -> FaceMaps:
    """Grad-CAM and reconstruction residual of every row of ``table`` (a few faces: one
    backward pass each), with :func:`acglab.explain.gradcam_map` and
    :func:`acglab.explain.residual_map`; ``residual`` is ``None`` for a model without decoder."""
    from tqdm.auto import tqdm

    from acglab.explain import gradcam_map, residual_map
    from acglab.explain.explanation import to_uint8_image

    dataset = _dataset(model, table)
    device = torch.device(device)
    model.to(device)
    has_decoder = getattr(model, "decoder", None) is not None
    faces, heats, residuals, scores = [], [], [], []
    was_training = model.training
    try:
        model.eval()
        for i in tqdm(range(len(dataset)), desc="explaining", unit="face", disable=not progress):
            x = dataset[i][0].to(device)
            faces.append(to_uint8_image(x, model.normalization))
            heats.append(gradcam_map(model, x, target=target))
            if has_decoder:
                residuals.append(residual_map(model, x))
            with torch.inference_mode():
                scores.append(float(torch.sigmoid(model(x[None]).logits.double())[0]))
    finally:
        model.train(was_training)
    return FaceMaps(
        faces=np.stack(faces),
        gradcam=np.stack(heats),
        residual=np.stack(residuals) if has_decoder else None,
        scores=np.asarray(scores),
        labels=np.asarray(table.labels, dtype=int),
        videos=[s.video for s in table],
        target=target,
    )
