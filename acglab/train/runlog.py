"""What a training run writes besides checkpoints: ``log.csv``, TensorBoard events and JSON files.

- ``RUN_DIR/log.csv``: one row per epoch (training losses, learning rate, validation metrics,
  time). It is rewritten from the run's history (kept in every checkpoint) after each epoch, so
  a resumed run's log equals an uninterrupted run's.
- ``RUN_DIR/tb/``: TensorBoard scalars, per epoch and every ``log_every`` steps. A resumed run
  purges events written after the step it resumes from.
- ``RUN_DIR/config.json`` and ``RUN_DIR/summary.json``: written atomically.

Only the main process writes; on the other processes every method does nothing.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from acglab.fileio import write_text_atomic

#: columns written first in ``log.csv`` (any other history key follows, sorted)
FIRST_COLUMNS = (
    "epoch",
    "step",
    "lr",
    "train_loss",
    "train_cls",
    "train_rec",
    "train_metric",
    "val_frame_auc",
    "val_video_auc",
    "val_frame_acc",
    "val_video_acc",
    "val_frame_eer",
    "val_video_eer",
)


def _json_safe(value):
    """NaN and infinities as ``None`` (strict JSON), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_json_atomic(path, data) -> Path:
    return write_text_atomic(path, json.dumps(_json_safe(data), indent=1) + "\n")


def history_csv(history: list[dict]) -> str:
    """The CSV text of ``history`` (one dict per epoch); columns :data:`FIRST_COLUMNS` first."""
    keys = {k for row in history for k in row}
    columns = [c for c in FIRST_COLUMNS if c in keys] + sorted(keys - set(FIRST_COLUMNS))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return out.getvalue()


class RunLog:
    """The log files of one run in ``run_dir`` (written only when ``enabled``)."""

    def __init__(self, run_dir, enabled: bool = True, purge_step: int | None = None):
        self.run_dir = Path(run_dir)
        self.enabled = bool(enabled)
        self._tb = None
        if self.enabled:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(self.run_dir / "tb"), purge_step=purge_step)

    def scalars(self, values: dict[str, float], step: int, prefix: str = "") -> None:
        """TensorBoard scalars ``prefix + name`` at ``step`` (non-finite values skipped)."""
        if self._tb is None:
            return
        for name, value in values.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self._tb.add_scalar(prefix + name, value, step)

    def epoch(self, history: list[dict]) -> None:
        """Rewrite ``log.csv`` from ``history`` and log its last row to TensorBoard."""
        if not self.enabled or not history:
            return
        write_text_atomic(self.run_dir / "log.csv", history_csv(history))
        row = history[-1]
        self.scalars({k: v for k, v in row.items() if k not in ("epoch", "step")}, int(row["step"]), prefix="epoch/")
        self._tb.flush()

    def json(self, name: str, data) -> None:
        if self.enabled:
            write_json_atomic(self.run_dir / name, data)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
