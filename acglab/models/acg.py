r"""The ACG detector (thesis chapter 2) and the plain-backbone baseline.

ACG follows RECCE (Cao et al., CVPR 2022) with the thesis' geometric module added:

- **Denoising input** (eq. 2.1): in training, white Gaussian noise is added to the input,
  :math:`\tilde X = X + \epsilon`, before encoding; the decoder must reconstruct the clean X.
  RECCE and the companion code add noise to a random half of the batch, with std 1e-6 on
  [-1, 1] inputs, which changes nothing measurable. Here the std is given in *pixel* units
  (``noise_std``, default 0.03 of the [0, 1] range, about 8 grey levels) and converted per
  channel with the backbone's normalisation, so it means the same for every backbone. The face
  crops of Celeb-DF v2 carry about 0.002 of native noise (median of Immerkaer's estimator over
  the celebdf-mini crops, JPEG-smoothed), so 0.03 is about 15 times the data's own noise while
  staying a small perturbation. Each sample is noised with probability ``noise_prob`` (0.5, as
  in RECCE) and the result is clipped to the valid pixel range.
- **Encoder**: a timm backbone (:mod:`acglab.models.backbone`); all its stages are computed,
  or only those of stride at most ``max_stride`` (a *truncated* backbone: a smaller receptive
  field and far fewer weights; ``max_stride=16`` drops ResNet-18's last stage, 8.4 M of its
  11.2 M parameters). Truncated networks look at local artefacts and overfit small training
  sets less (Chai et al., "What makes fake images detectable?", ECCV 2020).
- **Decoder** (eqs. 2.1, 2.2, 2.5): decodes the stride-16 encoder map (RECCE decodes Xception's
  block 4 output; timm's feature maps give the stride-16 map after block 11, also 728 channels)
  back to the image, :mod:`acglab.models.decoder`.
- **Metric-loss levels** (eqs. 2.3, 2.4): the stride-16 encoder map and the two decoder
  levels, globally average pooled (RECCE's three levels).
- **Bottleneck**: the deepest encoder map, globally pooled, (B, D) (D = 2048 for Xception).
- **Geometric module** (section 2.2): :class:`~acglab.models.ot_module.OTFeatureModule` on the
  bottleneck, training only; absent for the ``acg-no-ot`` ablation. With the OT option
  ``space="metric"`` it works on the first metric level instead and feeds only the metric loss.
- **Classifier** (section 2.3): dropout 0.2 and a linear map to the logit of FAKE.

The reconstruction and the metric levels do not pass through the OT module; the classifier
does. RECCE's guided attention and graph reasoning modules are not part of ACG (the companion
code drops them too).

**Cost.** The decoder is not free on small backbones, and Xception at 299 px needs a GPU in
practice; ``benchmarks/RESULTS.md`` (training speed) has the step times.
"""

from __future__ import annotations

import torch
from torch import nn

from acglab.errors import ModelConfigError
from acglab.models.backbone import create_encoder, encoder_normalization
from acglab.models.decoder import DEFAULT_DECODER_CHANNELS, ReconstructionDecoder
from acglab.models.heads import FakeLogitHead, global_average_pool
from acglab.models.ot_module import OTFeatureModule
from acglab.models.ot_options import OTOptions
from acglab.models.outputs import ACGOutput, Normalization

#: stride of the encoder map the decoder starts from (RECCE: Xception block 4, stride 16)
DECODER_STRIDE = 16
DEFAULT_NOISE_STD = 0.03
DEFAULT_NOISE_PROB = 0.5
DEFAULT_DROP_RATE = 0.2


def check_input(x: torch.Tensor) -> None:
    """Images must be a float tensor (B, 3, H, W)."""
    if not torch.is_tensor(x) or x.ndim != 4 or x.shape[1] != 3 or not x.is_floating_point():
        shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ModelConfigError(f"input must be a float tensor (B, 3, H, W) of normalised images, got {shape}")


