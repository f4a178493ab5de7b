"""What one call of :func:`acglab.train.loop.train` asks for: :class:`RunOptions`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from acglab.errors import AcglabError, CheckpointError
from acglab.train.presets import TrainConfig, check_config
from acglab.train.trainer import LAST


@dataclass(frozen=True)
class RunOptions:
    """The settings of one run and how it is driven (the arguments of :func:`~acglab.train.loop.train`).

    config : every training setting (:class:`~acglab.train.presets.TrainConfig`)
    run_dir : the run folder (``config.json``, ``log.csv``, ``tb/``, checkpoints, ``summary.json``)
    resume : continue the run saved in ``run_dir/last.pt``
    max_steps : stop after this many optimizer steps in total (``None``: train every epoch)
    landmarks : ``{path: (5, 2)}`` for ``config.synth_augment`` (``None``: detected at the start)
    data_root : the dataset's root folder (landmark cache; recorded in checkpoints)
    progress : tqdm bars and epoch lines (``True``), lines only and bars on a terminal
        (``None``), or nothing (``False``)
    on_step : ``on_step(step, model)`` after every optimizer step
    config_extra : more entries for ``config.json``
    """

    config: TrainConfig
    run_dir: Path
    resume: bool = False
    max_steps: int | None = None
    landmarks: dict | None = None
    data_root: object = None
    progress: bool | None = True
    on_step: Callable[[int, torch.nn.Module], None] | None = None
    config_extra: dict = field(default_factory=dict)

    @classmethod
    def checked(cls, config: TrainConfig, run_dir, **options) -> RunOptions:
        """The options with ``config`` checked and ``run_dir`` a :class:`Path`; :class:`AcglabError`
        for ``max_steps < 1``, for a resume without ``last.pt`` and for a new run in a run folder."""
        run = cls(check_config(config), Path(run_dir).expanduser(), **options)
        if run.max_steps is not None and run.max_steps < 1:
            raise AcglabError(f"max steps must be at least 1, got {run.max_steps}")
        if run.resume and not (run.run_dir / LAST).is_file():
            raise CheckpointError(f"{run.run_dir} holds no {LAST} to resume; start without --resume")
        if not run.resume and (run.run_dir / LAST).exists():
            raise AcglabError(
                f"{run.run_dir} already holds a training run; pass --resume to continue it or choose another --out"
            )
        return run

    @property
    def bars(self) -> bool:
        """Show tqdm bars: ``progress``, or whether stderr is a terminal when it is ``None``."""
        return sys.stderr.isatty() if self.progress is None else bool(self.progress)

    @property
    def lines(self) -> bool:
        """Write one line per epoch to stderr."""
        return self.progress is not False

    def stops_at(self, step: int) -> bool:
        """``max_steps`` is reached after optimizer step ``step``."""
        return self.max_steps is not None and step >= self.max_steps
