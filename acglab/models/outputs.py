"""What the detectors return, and the input normalisation they expect."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import torch


class Normalization(NamedTuple):
    """Per-channel ``mean`` and ``std`` (RGB, pixel values in [0, 1]) of the model's input:
    ``x = (pixels - mean) / std``. Taken from the timm backbone's ``pretrained_cfg``."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def pixel_range(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised values of pixels 0 and 1, each (1, 3, 1, 1): the valid input box."""
        mean = torch.tensor(self.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.std).view(1, 3, 1, 1)
        return (0 - mean) / std, (1 - mean) / std


@dataclass
class ACGOutput:
    """One forward pass of a detector.

    Attributes
    ----------
    logits : (B,) logit of the class FAKE; ``sigmoid(logits)`` = P(fake).
    recon : (B, 3, H, W) reconstruction of the clean normalised input (same space as x), or
        ``None`` for the plain backbone.
    pooled : list of (B, C_l) globally average-pooled feature maps at several encoder/decoder
        levels, the inputs of the metric loss (thesis eq. 2.3); empty for the plain backbone.
    features : (B, D) bottleneck feature vector fed to the classifier (after the OT module).
    ot : OT module diagnostics (``replaced``, ``refit``, ...), empty when the module is off.
    extra : ``(logits (m,), labels (m,))`` of OT-generated training features (the OT option
        ``extra_points``), added to the classification loss; ``None`` when off or outside training.
    """

    logits: torch.Tensor
    recon: torch.Tensor | None = None
    pooled: list[torch.Tensor] = field(default_factory=list)
    features: torch.Tensor | None = None
    ot: dict = field(default_factory=dict)
    extra: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def scores(self) -> torch.Tensor:
        """P(fake) = sigmoid(logits), (B,)."""
        return torch.sigmoid(self.logits)
