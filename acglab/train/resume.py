"""Where a run stands, as saved in its checkpoints, and what may change when it is resumed.

A checkpoint's ``state`` (see :mod:`acglab.models.checkpoint`) holds a :class:`Position`
(epoch, batches done in it, optimizer steps, best validation metric, per-epoch history, the
running loss sums of the current epoch), the train config, and the generator states of every
process (:func:`acglab.train.seeding.rng_state`). Together with the model, optimizer, scheduler
and GradScaler states this is all a run needs to continue exactly where it stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from acglab.errors import CheckpointError

#: settings a resumed run may change without changing what it computes
RESUME_MAY_CHANGE = ("epochs", "num_workers", "checkpoint_every", "log_every")


@dataclass
class Position:
    """Where a run stands.

    epoch : the epoch being trained (0-based; ``== epochs`` when finished)
    batch : batches of that epoch already trained
    step : optimizer steps done since the start of the run
    best_auc, best_epoch, best_metric : the best validation value so far, its epoch (1-based)
        and which metric it is (``"val_video_auc"`` or ``"val_frame_auc"``)
    history : one dict per finished (or stopped) epoch, the rows of ``log.csv``
    sums : running sums of the current epoch's training losses (``"n"`` = batches)
    seconds : training time spent in the current epoch so far
    """

    epoch: int = 0
    batch: int = 0
    step: int = 0
    best_auc: float | None = None
    best_epoch: int | None = None
    best_metric: str | None = None
    history: list = field(default_factory=list)
    sums: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_state(self) -> dict:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict) -> Position:
        try:
            return cls(**{k: state[k] for k in cls.__dataclass_fields__})
        except KeyError as err:
            raise CheckpointError(
                f"the checkpoint holds no training position ({err.args[0]!r} missing); "
                "it was not written by `acglab train`"
            ) from None


def config_changes(saved: dict, config: dict) -> list[str]:
    """``name: saved -> now`` for every setting that differs and may not change on resume."""
    keys = sorted((set(saved) | set(config)) - set(RESUME_MAY_CHANGE))
    return [f"{k}: {saved.get(k)!r} -> {config.get(k)!r}" for k in keys if saved.get(k) != config.get(k)]


def require_same_config(saved: dict, config: dict, path) -> None:
    """:class:`CheckpointError` when ``config`` changes settings the run at ``path`` was started with."""
    changes = config_changes(saved, config)
    if changes:
        shown = "; ".join(changes[:4]) + (f" (and {len(changes) - 4} more)" if len(changes) > 4 else "")
        raise CheckpointError(
            f"{path} was trained with other settings ({shown}); resume with the same settings "
            f"(only {', '.join(RESUME_MAY_CHANGE)} may change) or start a new run folder"
        )
