"""Training the ACG detector (thesis chapter 2): presets, data pipeline, loop, resume, DDP.

Modules, in the order a run uses them:

- :mod:`~acglab.train.presets`: :class:`TrainConfig` and the ``"quick"``/``"full"`` presets;
- :mod:`~acglab.train.options`: :class:`RunOptions`, what one run needs besides its config;
- :mod:`~acglab.train.checks`: can a training part train the model?
- :mod:`~acglab.data.tensors` (the data layer): :class:`FaceDataset` (images -> normalised
  tensors, flips, self-blends);
- :mod:`~acglab.train.landmarks`: face landmarks for the self-blending augmentation;
- :mod:`~acglab.train.sampler`: the seeded, sharded, resumable order of training samples;
- :mod:`~acglab.train.seeding`: seeds and generator states;
- :mod:`~acglab.train.distributed`: ``torchrun`` / DDP;
- :mod:`~acglab.train.trainer`: :class:`Trainer`, the model, optimiser and one step (eq. 2.7);
- :mod:`~acglab.train.loop`: :func:`train`, the loop itself: an epoch of steps, the end of an epoch;
- :mod:`~acglab.train.validation`, :mod:`~acglab.train.resume`, :mod:`~acglab.train.runlog`.

``acglab train`` (:mod:`acglab.cli.train`) is the command line. Heavy modules load on first use::

    from acglab.train import preset, train
    summary = train(preset("quick"), train_table, val_table, "runs/quick")
"""

from __future__ import annotations

from acglab.lazy import lazy_getattr

_LAZY = {
    "TrainConfig": "acglab.train.presets",
    "PRESETS": "acglab.train.presets",
    "preset": "acglab.train.presets",
    "FaceDataset": "acglab.data.tensors",
    "EpochSampler": "acglab.train.sampler",
    "train": "acglab.train.loop",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY, globals())
