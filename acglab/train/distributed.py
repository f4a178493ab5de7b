"""Multi-process data-parallel training (DDP) as started by ``torchrun``.

``torchrun --nproc_per_node=N -m acglab.cli train ...`` starts ``N`` processes and gives each
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (plus ``MASTER_ADDR``/``MASTER_PORT``) in its
environment. :func:`setup` reads them, joins the process group (NCCL on CUDA, gloo on CPU) and
picks the device (``cuda:LOCAL_RANK``). Without these variables it returns a single-process
context and nothing here communicates.

Each process trains on its own shard of every epoch (:class:`acglab.train.sampler.EpochSampler`);
DDP averages the gradients, so all processes hold identical weights after every step.

Buffers are per process between steps and DDP broadcasts rank 0's copy before every forward
pass. For BatchNorm this is the usual DDP behaviour (SyncBatchNorm on CUDA makes the batch
statistics global). For the OT module (:mod:`acglab.models.ot_module`), whose memory bank, fit
and counters are buffers, it means: the bank holds the features of rank 0's batches; each
process pushes its own batch on top, fits on refit steps and interpolates its own features
against that bank, and rank 0's state is what continues (and what checkpoints hold). The bank is
therefore not the union of all processes' features; with ``W`` processes it covers ``1 / W``
of each step's data. Before validation rank 0's buffers are copied to all processes
(:func:`sync_buffers`). Validation scores are gathered so every process computes the same
metrics; only rank 0 writes logs and checkpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from acglab.devices import resolve_device
from acglab.errors import AcglabError


@dataclass(frozen=True)
class Context:
    """Where this process trains: ``rank`` of ``world_size`` processes, on ``device``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs and writes checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def env_ranks(environ=os.environ) -> tuple[int, int, int]:
    """``(RANK, WORLD_SIZE, LOCAL_RANK)`` from the environment (``(0, 1, 0)`` when unset)."""
    try:
        world = int(environ.get("WORLD_SIZE", "1"))
        rank = int(environ.get("RANK", "0"))
        local = int(environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise AcglabError("RANK, WORLD_SIZE and LOCAL_RANK must be integers; start with torchrun") from None
    if world < 1 or not 0 <= rank < world:
        raise AcglabError(f"RANK={rank} does not fit WORLD_SIZE={world}; start with torchrun")
    return rank, world, local


def setup(device: str | None = "auto") -> Context:
    """The context of this process; joins the process group when ``WORLD_SIZE > 1``."""
    rank, world, local = env_ranks()
    dev = resolve_device(device, local)
    if world > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", rank=rank, world_size=world)
    return Context(rank, world, local, dev)


def teardown(ctx: Context) -> None:
    """Leave the process group (if this process joined one)."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: Context) -> None:
    if ctx.distributed:
        dist.barrier()


def wrap(model: torch.nn.Module, ctx: Context, sync_batchnorm: bool = True) -> torch.nn.Module:
    """``model`` in DistributedDataParallel when distributed (BatchNorm synchronised on CUDA)."""
    if not ctx.distributed:
        return model
    if sync_batchnorm and ctx.device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside a DDP wrapper (or the model itself)."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def gather(obj, ctx: Context) -> list:
    """``[obj of rank 0, obj of rank 1, ...]`` on every process (``[obj]`` when single)."""
    if not ctx.distributed:
        return [obj]
    out = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def mean_over_ranks(values: dict[str, float], ctx: Context) -> dict[str, float]:
    """Each value averaged over the processes (identical result on every process)."""
    if not ctx.distributed:
        return dict(values)
    gathered = gather(values, ctx)
    return {k: sum(g[k] for g in gathered) / len(gathered) for k in values}


def sync_buffers(model: torch.nn.Module, ctx: Context) -> None:
    """Copy rank 0's buffers (BatchNorm statistics, OT bank, ...) to every process."""
    if not ctx.distributed:
        return
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)
