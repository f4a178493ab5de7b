"""The training loop of the ACG detector: :func:`train`.

Read top to bottom, one run is:

1. **Setup**: join the process group when started by ``torchrun`` (:mod:`acglab.train.distributed`),
   seed everything, build the model (:func:`acglab.models.build_model`), Adam (lr 2e-4, weight
   decay 1e-5), StepLR (stepped once per optimizer step) and, on CUDA, mixed precision
   (``torch.autocast`` + ``GradScaler``).
2. **Resume** (``resume=True``): load ``RUN_DIR/last.pt`` and restore the model, optimizer,
   scheduler, GradScaler, the position inside the epoch, the history, the best metric and every
   generator state, so the run continues as if it had never stopped.
3. **Epochs**: each optimizer step minimises L = L_cls + lambda_r L_r + lambda_m L_m (thesis
   eq. 2.7, :func:`acglab.losses.acg_loss`; plain BCE for ``arch="backbone"``). The ACG model
   with an OT module also gets the batch labels (its bank keeps them: ``same_class`` option,
   ``cross_class`` diagnostic); the epoch's ``train_ot_replaced`` is the mean share of replaced
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
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from acglab.data.samples import FAKE, SampleTable
from acglab.errors import AcglabError, CheckpointError, DataLayoutError
from acglab.train import distributed as dist_
from acglab.train.ema import ema_copy, ema_decay, ema_update
from acglab.train.data import FaceDataset, check_training_table, require_images, select_frames
from acglab.train.runlog import RunLog
from acglab.train.presets import TrainConfig, check_config
from acglab.fileio import copy_atomic
from acglab.train.resume import Position, require_same_config
from acglab.train.sampler import EpochSampler
from acglab.train.seeding import deterministic_mode, rng_state, seed_everything, set_rng_state
from acglab.train.validation import calibration_of, improved, model_selection_metric, validate

LAST, BEST = "last.pt", "best.pt"
#: seed offset between processes (each draws its own noise and augmentations)
RANK_SEED_STRIDE = 1_000_003
#: per-step part summed for the epoch's train_ot_cross_class (no column or scalar of its own)
CROSS_REPLACED = "ot_cross_replaced"
#: model options of the ACG parts (noise, decoder, OT module) that the plain backbone does not have
ACG_ONLY_OPTIONS = ("noise_std", "noise_prob", "decoder_channels", "ot")


def model_options(config: TrainConfig) -> dict:
    """The options :func:`acglab.models.build_model` gets: ``config.model_options``, less the ACG-only
    ones for ``arch="backbone"`` (so one preset drives all three architectures)."""
    options = dict(config.model_options)
    if config.arch == "backbone":
        options = {k: v for k, v in options.items() if k not in ACG_ONLY_OPTIONS}
    return options


def parameter_groups(model: torch.nn.Module, lr: float, backbone_lr: float | None) -> list[dict]:
    """Adam's parameter groups: one group at ``lr`` when ``backbone_lr`` is ``None``, otherwise
    the backbone (``model.encoder``) at ``backbone_lr`` and every other weight at ``lr``."""
    if backbone_lr is None:
        return [{"params": list(model.parameters()), "lr": lr}]
    encoder = list(model.encoder.parameters())
    ids = {id(p) for p in encoder}
    return [{"params": encoder, "lr": backbone_lr},
            {"params": [p for p in model.parameters() if id(p) not in ids], "lr": lr}]


class Trainer:
    """The objects of one run (model, optimizer, ...) and its :class:`Position`."""

    def __init__(self, config: TrainConfig, ctx: dist_.Context, run_dir: Path):
        from acglab.models import build_model
        from acglab.models.acg import ACGDetector

        self.config, self.ctx, self.run_dir = config, ctx, run_dir
        c = config
        seed_everything(c.seed)  # identical initial weights on every process
        self.model = build_model(c.arch, c.backbone, c.pretrained, c.img_size, **model_options(c)).to(ctx.device)
        if c.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(parameter_groups(self.model, c.lr, c.backbone_lr), lr=c.lr,
                                          weight_decay=c.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=c.step_size, gamma=c.gamma)
        self.amp = (ctx.device.type == "cuda") if c.amp is None else bool(c.amp)
        self.amp_dtype = torch.float16 if ctx.device.type == "cuda" else torch.bfloat16
        self.scaler = torch.amp.GradScaler(ctx.device.type, enabled=self.amp and self.amp_dtype == torch.float16)
        self.ema = ema_copy(self.model) if c.ema_decay else None
        self.position = Position()
        self.ddp_model = self.model  # wrapped by start(), after a resume has loaded the weights
        self.uses_labels = isinstance(self.model, ACGDetector) and self.model.ot is not None
        #: the temperature fitted by the latest validation of the current weights (None once they train on)
        self.calibration: dict | None = None
        #: what the run trains on (samples, dataset root), kept in checkpoints for reports
        self.data_info: dict | None = None

    @property
    def eval_model(self) -> torch.nn.Module:
        """The weights validation scores and checkpoints offer for inference: the weight average
        when ``ema_decay`` is set (:mod:`acglab.train.ema`), otherwise the trained model."""
        return self.ema if self.ema is not None else self.model

    # --- mixed precision ----------------------------------------------------------------
    def autocast(self):
        """``torch.autocast`` on this device (float16 on CUDA, bfloat16 on CPU), when enabled."""
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.ctx.device.type, dtype=self.amp_dtype)

    # --- checkpoints ----------------------------------------------------------------------
    def save(self, best: bool = False) -> None:
        """``last.pt`` (and ``best.pt``) of the current state; the generator states of every
        process are gathered, so all processes must call this together."""
        from acglab.models.checkpoint import save_checkpoint

        rngs = dist_.gather(rng_state(self.model), self.ctx)
        if not self.ctx.is_main:
            return
        p = self.position
        state = {**p.to_state(), "rng": rngs, "world_size": self.ctx.world_size,
                 "train_config": self.config.to_dict(), "finished": p.epoch >= self.config.epochs}
        if self.calibration is not None:
            state["calibration"] = self.calibration
        if self.data_info is not None:
            state["data"] = self.data_info
        path = save_checkpoint(self.run_dir / LAST, self.model, self.optimizer, self.scheduler, self.scaler,
                               ema=self.ema, **state)
        if best:
            copy_atomic(path, self.run_dir / BEST)

    def restore(self, path: Path) -> None:
        """Load the run saved at ``path`` (model, optimizer, scheduler, scaler, position, RNG)."""
        from acglab.models.checkpoint import load_checkpoint, load_weights

        ckpt = load_checkpoint(path, map_location="cpu")  # RNG states must stay on the CPU
        state = ckpt.get("state") or {}
        require_same_config(state.get("train_config") or {}, self.config.to_dict(), path)
        load_weights(self.model, ckpt)
        if self.ema is not None:
            load_weights(self.ema, ckpt, average=True)
        try:
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.scheduler.load_state_dict(ckpt["scheduler"])
            if self.scaler.is_enabled() and ckpt.get("scaler"):
                self.scaler.load_state_dict(ckpt["scaler"])
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            raise CheckpointError(f"{path} holds no usable optimizer/scheduler state ({type(err).__name__}); "
                                  "it was not written by `acglab train`") from None
        self.position = Position.from_state(state)
        rngs = state.get("rng") or []
        if rngs:  # the same number of processes continues exactly; another reuses rank 0's states
            set_rng_state(rngs[self.ctx.rank] if len(rngs) == self.ctx.world_size else rngs[0], self.model)

    # --- one optimizer step ----------------------------------------------------------------
    def step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """Forward, loss (thesis eq. 2.7), backward, Adam and StepLR steps; returns the loss parts."""
        from acglab.losses import acg_loss, bce_loss

        c = self.config
        self.calibration = None  # the weights change: the last fit no longer applies
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            # the OT module keeps the labels with its bank (same_class option, cross_class diagnostic)
            out = self.ddp_model(images, labels=labels) if self.uses_labels else self.ddp_model(images)
            if c.arch == "backbone":
                total = bce_loss(out, labels, c.flood)
                parts = {"cls": float(total.detach()), "total": float(total.detach())}
            else:
                total, parts = acg_loss(out, images, labels, c.lambda_r, c.lambda_m, c.flood)
        if not math.isfinite(parts["total"]):
            raise AcglabError(f"the training loss became {parts['total']} at step {self.position.step + 1}; "
                              "lower the learning rate or check the data")
        self.scaler.scale(total).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        if self.ema is not None:
            ema_update(self.ema, self.model, ema_decay(self.position.step + 1, c.ema_decay))
        if out.ot:
            parts["ot_replaced"] = float(out.ot.get("replaced", 0)) / images.shape[0]
            if "cross_class" in out.ot:
                parts["ot_cross_class"] = float(out.ot["cross_class"])
                # replaced samples with a partner of the other label, per batch sample: the epoch's
                # ot_cross_class is its sum over the sum of ot_replaced (see _epoch_row)
                parts[CROSS_REPLACED] = parts["ot_cross_class"] * parts["ot_replaced"]
        return parts


def _loader(dataset, sampler, config: TrainConfig, device: torch.device, seed: int, drop_last: bool) -> DataLoader:
    g = torch.Generator()
    g.manual_seed(seed)  # worker seeds come from here, never from the global generator
    return DataLoader(dataset, batch_size=config.batch_size, sampler=sampler, num_workers=config.num_workers,
                      drop_last=drop_last, pin_memory=device.type == "cuda", generator=g)


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
    config = check_config(config)
    run_dir = Path(run_dir).expanduser()
    if max_steps is not None and max_steps < 1:
        raise AcglabError(f"max steps must be at least 1, got {max_steps}")
    if resume and not (run_dir / LAST).is_file():
        raise CheckpointError(f"{run_dir} holds no {LAST} to resume; start without --resume")
    if not resume and (run_dir / LAST).exists():
        raise AcglabError(f"{run_dir} already holds a training run; pass --resume to continue it or choose another --out")
    train_table = select_frames(train_table, config.frames_per_video)
    val_table = select_frames(val_table, config.frames_per_video)
    check_training_table(train_table, config.arch, config.synth_augment)
    if len(val_table):
        require_images(val_table, "val")
    ctx = dist_.setup(device)
    try:
        return _run(config, ctx, train_table, val_table, run_dir, resume, max_steps, landmarks, data_root,
                    progress, on_step, config_extra or {})
    finally:
        dist_.teardown(ctx)


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
        raise DataLayoutError("--synth-augment found no face landmarks in the real training images, and the train "
                              "part holds no fake faces; check the face crops or add fake videos")
    return found


def _run(config, ctx, train_table, val_table, run_dir, resume, max_steps, landmarks, data_root, progress, on_step,
         config_extra):
    c = config
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    if c.deterministic:
        deterministic_mode(True)
    try:
        return _run_epochs(c, ctx, train_table, val_table, run_dir, resume, max_steps, landmarks, data_root,
                           progress, on_step, config_extra)
    finally:
        if c.deterministic and not was_deterministic:
            deterministic_mode(False)


def _run_epochs(c, ctx, train_table, val_table, run_dir, resume, max_steps, landmarks, data_root, progress, on_step,
                config_extra):
    bars = sys.stderr.isatty() if progress is None else bool(progress)
    landmarks = _training_landmarks(c, ctx, train_table, landmarks, data_root, bars)
    trainer = Trainer(c, ctx, run_dir)
    if resume:
        trainer.restore(run_dir / LAST)
    elif ctx.rank:
        seed_everything(c.seed + RANK_SEED_STRIDE * ctx.rank)
    trainer.ddp_model = dist_.wrap(trainer.model, ctx)
    pos = trainer.position
    log = RunLog(run_dir, enabled=ctx.is_main, purge_step=pos.step + 1 if resume else None)
    data = {"train_samples": len(train_table), "val_samples": len(val_table),
            "root": str(data_root) if data_root else None}
    trainer.data_info = data
    if not resume:
        log.json("config.json", {**config_extra, "train": c.to_dict(), "model": trainer.model.config, "data": data})

    norm = trainer.model.normalization
    train_set = FaceDataset(train_table, c.img_size, norm, train=True, hflip=c.hflip,
                            synth_augment=_synthesizer(c) if c.synth_augment else False, landmarks=landmarks, seed=c.seed,
                            crop_size=c.crop_size)
    val_set = FaceDataset(val_table, c.img_size, norm, train=False)
    sampler = EpochSampler(len(train_set), seed=c.seed, shuffle=True, rank=ctx.rank, world_size=ctx.world_size)
    drop_last = sampler.shard_size >= c.batch_size  # no 1-image BatchNorm batches
    steps_per_epoch = sampler.shard_size // c.batch_size if drop_last else math.ceil(sampler.shard_size / c.batch_size)

    started, images_this_run, stopped = time.perf_counter(), 0, False
    try:
        while pos.epoch < c.epochs and not stopped:
            trainer.model.train()
            train_set.set_epoch(pos.epoch)
            sampler.set_epoch(pos.epoch, start=pos.batch * c.batch_size)
            loader = _loader(train_set, sampler, c, ctx.device, c.seed * 1000 + pos.epoch, drop_last)
            bar = tqdm(loader, total=steps_per_epoch, initial=pos.batch, desc=f"epoch {pos.epoch + 1}/{c.epochs}",
                       unit="batch", disable=not (bars and ctx.is_main), leave=False)
            t0, epoch_images = time.perf_counter(), 0
            for images, labels, _ in bar:
                images = images.to(ctx.device, non_blocking=True)
                labels = labels.to(ctx.device, non_blocking=True)
                if c.channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                parts = trainer.step(images, labels)
                pos.batch, pos.step = pos.batch + 1, pos.step + 1
                for k, v in {**parts, "n": 1.0}.items():
                    pos.sums[k] = pos.sums.get(k, 0.0) + v
                epoch_images += images.shape[0] * ctx.world_size
                bar.set_postfix(loss=f"{parts['total']:.4f}")
                if pos.step % c.log_every == 0:
                    shown = {k: v for k, v in parts.items() if k != CROSS_REPLACED}
                    log.scalars({**shown, "lr": trainer.scheduler.get_last_lr()[0]}, pos.step, prefix="step/")
                stopped = max_steps is not None and pos.step >= max_steps
                if c.checkpoint_every and pos.step % c.checkpoint_every == 0 and pos.batch < steps_per_epoch and not stopped:
                    pos.seconds += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    trainer.save()
                if on_step is not None:
                    on_step(pos.step, trainer.eval_model)
                if stopped:
                    break
            bar.close()
            pos.seconds += time.perf_counter() - t0
            images_this_run += epoch_images
            row = _epoch_row(pos, trainer, ctx, (pos.batch * c.batch_size) * ctx.world_size, pos.seconds)
            if stopped and pos.batch < steps_per_epoch:
                row["partial"] = True
            better = False
            dist_.sync_buffers(trainer.model, ctx)  # rank 0's BatchNorm statistics (and OT bank) everywhere
            if trainer.ema is not None:
                dist_.sync_buffers(trainer.ema, ctx)
            if len(val_set):
                row.update(validate(trainer.eval_model, val_set, ctx, c.batch_size, trainer.autocast, c.channels_last,
                                    c.num_workers))
                trainer.calibration = calibration_of(row)
                metric = model_selection_metric(row, pos.best_metric)
                better = improved(row[metric], pos.best_auc)
                if better:
                    pos.best_auc, pos.best_epoch, pos.best_metric = row[metric], row["epoch"], metric
            pos.history = [r for r in pos.history if r["epoch"] != row["epoch"]] + [row]
            if not row.get("partial"):
                pos.epoch, pos.batch, pos.sums, pos.seconds = pos.epoch + 1, 0, {}, 0.0
            trainer.save(best=better)
            log.epoch(pos.history)
            if progress is not False and ctx.is_main:
                tqdm.write(_epoch_line(row), file=sys.stderr)
    finally:
        log.close()
    wall = time.perf_counter() - started
    summary = _summary(c, ctx, trainer, pos, run_dir, wall, images_this_run, stopped and pos.epoch < c.epochs,
                       len(train_table), len(val_table))
    log.json("summary.json", summary)
    dist_.barrier(ctx)
    return summary


def _synthesizer(config: TrainConfig):
    from acglab.synth import SelfBlendAugment

    return SelfBlendAugment(p=config.synth_p, parts=config.synth_parts)


def _epoch_line(row: dict) -> str:
    metrics = [f"{k[4:]} {row[k]:.4f}" for k in ("val_frame_auc", "val_video_auc") if k in row]
    return (f"epoch {row['epoch']}: loss {row.get('train_loss', float('nan')):.4f}"
            + (f", {', '.join(metrics)}" if metrics else "") + f", {row['images_per_second']:.1f} img/s")


def _summary(c, ctx, trainer, pos, run_dir, wall, images, stopped, n_train, n_val) -> dict:
    return {
        "run_dir": str(run_dir),
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
        "train_samples": n_train,
        "val_samples": n_val,
        "config": c.to_dict(),
        "model": trainer.model.config,
    }
