"""The training loop of the ACG detector: :func:`train`.

Read top to bottom, one run is:

1. **Setup** (:func:`train`, :func:`_run`): the arguments become one
   :class:`~acglab.train.options.RunOptions`; join the process group when started by ``torchrun``
   (:mod:`acglab.train.distributed`), seed everything, and a :class:`~acglab.train.trainer.Trainer`
   builds the model (:func:`acglab.models.build_model`), Adam (weight decay 1e-5), the
   learning-rate schedule (StepLR or cosine, stepped once per optimizer step) and, on CUDA,
   mixed precision (``torch.autocast`` + ``GradScaler``).
2. **Resume** (``resume=True``, :meth:`Trainer.start <acglab.train.trainer.Trainer.start>`): load
   ``RUN_DIR/last.pt`` and restore the model, optimizer, scheduler, GradScaler, the position inside
   the epoch, the history, the best metric and every generator state, so the run continues as if
   it had never stopped.
3. **Epochs** (:func:`train_epoch`, then :func:`end_epoch`): each optimizer step minimises
   L = L_cls + lambda_r L_r + lambda_m L_m (thesis eq. 2.7, :func:`acglab.losses.acg_loss`,
   :meth:`Trainer.step <acglab.train.trainer.Trainer.step>`; plain BCE for ``arch="backbone"``).
   The ACG model with an OT module also gets the batch labels (its bank keeps them:
   ``same_class`` option, ``cross_class`` diagnostic); the epoch's ``train_ot_replaced`` is the mean share of replaced
   samples and ``train_ot_cross_class`` the share of those whose partner had the other label.
   ``last.pt`` is saved every ``checkpoint_every`` steps. With ``ema_decay`` an exponential
   moving average of the weights follows every step (:mod:`acglab.train.ema`); it is what
   validation scores and what the checkpoints offer for inference. After each epoch the validation part
   is scored (frame and video AUC), a row is added to ``log.csv`` and TensorBoard, ``last.pt``
   is saved and copied to ``best.pt`` when the validation frame AUC improved
   (:func:`~acglab.train.validation.model_selection_metric`).
4. **End**: ``summary.json``. ``max_steps`` ends a run early (a smoke run): the epoch it stops in
   is validated and logged, and a later resume continues that epoch.

Only the main process (rank 0) writes files. Checkpoints are written atomically.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from acglab.data.samples import FAKE, SampleTable
from acglab.data.selection import require_images, select_frames
from acglab.data.tensors import FaceDataset
from acglab.errors import DataLayoutError
from acglab.train import distributed as dist_
from acglab.train.checks import check_training_table
from acglab.train.options import RunOptions
from acglab.train.presets import TrainConfig
from acglab.train.resume import Position
from acglab.train.runlog import RunLog
from acglab.train.sampler import EpochSampler
from acglab.train.seeding import deterministic_mode
from acglab.train.trainer import CROSS_REPLACED, Trainer
from acglab.train.validation import calibration_of, improved, model_selection_metric, validate


@dataclass
class EpochData:
    """The datasets of a run, the sampler of its training order and the optimizer steps of an epoch."""

    train_set: FaceDataset
    val_set: FaceDataset
    sampler: EpochSampler
    drop_last: bool
    steps_per_epoch: int


def train(
    config: TrainConfig,
    train_table: SampleTable,
    val_table: SampleTable,
    run_dir,
    *,
    resume: bool = False,
    device: str | None = "auto",
    max_steps: int | None = None,
    landmarks: dict | None = None,
    data_root=None,
    progress: bool | None = True,
    on_step: Callable[[int, torch.nn.Module], None] | None = None,
    config_extra: dict | None = None,
) -> dict:
    """Train a detector on ``train_table``, validating on ``val_table`` each epoch (module notes).

    Parameters
    ----------
    config : every setting (:class:`~acglab.train.presets.TrainConfig`)
    train_table, val_table : face images of the split's train and val parts (``val_table`` may
        be empty: no validation, no ``best.pt``)
    run_dir : folder for ``config.json``, ``log.csv``, ``tb/``, ``last.pt``, ``best.pt``, ``summary.json``
    resume : continue the run saved in ``run_dir/last.pt``
    device : ``"auto"``, ``"cpu"``, ``"cuda"`` (``cuda:LOCAL_RANK`` under torchrun)
    max_steps : stop after this many optimizer steps in total (smoke runs)
    landmarks : ``{path: (5, 2)}`` for ``config.synth_augment``; found with
        :func:`acglab.train.landmarks.face_landmarks` (in ``data_root``) when ``None``
    progress : tqdm bars and one line per epoch; ``None``: the lines, and bars only when stderr
        is a terminal; ``False``: silent
    on_step : ``on_step(step, model)`` after every optimizer step (and its periodic checkpoint),
        with the global step and the (unwrapped) model validation scores: the weight average
        when ``config.ema_decay`` is set
    config_extra : more entries for ``config.json`` (e.g. the preset name and split file)

    Returns
    -------
    The summary dict (also written to ``run_dir/summary.json``).
    """
    opts = RunOptions.checked(
        config,
        run_dir,
        resume=resume,
        max_steps=max_steps,
        landmarks=landmarks,
        data_root=data_root,
        progress=progress,
        on_step=on_step,
        config_extra=config_extra or {},
    )
    c = opts.config
    train_table = select_frames(train_table, c.frames_per_video)
    val_table = select_frames(val_table, c.frames_per_video)
    check_training_table(train_table, c.arch, c.synth_augment)
    if len(val_table):
        require_images(val_table, "val")
    ctx = dist_.setup(device)
    try:
        with _deterministic(c.deterministic):
            return _run(opts, ctx, train_table, val_table)
    finally:
        dist_.teardown(ctx)


@contextlib.contextmanager
def _deterministic(enabled: bool):
    """Deterministic algorithms inside the block when ``enabled`` (switched off after it unless
    they were on before)."""
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    if enabled:
        deterministic_mode(True)
    try:
        yield
    finally:
        if enabled and not was_deterministic:
            deterministic_mode(False)


def _run(opts: RunOptions, ctx: dist_.Context, train_table: SampleTable, val_table: SampleTable) -> dict:
    """One run on this process: setup and resume, the epochs, the summary (module notes)."""
    c = opts.config
    landmarks = _training_landmarks(c, ctx, train_table, opts.landmarks, opts.data_root, opts.bars)
    sampler = EpochSampler(len(train_table), seed=c.seed, shuffle=True, rank=ctx.rank, world_size=ctx.world_size)
    trainer = Trainer(c, ctx, opts.run_dir, total_steps=c.epochs * _steps_per_epoch(sampler, c.batch_size))
    trainer.start(opts.resume)
    pos = trainer.position
    log = RunLog(opts.run_dir, enabled=ctx.is_main, purge_step=pos.step + 1 if opts.resume else None)
    trainer.data_info = {
        "train_samples": len(train_table),
        "val_samples": len(val_table),
        "root": str(opts.data_root) if opts.data_root else None,
    }
    if not opts.resume:
        log.json(
            "config.json",
            {**opts.config_extra, "train": c.to_dict(), "model": trainer.model.config, "data": trainer.data_info},
        )
    data = _epoch_data(c, sampler, trainer.model.normalization, train_table, val_table, landmarks)

    started, images, stopped = time.perf_counter(), 0, False
    try:
        while pos.epoch < c.epochs and not stopped:
            stopped, epoch_images = train_epoch(trainer, data, opts, log)
            images += epoch_images
            end_epoch(trainer, data, opts, log, stopped)
    finally:
        log.close()
    wall = time.perf_counter() - started
    summary = _summary(opts, trainer, wall, images, stopped and pos.epoch < c.epochs)
    log.json("summary.json", summary)
    dist_.barrier(ctx)
    return summary


def train_epoch(trainer: Trainer, data: EpochData, opts: RunOptions, log: RunLog) -> tuple[bool, int]:
    """The optimizer steps of the current epoch, from the batch the position stands at to the
    epoch's end or to ``opts.max_steps``: the loss parts summed in the position, step scalars
    every ``log_every`` steps, ``last.pt`` every ``checkpoint_every`` steps, then ``on_step``.

    Returns whether ``max_steps`` stopped the run and the images trained on (all processes).
    """
    c, ctx, pos = trainer.config, trainer.ctx, trainer.position
    trainer.model.train()
    data.train_set.set_epoch(pos.epoch)
    data.sampler.set_epoch(pos.epoch, start=pos.batch * c.batch_size)
    loader = _loader(data.train_set, data.sampler, c, ctx.device, c.seed * 1000 + pos.epoch, data.drop_last)
    bar = tqdm(
        loader,
        total=data.steps_per_epoch,
        initial=pos.batch,
        desc=f"epoch {pos.epoch + 1}/{c.epochs}",
        unit="batch",
        disable=not (opts.bars and ctx.is_main),
        leave=False,
    )
    t0, images_seen, stopped = time.perf_counter(), 0, False
    for images, labels, _ in bar:
        images = images.to(ctx.device, non_blocking=True)
        labels = labels.to(ctx.device, non_blocking=True)
        if c.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        parts = trainer.step(images, labels)
        pos.batch, pos.step = pos.batch + 1, pos.step + 1
        for k, v in {**parts, "n": 1.0}.items():
            pos.sums[k] = pos.sums.get(k, 0.0) + v
        images_seen += images.shape[0] * ctx.world_size
        bar.set_postfix(loss=f"{parts['total']:.4f}")
        if pos.step % c.log_every == 0:
            shown = {k: v for k, v in parts.items() if k != CROSS_REPLACED}
            log.scalars({**shown, "lr": trainer.scheduler.get_last_lr()[0]}, pos.step, prefix="step/")
        stopped = opts.stops_at(pos.step)
        due = c.checkpoint_every and pos.step % c.checkpoint_every == 0 and pos.batch < data.steps_per_epoch
        if due and not stopped:
            pos.seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            trainer.save()
        if opts.on_step is not None:
            opts.on_step(pos.step, trainer.eval_model)
        if stopped:
            break
    bar.close()
    pos.seconds += time.perf_counter() - t0
    return stopped, images_seen


def end_epoch(trainer: Trainer, data: EpochData, opts: RunOptions, log: RunLog, stopped: bool) -> dict:
    """The end of an epoch, or of the part of one before ``max_steps`` stopped the run (a
    ``partial`` row): the epoch's row, validation, the position moved on to the next epoch
    (not after a partial one), ``last.pt`` saved atomically and copied to ``best.pt`` when the
    selection metric improved, ``log.csv``, TensorBoard and one line on stderr. Returns the row."""
    c, ctx, pos = trainer.config, trainer.ctx, trainer.position
    row = _epoch_row(pos, trainer, ctx, (pos.batch * c.batch_size) * ctx.world_size, pos.seconds)
    if stopped and pos.batch < data.steps_per_epoch:
        row["partial"] = True
    dist_.sync_buffers(trainer.model, ctx)  # rank 0's BatchNorm statistics (and OT bank) everywhere
    if trainer.ema is not None:
        dist_.sync_buffers(trainer.ema, ctx)
    better = _validate(trainer, data.val_set, row) if len(data.val_set) else False
    pos.history = [r for r in pos.history if r["epoch"] != row["epoch"]] + [row]
    if not row.get("partial"):
        pos.epoch, pos.batch, pos.sums, pos.seconds = pos.epoch + 1, 0, {}, 0.0
    trainer.save(best=better)
    log.epoch(pos.history)
    if opts.lines and ctx.is_main:
        tqdm.write(_epoch_line(row), file=sys.stderr)
    return row


def _validate(trainer: Trainer, val_set: FaceDataset, row: dict) -> bool:
    """Score ``val_set`` with the evaluation weights into ``row`` (AUCs, calibration), keep the
    fitted temperature for the checkpoint; ``True`` when the selection metric improved (the
    position's best is then this epoch)."""
    c, pos = trainer.config, trainer.position
    row.update(
        validate(
            trainer.eval_model, val_set, trainer.ctx, c.batch_size, trainer.autocast, c.channels_last, c.num_workers
        )
    )
    trainer.calibration = calibration_of(row)
    metric = model_selection_metric(row, pos.best_metric)
    better = improved(row[metric], pos.best_auc)
    if better:
        pos.best_auc, pos.best_epoch, pos.best_metric = row[metric], row["epoch"], metric
    return better


def _training_landmarks(config, ctx, table, landmarks, data_root, progress):
    if not config.synth_augment or landmarks is not None:
        return landmarks
    from acglab.train.landmarks import face_landmarks

    if not ctx.is_main:  # the main process detects and caches first; the others read its cache
        dist_.barrier(ctx)
    found = face_landmarks(table, root=data_root, progress=progress and ctx.is_main, points=config.landmark_points)
    if ctx.is_main:
        dist_.barrier(ctx)
    if not found and FAKE not in table.labels:
        raise DataLayoutError(
            "--synth-augment found no face landmarks in the real training images, and the train "
            "part holds no fake faces; check the face crops or add fake videos"
        )
    return found


def _steps_per_epoch(sampler: EpochSampler, batch_size: int) -> int:
    """Optimizer steps of one epoch of this process's shard (a last 1-image batch is dropped)."""
    if sampler.shard_size >= batch_size:
        return sampler.shard_size // batch_size
    return math.ceil(sampler.shard_size / batch_size)


def _epoch_data(
    c: TrainConfig,
    sampler: EpochSampler,
    norm,
    train_table: SampleTable,
    val_table: SampleTable,
    landmarks: dict | None,
) -> EpochData:
    """The training set (flips, crops, self-blends), the validation set and the sharded sampler."""
    train_set = FaceDataset(
        train_table,
        c.img_size,
        norm,
        train=True,
        hflip=c.hflip,
        synth_augment=_synthesizer(c) if c.synth_augment else False,
        landmarks=landmarks,
        seed=c.seed,
        crop_size=c.crop_size,
    )
    val_set = FaceDataset(val_table, c.img_size, norm, train=False)
    drop_last = sampler.shard_size >= c.batch_size  # no 1-image BatchNorm batches
    return EpochData(train_set, val_set, sampler, drop_last, _steps_per_epoch(sampler, c.batch_size))


def _synthesizer(config: TrainConfig):
    from acglab.synth import SelfBlendAugment

    return SelfBlendAugment(p=config.synth_p, parts=config.synth_parts)


def _loader(dataset, sampler, config: TrainConfig, device: torch.device, seed: int, drop_last: bool) -> DataLoader:
    g = torch.Generator()
    g.manual_seed(seed)  # worker seeds come from here, never from the global generator
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        sampler=sampler,
        num_workers=config.num_workers,
        drop_last=drop_last,
        pin_memory=device.type == "cuda",
        generator=g,
    )


