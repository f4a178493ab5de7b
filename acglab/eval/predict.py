"""Batched inference: one score ``P(fake)`` per image of a :class:`SampleTable`.

The ACG classifier outputs one logit per image for the class fake, so a frame's score is

    s_i = sigmoid(z_i) = 1 / (1 + exp(-z_i)),

the probability that face ``i`` is forged (the convention of :mod:`acglab.metrics`, whose
positive class is fake). Images are read and normalised by the training data pipeline
(:class:`acglab.data.tensors.FaceDataset` in evaluation mode: no flip, no noise, no synthetic
fakes), so evaluation sees exactly what validation saw during training. The model runs in
``eval()`` mode, where the denoising noise and the OT feature replacement are off.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from acglab.data.samples import SampleTable
from acglab.errors import AcglabError, DataLayoutError


def logits_of(output) -> torch.Tensor:
    """The (B,) fake-class logits of a model output: an ``ACGOutput`` (its ``.logits``) or a
    tensor of shape (B,) or (B, 1)."""
    logits = output.logits if hasattr(output, "logits") else output
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"model output has no logits tensor (got {type(output).__name__})")
    if logits.ndim == 2 and logits.shape[1] == 1:
        logits = logits[:, 0]
    if logits.ndim != 1:
        raise ValueError(f"expected one logit per image, got logits of shape {tuple(logits.shape)}")
    return logits


def fake_probability(logits) -> np.ndarray:
    """``sigmoid(logits)`` as float64, computed stably: P(fake) of each image, shape (B,)."""
    z = torch.as_tensor(logits).detach().to("cpu", torch.float64)
    return torch.sigmoid(z).numpy()


def require_frames(table: SampleTable) -> None:
    """:class:`DataLayoutError` when the table is empty or lists video files instead of images."""
    if len(table) == 0:
        raise DataLayoutError("no samples to evaluate; check the dataset folder (and the split part)")
    videos = [s for s in table if s.frame is None]
    if videos:
        raise DataLayoutError(
            f"{len(videos)} samples are video files (e.g. {videos[0].path}); extract face crops first "
            "with `acglab data extract` and evaluate the crops"
        )


def batch_scores(model: torch.nn.Module, batches: Iterable, n: int, device="cpu", progress: bool = False) -> np.ndarray:
    """P(fake) of every sample delivered by ``batches``, placed by the samples' indices.

    Parameters
    ----------
    model : returns an ``ACGOutput`` (or logits) for a (B, 3, H, W) batch; put in ``eval()`` mode
    batches : iterable of ``(images (B, 3, H, W), labels (B,), indices (B,))`` as a
        :class:`torch.utils.data.DataLoader` over a ``FaceDataset`` yields them
    n : number of samples; every index in ``0 .. n-1`` must be delivered exactly once
    device : where the model runs
    progress : show a tqdm bar

    Returns
    -------
    np.ndarray, shape (n,), float64 in [0, 1]
    """
    from tqdm.auto import tqdm

    device = torch.device(device)
    was_training = model.training
    model.eval()
    scores = np.full(n, np.nan)
    seen = np.zeros(n, dtype=bool)
    try:
        with torch.inference_mode():
            for images, _, indices in tqdm(batches, desc="scoring", unit="batch", disable=not progress):
                logits = logits_of(model(images.to(device, non_blocking=True)))
                idx = torch.as_tensor(indices).to("cpu", torch.int64).numpy()
                scores[idx] = fake_probability(logits)
                seen[idx] = True
    finally:
        model.train(was_training)
    if not seen.all():
        raise RuntimeError(f"{int((~seen).sum())} of {n} samples were not scored")
    return scores


def predict_table(
    model: torch.nn.Module,
    table: SampleTable,
    batch_size: int = 32,
    device="cpu",
    num_workers: int = 0,
    progress: bool = False,
) -> np.ndarray:
    """P(fake) of every row of ``table`` (in table order), shape (len(table),).

    The images go through :func:`acglab.data.tensors.evaluation_dataset`: no flip, no noise, the
    model's own input size (``model.config["img_size"]``) and normalisation
    (``model.normalization``). A corrupt image stops the run with :class:`ImageError`.
    """
    from torch.utils.data import DataLoader

    from acglab.data.tensors import evaluation_dataset

    require_frames(table)
    if batch_size < 1:
        raise AcglabError(f"batch size must be at least 1, got {batch_size}")
    device = torch.device(device)
    dataset = evaluation_dataset(model, table)
    loader = DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers, pin_memory=device.type == "cuda"
    )
    model.to(device)
    return batch_scores(model, loader, len(table), device=device, progress=progress)


def score_pixels(model: torch.nn.Module, images, batch_size: int = 64, device="cpu") -> np.ndarray:
    """P(fake) of images given as pixels, (N, 3, H, W) floats in [0, 1] (e.g. a decoder's
    output): resized to the detector's ``config["img_size"]`` (bilinear with antialiasing;
    untouched when the size already matches), normalised with its ``.normalization``
    (``(v - m_c) / s_c``) and scored in eval mode. Returns (N,) float64."""
    import torch.nn.functional as F

    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"images must be (N, 3, H, W) pixels in [0, 1], got shape {tuple(x.shape)}")
    size = int(model.config["img_size"])
    norm = model.normalization
    mean = torch.tensor(norm["mean"] if isinstance(norm, dict) else norm.mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(norm["std"] if isinstance(norm, dict) else norm.std, dtype=torch.float32).view(1, 3, 1, 1)
    batches = []
    for s in range(0, len(x), batch_size):
        chunk = x[s : s + batch_size]
        if chunk.shape[-2:] != (size, size):
            chunk = F.interpolate(chunk, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        batches.append(((chunk - mean) / std, torch.zeros(len(chunk)), torch.arange(s, s + len(chunk))))
    return batch_scores(model, batches, len(x), device)
