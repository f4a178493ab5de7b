"""Learning-rate schedules, stepped once per optimizer step.

- ``"step"`` (the thesis, §2.4): ``lr_t = lr * gamma ** (t // step_size)``, torch's ``StepLR``;
- ``"cosine"``: half a cosine from ``lr`` down to 0 over the run's ``T`` optimizer steps,
  ``lr_t = lr * (1 + cos(pi * min(t, T) / T)) / 2`` (Loshchilov & Hutter's SGDR without restarts).
  The last epochs train at a small learning rate, so the final weights move little from one step
  to the next and the last checkpoint is a stable choice.
"""

from __future__ import annotations

import math

#: the schedules a training config may name
SCHEDULES = ("step", "cosine")


def cosine_factor(step: int, total_steps: int) -> float:
    """The cosine schedule's multiplier of the base learning rate after ``step`` of ``total_steps`` steps."""
    t = min(max(step, 0), total_steps)
    return 0.5 * (1.0 + math.cos(math.pi * t / max(total_steps, 1)))


def lr_scheduler(optimizer, schedule: str, *, step_size: int, gamma: float, total_steps: int):
    """The scheduler of ``schedule`` (module notes) on ``optimizer``'s parameter groups."""
    import torch  # the config's checks import this module without torch

    if schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: cosine_factor(t, total_steps))
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