def _epoch_row(position: Position, trainer: Trainer, ctx: dist_.Context, images: int, seconds: float) -> dict:
    sums = dist_.mean_over_ranks(position.sums, ctx) if position.sums else {}
    n = max(sums.pop("n", 0.0), 1.0)
    if CROSS_REPLACED in sums:  # the epoch's share of replaced samples whose partner had the other label
        cross, replaced = sums.pop(CROSS_REPLACED), sums.get("ot_replaced", 0.0)
        sums["ot_cross_class"] = n * cross / replaced if replaced > 0 else 0.0
    row = {"epoch": position.epoch + 1, "step": position.step, "lr": trainer.scheduler.get_last_lr()[0]}
    row.update({f"train_{k if k != 'total' else 'loss'}": v / n for k, v in sums.items()})
    row["seconds"] = seconds
    row["images_per_second"] = images / seconds if seconds > 0 else float("nan")
    return row


def _epoch_line(row: dict) -> str:
    metrics = [f"{k[4:]} {row[k]:.4f}" for k in ("val_frame_auc", "val_video_auc") if k in row]
    return (
        f"epoch {row['epoch']}: loss {row.get('train_loss', float('nan')):.4f}"
        + (f", {', '.join(metrics)}" if metrics else "")
        + f", {row['images_per_second']:.1f} img/s"
    )


def _summary(opts: RunOptions, trainer: Trainer, wall: float, images: int, stopped: bool) -> dict:
    c, ctx, pos, data = opts.config, trainer.ctx, trainer.position, trainer.data_info
    return {
        "run_dir": str(opts.run_dir),
        "finished": pos.epoch >= c.epochs,
        "stopped_at_max_steps": bool(stopped),
        "epochs": pos.epoch,
        "steps": pos.step,
        "best": {"metric": pos.best_metric, "value": pos.best_auc, "epoch": pos.best_epoch},
        "last": pos.history[-1] if pos.history else None,
        "history": pos.history,
        "wall_seconds": wall,
        "images_per_second": images / wall if wall > 0 else None,
        "device": str(ctx.device),
        "world_size": ctx.world_size,
        "rank": ctx.rank,
        "amp": trainer.amp,
        "train_samples": data["train_samples"],
        "val_samples": data["val_samples"],
        "config": c.to_dict(),
        "model": trainer.model.config,
    }
