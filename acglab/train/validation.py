"""Validation during training: scores of the validation part and their frame and video metrics.

Each process scores its share of the validation images (every ``world_size``-th, from its
rank on); the scores are gathered so that every process computes the same metrics with
:func:`acglab.metrics.evaluate` (thesis §3.1: a video's score is the mean of its frames'
scores ``P(fake) = sigmoid(logit)``). The model runs in ``eval()`` mode, where it adds no noise
and the OT module replaces nothing, and draws no random numbers, so validating does not change
what training computes next.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
from torch.utils.data import DataLoader

from acglab.metrics import evaluate
from acglab.train.distributed import Context, gather


@torch.no_grad()
def score_shard(
    model: torch.nn.Module,
    dataset,
    indices: list[int],
    device,
    batch_size: int,
    autocast=contextlib.nullcontext,
    channels_last: bool = False,
    num_workers: int = 0,
) -> dict[int, float]:
    """``{index: P(fake)}`` of the samples ``indices`` of ``dataset`` (model in eval mode)."""
    was_training = model.training
    model.eval()
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=indices,
        num_workers=num_workers,
        pin_memory=torch.device(device).type == "cuda",
        generator=torch.Generator(),
    )
    scores: dict[int, float] = {}
    try:
        for images, _, idx in loader:
            images = images.to(device, non_blocking=True)
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with autocast():
                logits = model(images).logits
            p = torch.sigmoid(logits.detach().double()).cpu().tolist()
            scores.update(zip(idx.tolist(), p))
    finally:
        model.train(was_training)
    return scores


def gathered_scores(shard: dict[int, float], n: int, ctx: Context) -> np.ndarray:
    """Scores of all ``n`` samples, assembled from every process's shard (identical on all)."""
    scores = np.full(n, np.nan)
    for part in gather(shard, ctx):
        for i, s in part.items():
            scores[i] = s
    if np.isnan(scores).any():
        raise RuntimeError(f"{int(np.isnan(scores).sum())} of {n} validation samples were not scored")
    return scores


def validation_row(table, scores: np.ndarray) -> dict[str, float]:
    """``val_frame_auc``, ``val_video_auc``, ACC and EER at both levels (NaN AUC/EER with one
    class), and the temperature that calibrates the frame scores (:mod:`acglab.metrics.calibration`):
    ``val_temperature``, ``val_ece`` before and ``val_ece_calibrated`` after (NaN with one class)."""
    from acglab.metrics.calibration import calibrate

    result = evaluate(table.labels, scores, [s.video for s in table])
    row = {}
    for level in ("frame", "video"):
        for name in ("auc", "acc", "eer"):
            row[f"val_{level}_{name}"] = float(result[level][name])
    row["val_frames"], row["val_videos"] = result["n_frames"], result["n_videos"]
    labels = np.asarray(table.labels)
    if len(np.unique(labels)) == 2 and np.isfinite(scores).all():
        cal = calibrate(scores, labels)
        row.update(val_temperature=cal.temperature, val_ece=cal.ece_before, val_ece_calibrated=cal.ece_after)
    else:
        row.update(val_temperature=float("nan"), val_ece=float("nan"), val_ece_calibrated=float("nan"))
    return row


def calibration_of(row: dict) -> dict | None:
    """The calibration a checkpoint keeps (``state["calibration"]``) from a validation row:
    ``{"temperature", "ece_before", "ece_after", "n", "source"}``, or None without one."""
    t = row.get("val_temperature")
    if t is None or not math.isfinite(t):
        return None
    return {
        "temperature": float(t),
        "ece_before": float(row["val_ece"]),
        "ece_after": float(row["val_ece_calibrated"]),
        "n": int(row["val_frames"]),
        "source": "validation",
        "epoch": int(row["epoch"]),
    }


def model_selection_metric(row: dict, previous: str | None = None) -> str:
    """The metric best.pt is chosen by: the validation **frame** AUC, or ``previous`` (the metric a
    resumed run chose its best checkpoint by, so that it keeps comparing like with like).

    A validation part of a few dozen videos makes the video AUC coarse (with 15 real and 25 fake
    videos it moves in steps of 1/375 and one video more or less changes it by several points),
    while the frame AUC averages over all their frames; over the epochs of the runs measured in
    ``benchmarks/RESULTS.md`` the frame AUC follows the test score more closely."""
    return previous if previous in ("val_frame_auc", "val_video_auc") else "val_frame_auc"


def validate(
    model,
    dataset,
    ctx: Context,
    batch_size: int,
    autocast=contextlib.nullcontext,
    channels_last: bool = False,
    num_workers: int = 0,
) -> dict[str, float]:
    """The validation row of ``dataset`` (a :class:`~acglab.data.tensors.FaceDataset` in eval mode)."""
    n = len(dataset)
    shard = score_shard(
        model,
        dataset,
        list(range(ctx.rank, n, ctx.world_size)),
        ctx.device,
        batch_size,
        autocast,
        channels_last,
        num_workers,
    )
    return validation_row(dataset.table, gathered_scores(shard, n, ctx))


def improved(value: float, best: float | None) -> bool:
    """``value`` beats ``best`` (a NaN never does; anything beats no best yet)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return best is None or value > best