def add_white_noise(x: torch.Tensor, normalization: Normalization, std: float, prob: float) -> torch.Tensor:
    r"""Denoising input :math:`\tilde X` (thesis eq. 2.1) for normalised images x (B, 3, H, W).

    Each sample, with probability ``prob``, gets i.i.d. Gaussian noise of std ``std`` in pixel
    units (std / s_c in the normalised units of channel c); the result is clipped to the
    normalised images of pixels in [0, 1]. Draws from torch's global generator (so a run
    resumed with its saved RNG state repeats it). Returns a new tensor; x is not modified.
    """
    if std <= 0 or prob <= 0:
        return x
    low, high = (t.to(x.device, x.dtype) for t in normalization.pixel_range())
    scale = std / torch.tensor(normalization.std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    chosen = (torch.rand(x.shape[0], device=x.device) < prob).to(x.dtype).view(-1, 1, 1, 1)
    return torch.clamp(x + chosen * scale * torch.randn_like(x), low, high)


def decoder_level(reductions: list[int]) -> int:
    """Index of the encoder stage the decoder starts from: the deepest with stride <= 16."""
    candidates = [i for i, r in enumerate(reductions) if r <= DECODER_STRIDE]
    if not candidates:
        raise ModelConfigError(f"the backbone has no feature map of stride <= {DECODER_STRIDE} (strides {reductions})")
    return candidates[-1]


class ACGDetector(nn.Module):
    """ACG: denoising autoencoder + metric levels + OT module + classifier (module notes).

    ``forward(x, labels=None)`` with x (B, 3, H, W) normalised images returns :class:`ACGOutput`
    with logits (B,), recon (B, 3, H, W), pooled [(B, C_mid), (B, c_1), (B, c_2)], features
    (B, D), ot. ``labels`` (B,) (1 = real, 0 = fake), in training, go to the OT module's bank
    (its ``same_class`` option and ``cross_class`` diagnostic need them); nothing else uses them.
    """

    def __init__(
        self,
        backbone: str,
        pretrained=False,
        noise_std: float = DEFAULT_NOISE_STD,
        noise_prob: float = DEFAULT_NOISE_PROB,
        drop_rate: float = DEFAULT_DROP_RATE,
        decoder_channels=DEFAULT_DECODER_CHANNELS,
        use_ot: bool = True,
        ot: dict | None = None,
        max_stride: int | None = None,
        normalization: Normalization | None = None,
    ):
        super().__init__()
        self.encoder = create_encoder(backbone, pretrained, max_stride)
        self.normalization = normalization or encoder_normalization(self.encoder)
        channels, reductions = self.encoder.feature_info.channels(), self.encoder.feature_info.reduction()
        self.mid_level = decoder_level(reductions)
        self.noise_std, self.noise_prob = float(noise_std), float(noise_prob)
        self.decoder = ReconstructionDecoder(
            channels[self.mid_level], self.normalization, tuple(decoder_channels), drop_rate
        )
        self.feature_dim = channels[-1]
        self.ot = None
        if use_ot:
            options = ot if isinstance(ot, OTOptions) else OTOptions.from_dict(ot)
            self.ot = OTFeatureModule(
                channels[self.mid_level] if options.space == "metric" else self.feature_dim, options
            )
        self.head = FakeLogitHead(self.feature_dim, drop_rate)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> ACGOutput:
        check_input(x)
        noisy = add_white_noise(x, self.normalization, self.noise_std, self.noise_prob) if self.training else x
        maps = self.encoder(noisy)
        mid, deep = maps[self.mid_level], maps[-1]
        recon, levels = self.decoder(mid, x.shape[-2:])
        pooled = [global_average_pool(mid)] + [global_average_pool(m) for m in levels]
        features = global_average_pool(deep)
        diagnostics, extra = {}, None
        if self.ot is not None and self.ot.options.space == "metric":
            pooled[0], diagnostics = self.ot(pooled[0], labels)
        elif self.ot is not None:
            features, diagnostics = self.ot(features, labels)
            if self.training and self.ot.options.extra_points:
                points, point_labels = self.ot.training_points(self.ot.options.extra_points)
                if points.shape[0]:
                    extra = (self.head(points.to(features.dtype)), point_labels)
                diagnostics["extra_points"] = int(points.shape[0])
        return ACGOutput(self.head(features), recon, pooled, features, diagnostics, extra)


class BackboneDetector(nn.Module):
    """The baseline: timm backbone -> global average pool -> dropout -> logit of FAKE.

    ``forward(x)`` returns :class:`ACGOutput` with ``recon=None`` and empty ``pooled``/``ot``.
    """

    def __init__(
        self,
        backbone: str,
        pretrained=False,
        drop_rate: float = DEFAULT_DROP_RATE,
        max_stride: int | None = None,
        normalization: Normalization | None = None,
    ):
        super().__init__()
        self.encoder = create_encoder(backbone, pretrained, max_stride)
        self.normalization = normalization or encoder_normalization(self.encoder)
        self.feature_dim = self.encoder.feature_info.channels()[-1]
        self.head = FakeLogitHead(self.feature_dim, drop_rate)

    def forward(self, x: torch.Tensor) -> ACGOutput:
        check_input(x)
        features = global_average_pool(self.encoder(x)[-1])
        return ACGOutput(self.head(features), None, [], features, {})
