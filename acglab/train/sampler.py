"""The order in which training samples are visited: seeded per epoch, sharded across processes,
and resumable in the middle of an epoch.

Epoch ``e`` visits the permutation ``torch.randperm(n, generator=seed + e)`` (or ``0 .. n-1``
without shuffling), padded by repeating its head to a multiple of the number of processes ``W``;
process ``r`` takes positions ``r, r + W, r + 2W, ...``. This is exactly the order of
``torch.utils.data.DistributedSampler(shuffle, seed, drop_last=False)``, so the data order does
not depend on whether one or several processes train. :meth:`EpochSampler.set_epoch` with
``start = k`` skips the first ``k`` indices of the shard: a run resumed after ``b`` batches
continues with batch ``b + 1`` of the same order.
"""

from __future__ import annotations

import math

import torch
from torch.utils.data import Sampler


def epoch_order(
    n: int, epoch: int, seed: int = 0, shuffle: bool = True, rank: int = 0, world_size: int = 1
) -> list[int]:
    """Indices visited by process ``rank`` of ``world_size`` in ``epoch`` (see the module docstring)."""
    if shuffle:
        g = torch.Generator()
        g.manual_seed(int(seed) + int(epoch))
        order = torch.randperm(n, generator=g).tolist()
    else:
        order = list(range(n))
    total = math.ceil(n / world_size) * world_size
    while len(order) < total:  # pad by repeating the head, as DistributedSampler does
        order += order[: total - len(order)]
    return order[rank:total:world_size]


class EpochSampler(Sampler[int]):
    """A seeded, sharded, resumable sampler over ``range(n)``; see the module docstring.

    Parameters
    ----------
    n : number of samples
    seed : order of epoch ``e`` is drawn with seed ``seed + e``
    shuffle : ``False`` visits ``0 .. n-1`` in order (validation)
    rank, world_size : this process and the number of processes
    """

    def __init__(self, n: int, seed: int = 0, shuffle: bool = True, rank: int = 0, world_size: int = 1):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must lie in [0, {world_size}), got {rank}")
        self.n, self.seed, self.shuffle = int(n), int(seed), bool(shuffle)
        self.rank, self.world_size = int(rank), int(world_size)
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Visit epoch ``epoch``'s order from its ``start``-th index on (``start`` = indices already seen)."""
        self.epoch, self.start = int(epoch), int(start)

    @property
    def shard_size(self) -> int:
        """Indices per process and epoch: ``ceil(n / world_size)``."""
        return math.ceil(self.n / self.world_size)

    def __iter__(self):
        order = epoch_order(self.n, self.epoch, self.seed, self.shuffle, self.rank, self.world_size)
        return iter(order[self.start :])

    def __len__(self) -> int:
        return max(self.shard_size - self.start, 0)
