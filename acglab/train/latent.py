"""Training the latent models (:mod:`acglab.models.latent`) with the detector's conventions.

One entry point, :func:`train_latent`, for the autoencoder, the VAE and the clustering VAE:

1. **Setup**: seed, hold out ``val_fraction`` of the images (seeded), build the model, Adam.
2. **Resume** (``resume=True``): ``RUN_DIR/last.pt`` restores the weights, Adam, the position
   inside the epoch, the history and the generator states; the run continues as if it had not
   stopped (each epoch's order is drawn from ``seed`` and the epoch number).
3. **Epochs**: minibatches of the model's loss (:mod:`acglab.losses.latent`, thesis eq. 1.1 for
   the clustering VAE) with the KL weight ``beta``; ``last.pt`` every ``checkpoint_every``
   steps and at the end of each epoch, written atomically (``weights_only`` checkpoints of
   :mod:`acglab.models.checkpoint`); the held-out loss after each epoch goes to ``log.csv``,
   and ``best.pt`` is the epoch with the lowest one.
4. **End**: ``summary.json``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from acglab.data.arrays import ImageArray
from acglab.errors import AcglabError, CheckpointError
from acglab.fileio import copy_atomic
from acglab.train.runlog import RunLog, write_json_atomic
from acglab.train.seeding import rng_state, seed_everything, set_rng_state

LAST, BEST = "last.pt", "best.pt"


@dataclass
class LatentConfig:
    """Settings of a latent-model run.

    model : ``"ae"``, ``"vae"`` or ``"gmvae"`` (the clustering VAE of thesis eq. 1.1)
    img_size : image side (digits are 8 px whatever is set); latent_dim : code size
    k : clusters of the clustering VAE; base : channels after the first halving
    pretrain_epochs : the clustering VAE's first epochs train it as a plain autoencoder, after
        which k-means of the codes sets the cluster centres (VaDE's initialisation; without it
        the clusters collapse onto a few); ``None``: a third of ``epochs``
    epochs, batch_size, lr : Adam's schedule; beta : weight of the KL term(s)
    val_fraction : share of images held out to choose ``best.pt``
    seed : split, initial weights, order and the VAEs' sampling noise
    checkpoint_every : also save ``last.pt`` every this many steps (0 = epoch ends only)
    """

    model: str = "vae"
    img_size: int = 64
    latent_dim: int = 32
    k: int = 10
    pretrain_epochs: int | None = None
    base: int = 32
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    beta: float = 1.0
    val_fraction: float = 0.1
    seed: int = 0
    checkpoint_every: int = 200

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def check(self) -> LatentConfig:
        from acglab.models.latent import LATENT_MODELS

        problems = [
            (self.model not in LATENT_MODELS, f"model must be one of {', '.join(LATENT_MODELS)}, got {self.model!r}"),
            (self.latent_dim < 1, f"latent_dim must be at least 1, got {self.latent_dim}"),
            (self.model == "gmvae" and self.k < 2, f"the clustering VAE needs k >= 2 clusters, got {self.k}"),
            (self.epochs < 1, f"epochs must be at least 1, got {self.epochs}"),
            (
                self.pretrain_epochs is not None and not 0 <= self.pretrain_epochs < self.epochs,
                f"pretrain_epochs must lie in [0, epochs), got {self.pretrain_epochs}",
            ),
            (self.batch_size < 2, f"batch size must be at least 2, got {self.batch_size}"),
            (not self.lr > 0, f"learning rate must be positive, got {self.lr}"),
            (self.beta < 0, f"beta must be non-negative, got {self.beta}"),
            (not 0 <= self.val_fraction < 1, f"val_fraction must lie in [0, 1), got {self.val_fraction}"),
        ]
        for bad, message in problems:
            if bad:
                raise AcglabError(message)
        return self


def model_config(config: LatentConfig, data: ImageArray) -> dict:
    """The model settings of a run on ``data`` (its channels and side)."""
    return {
        "model": config.model,
        "channels": data.channels,
        "img_size": data.side,
        "latent_dim": config.latent_dim,
        "base": config.base,
        "k": config.k if config.model == "gmvae" else None,
    }


def pretrain_epochs(config: LatentConfig) -> int:
    """Epochs the clustering VAE trains as an autoencoder before its centres are set (0 for the others)."""
    if config.model != "gmvae":
        return 0
    return config.epochs // 3 if config.pretrain_epochs is None else config.pretrain_epochs


@torch.no_grad()
def encode_all(model, data: ImageArray, index: np.ndarray | None = None, batch_size: int = 256) -> torch.Tensor:
    """The codes of the images ``index`` (all by default), (N, latent_dim), model in eval mode."""
    was = model.training
    model.eval()
    index = np.arange(len(data)) if index is None else index
    try:
        return torch.cat(
            [
                model.encode(torch.from_numpy(data.batch(index[i : i + batch_size])))
                for i in range(0, len(index), batch_size)
            ]
        )
    finally:
        model.train(was)


def holdout(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, val)`` indices: ``round(fraction * n)`` images drawn at random (seeded) are held out."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(fraction * n))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """The minibatches of one epoch: a permutation drawn from ``(seed, epoch)``; a last batch of
    one image is dropped (BatchNorm needs two)."""
    order = np.random.default_rng([seed, epoch]).permutation(n)
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    return [b for b in batches if len(b) > 1]


@torch.no_grad()
def mean_loss(
    model, data: ImageArray, index: np.ndarray, beta: float, batch_size: int = 256, pretraining: bool = False
) -> dict[str, float]:
    """The loss parts averaged over the images ``index`` (model in eval mode, fixed noise)."""
    from acglab.models.latent.models import reconstruction_loss

    was = model.training
    model.eval()
    sums, n = {}, 0
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(0)
    try:
        for i in range(0, len(index), batch_size):
            idx = index[i : i + batch_size]
            x = torch.from_numpy(data.batch(idx))
            _, parts = reconstruction_loss(model, x) if pretraining else model.loss(x, beta)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v * len(idx)
            n += len(idx)
    finally:
        torch.random.set_rng_state(gen_state)
        model.train(was)
    return {k: v / max(n, 1) for k, v in sums.items()}


@dataclass
class _LatentRun:
    """What a latent training run carries from step to step."""

    config: LatentConfig
    data: ImageArray
    run_dir: Path
    model: object
    optimizer: object
    train_idx: np.ndarray
    val_idx: np.ndarray
    state: dict
    log: object = None

    def save(self, best: bool = False) -> None:
        """``last.pt`` (atomically), copied to ``best.pt`` when ``best``."""
        from acglab.models.checkpoint import save_checkpoint

        extra = {**self.state, "latent_config": self.config.to_dict(), "rng": rng_state(self.model)}
        path = save_checkpoint(self.run_dir / LAST, self.model, self.optimizer, **extra)
        if best:
            copy_atomic(path, self.run_dir / BEST)


def _start_latent_run(config: LatentConfig, data: ImageArray, run_dir: Path, resume: bool) -> _LatentRun:
    """A new run in ``run_dir``, or the one saved there when ``resume`` (same settings only)."""
    from acglab.models.checkpoint import load_checkpoint, load_weights
    from acglab.models.latent import build_latent_model

    if resume and not (run_dir / LAST).is_file():
        raise CheckpointError(f"{run_dir} holds no {LAST} to resume; start without --resume")
    if not resume and (run_dir / LAST).exists():
        raise AcglabError(
            f"{run_dir} already holds a training run; pass --resume to continue it or choose another --out"
        )
    if len(data) < 4:
        raise AcglabError(f"{len(data)} images are too few to train a latent model")
    train_idx, val_idx = holdout(len(data), config.val_fraction, config.seed)
    seed_everything(config.seed)
    model = build_latent_model(model_config(config, data))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    state = {"epoch": 0, "batch": 0, "step": 0, "sums": {}, "history": [], "best": None, "best_epoch": None}
    if resume:
        ckpt = load_checkpoint(run_dir / LAST)
        saved = (ckpt.get("state") or {}).get("latent_config") or {}
        changed = [k for k in saved if k not in ("epochs", "checkpoint_every") and saved[k] != config.to_dict().get(k)]
        if changed:
            raise CheckpointError(
                f"{run_dir / LAST} was trained with other settings ({', '.join(changed)}); "
                "resume with the same settings or start a new run folder"
            )
        load_weights(model, ckpt)
        optimizer.load_state_dict(ckpt["optimizer"])
        state.update({k: ckpt["state"][k] for k in state})
        set_rng_state(ckpt["state"]["rng"], model)
    return _LatentRun(config, data, run_dir, model, optimizer, train_idx, val_idx, state)


def _latent_steps(run: _LatentRun, batches: list, pretraining: bool, max_steps: int | None, progress: bool) -> bool:
    """The remaining steps of the current epoch; True when ``max_steps`` stopped it early."""
    from acglab.models.latent.models import reconstruction_loss

    config, state, sums = run.config, run.state, run.state["sums"]
    bar = tqdm(
        batches[state["batch"] :],
        desc=f"epoch {state['epoch'] + 1}/{config.epochs}",
        unit="batch",
        disable=not progress,
        leave=False,
    )
    try:
        for b in bar:
            x = torch.from_numpy(run.data.batch(run.train_idx[b]))
            run.optimizer.zero_grad(set_to_none=True)
            loss, parts = reconstruction_loss(run.model, x) if pretraining else run.model.loss(x, config.beta)
            if not math.isfinite(parts["total"]):
                raise AcglabError(
                    f"the loss became {parts['total']} at step {state['step'] + 1}; lower the learning rate"
                )
            loss.backward()
            run.optimizer.step()
            state["batch"] += 1
            state["step"] += 1
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.set_postfix(loss=f"{parts['total']:.2f}")
            if max_steps is not None and state["step"] >= max_steps:
                return True
            if config.checkpoint_every and state["step"] % config.checkpoint_every == 0:
                run.save()
        return False
    finally:
        bar.close()


def _end_latent_epoch(run: _LatentRun, n_batches: int, pretraining: bool, seconds: float, progress: bool) -> None:
    """Validate, keep the best epoch, save and log (the VaDE centres after the last pretraining epoch)."""
    config, state = run.config, run.state
    if pretraining and state["epoch"] + 1 == pretrain_epochs(config):  # VaDE: centres from k-means of the codes
        run.model.init_centres(encode_all(run.model, run.data, run.train_idx), seed=config.seed)
    row = {
        "epoch": state["epoch"] + 1,
        "step": state["step"],
        "phase": "pretrain" if pretraining else "train",
        **{f"train_{k}": v / max(n_batches, 1) for k, v in state["sums"].items()},
        "seconds": seconds,
    }
    if len(run.val_idx):
        row.update(
            {
                f"val_{k}": v
                for k, v in mean_loss(run.model, run.data, run.val_idx, config.beta, pretraining=pretraining).items()
            }
        )
    key = "val_total" if len(run.val_idx) else "train_total"
    better = not pretraining and (state["best"] is None or row[key] < state["best"])
    if better:
        state["best"], state["best_epoch"] = row[key], row["epoch"]
    state["history"] = state["history"] + [row]
    state["epoch"], state["batch"], state["sums"] = state["epoch"] + 1, 0, {}
    run.save(best=better)
    run.log.epoch(state["history"])
    if progress:
        tqdm.write(
            f"epoch {row['epoch']}: loss {row['train_total']:.3f}"
            + (f", val {row['val_total']:.3f}" if "val_total" in row else "")
        )


def train_latent(
    config: LatentConfig,
    data: ImageArray,
    run_dir,
    *,
    resume: bool = False,
    progress: bool = True,
    max_steps: int | None = None,
    config_extra: dict | None = None,
) -> dict:
    """Train the latent model ``config`` describes on ``data`` into ``run_dir`` (module notes).

    Returns the summary dict (also ``run_dir/summary.json``)."""
    config = config.check()
    run = _start_latent_run(config, data, Path(run_dir).expanduser(), resume)
    state = run.state
    run.log = RunLog(run.run_dir)
    run.log.json(
        "config.json",
        {
            **(config_extra or {}),
            "latent": config.to_dict(),
            "model": run.model.config,
            "data": {"source": data.source, "images": len(data), "train": len(run.train_idx), "val": len(run.val_idx)},
        },
    )
    run.model.train()
    started = time.perf_counter()
    try:
        while state["epoch"] < config.epochs:
            batches = epoch_batches(len(run.train_idx), config.batch_size, config.seed, state["epoch"])
            pretraining, t0 = state["epoch"] < pretrain_epochs(config), time.perf_counter()
            if _latent_steps(run, batches, pretraining, max_steps, progress):
                if state["batch"] < len(batches):
                    run.save()
                    break
            _end_latent_epoch(run, len(batches), pretraining, time.perf_counter() - t0, progress)
            if max_steps is not None and state["step"] >= max_steps:
                break
    finally:
        run.log.close()
    summary = {
        "run_dir": str(run.run_dir),
        "finished": state["epoch"] >= config.epochs,
        "epochs": state["epoch"],
        "steps": state["step"],
        "best": {
            "metric": "val_total" if len(run.val_idx) else "train_total",
            "value": state["best"],
            "epoch": state["best_epoch"],
        },
        "history": state["history"],
        "wall_seconds": time.perf_counter() - started,
        "config": config.to_dict(),
        "model": run.model.config,
    }
    write_json_atomic(run.run_dir / "summary.json", summary)
    return summary


def latent_model_from_checkpoint(path, map_location="cpu"):
    """The latent model saved at ``path`` (eval mode); a detector's checkpoint is refused with one line."""
    from acglab.models.checkpoint import load_checkpoint, load_weights
    from acglab.models.latent import KIND, build_latent_model

    ckpt = load_checkpoint(path, map_location)
    if ckpt["config"].get("kind") != KIND:
        raise CheckpointError(
            f"{path} holds a detector ({ckpt['config'].get('arch')!r}), not a latent model; "
            "train one with `acglab latent train`"
        )
    model = build_latent_model(ckpt["config"])
    load_weights(model, ckpt)
    return model.eval()


def run_key(config: LatentConfig, data: ImageArray) -> str:
    """A short hash of a run's settings and its data (source, size, first image ids)."""
    import hashlib
    import json

    blob = json.dumps(
        {"config": config.to_dict(), "source": data.source, "n": len(data), "side": data.side, "first": data.ids[:3]},
        sort_keys=True,
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def cached_latent_model(config: LatentConfig, data: ImageArray, root=None, progress: bool = False):
    """``(model, run_dir)``: the latent model of ``config`` trained on ``data``, taken from
    ``root/<model>-<run_key>`` (default root: the acglab cache's ``latent`` folder) when that run
    finished, resumed when it was interrupted, trained otherwise."""
    import json

    from acglab.paths import cache_dir

    run_dir = Path(root or cache_dir() / "latent") / f"{config.model}-{run_key(config, data)}"
    summary = run_dir / "summary.json"
    if not (summary.is_file() and json.loads(summary.read_text()).get("finished")):
        train_latent(config, data, run_dir, resume=(run_dir / LAST).is_file(), progress=progress)
    return latent_model_from_checkpoint(run_dir / BEST), run_dir
