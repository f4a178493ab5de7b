"""An exponential moving average (EMA) of a model's weights, the evaluation copy of a run.

After optimizer step ``t`` every floating-point parameter and BatchNorm running statistic of the
copy moves towards the trained model's value::

    ema <- d_t * ema + (1 - d_t) * weight,    d_t = min(decay, (1 + t) / (10 + t))

(the warm-up of ``d_t``, as in timm's ``ModelEmaV3`` and TensorFlow's ``ExponentialMovingAverage``
with ``num_updates``, keeps the first steps from being dominated by the initial weights). Every
other buffer (step counters, the OT module's bank, heights and labels) is copied as it is: a
running mean of a feature bank would hold features no encoder produced. With a small training set
the average of the last few hundred steps scores more steadily from epoch to epoch than the
weights of the last step, so that the last checkpoint and the one validation chooses differ less.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

#: buffers that are averaged; every other buffer is copied
AVERAGED_BUFFERS = ("running_mean", "running_var")


def ema_decay(step: int, decay: float) -> float:
    """The decay ``d_t = min(decay, (1 + t) / (10 + t))`` after optimizer step ``t`` (1-based)."""
    return min(decay, (1.0 + step) / (10.0 + step))


def ema_copy(model: nn.Module) -> nn.Module:
    """A frozen copy of ``model`` (eval mode, no gradients) to average into."""
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


def _averaged(name: str, tensor: torch.Tensor, parameters: set[str]) -> bool:
    return tensor.is_floating_point() and (name in parameters or name.rsplit(".", 1)[-1] in AVERAGED_BUFFERS)


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """Move ``ema``'s weights towards ``model``'s by ``1 - decay`` (module notes); copy the rest."""
    parameters = {name for name, _ in model.named_parameters()}
    source = model.state_dict()
    for name, value in ema.state_dict().items():
        new = source[name]
        if _averaged(name, value, parameters):
            value.lerp_(new.to(value.dtype), 1.0 - decay)
        else:
            value.copy_(new)
