"""The objects of one training run and its optimizer step: :class:`Trainer`.

A :class:`Trainer` holds the model (and its weight average), Adam, the learning-rate schedule, the GradScaler of
mixed precision and the run's :class:`~acglab.train.resume.Position`. It takes one optimizer
step (:meth:`Trainer.step`, thesis eq. 2.7), saves and restores whole runs (:meth:`Trainer.save`,
:meth:`Trainer.restore`); :func:`acglab.train.loop.train` drives it.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import torch

from acglab.errors import AcglabError, CheckpointError
from acglab.fileio import copy_atomic
from acglab.train import distributed as dist_
from acglab.train.ema import ema_copy, ema_decay, ema_update
from acglab.train.presets import TrainConfig
from acglab.train.resume import Position, require_same_config
from acglab.train.schedule import lr_scheduler
from acglab.train.seeding import rng_state, seed_everything, set_rng_state

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
    return [
        {"params": encoder, "lr": backbone_lr},
        {"params": [p for p in model.parameters() if id(p) not in ids], "lr": lr},
    ]


class Trainer:
    """The objects of one run (model, optimizer, ...) and its :class:`Position`."""

    def __init__(self, config: TrainConfig, ctx: dist_.Context, run_dir: Path, total_steps: int | None = None):
        from acglab.models import build_model
        from acglab.models.acg import ACGDetector

        self.config, self.ctx, self.run_dir = config, ctx, run_dir
        c = config
        seed_everything(c.seed)  # identical initial weights on every process
        self.model = build_model(c.arch, c.backbone, c.pretrained, c.img_size, **model_options(c)).to(ctx.device)
        if c.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(
            parameter_groups(self.model, c.lr, c.backbone_lr), lr=c.lr, weight_decay=c.weight_decay
        )
        # the cosine schedule runs over ``total_steps`` (all epochs' optimizer steps; default: step_size)
        self.scheduler = lr_scheduler(
            self.optimizer, c.lr_schedule, step_size=c.step_size, gamma=c.gamma, total_steps=total_steps or c.step_size
        )
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

    def start(self, resume: bool) -> None:
        """Ready to train: the run saved in ``RUN_DIR/last.pt`` restored (``resume``), or the
        generators of every process but the first reseeded, then the model wrapped for DDP."""
        if resume:
            self.restore(self.run_dir / LAST)
        elif self.ctx.rank:
            seed_everything(self.config.seed + RANK_SEED_STRIDE * self.ctx.rank)
        self.ddp_model = dist_.wrap(self.model, self.ctx)

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
        state = {
            **p.to_state(),
            "rng": rngs,
            "world_size": self.ctx.world_size,
            "train_config": self.config.to_dict(),
            "finished": p.epoch >= self.config.epochs,
        }
        if self.calibration is not None:
            state["calibration"] = self.calibration
        if self.data_info is not None:
            state["data"] = self.data_info
        path = save_checkpoint(
            self.run_dir / LAST, self.model, self.optimizer, self.scheduler, self.scaler, ema=self.ema, **state
        )
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
            raise CheckpointError(
                f"{path} holds no usable optimizer/scheduler state ({type(err).__name__}); "
                "it was not written by `acglab train`"
            ) from None
        self.position = Position.from_state(state)
        rngs = state.get("rng") or []
        if rngs:  # the same number of processes continues exactly; another reuses rank 0's states
            set_rng_state(rngs[self.ctx.rank] if len(rngs) == self.ctx.world_size else rngs[0], self.model)

    # --- one optimizer step ----------------------------------------------------------------
    def step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """Forward, loss (thesis eq. 2.7), backward, Adam and learning-rate schedule steps; returns the loss parts."""
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
            raise AcglabError(
                f"the training loss became {parts['total']} at step {self.position.step + 1}; "
                "lower the learning rate or check the data"
            )
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
                # ot_cross_class is its sum over the sum of ot_replaced (see acglab.train.loop._epoch_row)
                parts[CROSS_REPLACED] = parts["ot_cross_class"] * parts["ot_replaced"]
        return parts
