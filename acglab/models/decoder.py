r"""The reconstruction decoder of the ACG autoencoder (thesis section 2.1, after RECCE).

RECCE (Cao et al., CVPR 2022) and the thesis decode the stride-16 encoder map back to the
image with three upsampling stages built from Xception's depthwise-separable convolutions:

    upsample x2 -> SepConv(C_in -> c_1) -> BN -> ReLU -> residual block(c_1)    [level 1]
    upsample x2 -> SepConv(c_1 -> c_2)  -> BN -> ReLU -> residual block(c_2)    [level 2]
    upsample x2 -> SepConv(c_2 -> c_3)  -> BN -> ReLU -> 1x1 conv -> 3 channels

with (c_1, c_2, c_3) = (256, 128, 64) as in RECCE. The last map (stride 2) is resized
bilinearly to the input size. The decoded image :math:`\hat X = F(\tilde X)` (thesis eq. 2.1) is
compared with the *clean* input in the reconstruction loss (eqs. 2.2, 2.5), and the two
residual-block outputs are the decoder levels pooled for the metric loss (eq. 2.3).

**Output range.** RECCE ends with ``tanh``, which matches inputs normalised with mean = std =
0.5 (the range [-1, 1]). Here the ``tanh`` output t is mapped to pixels p = (t + 1) / 2 in
[0, 1] and then normalised like the input, :math:`\hat x_c = (p_c - m_c) / s_c`, so the
reconstruction lives in the input's space for any backbone normalisation (for Xception's
m = s = 0.5 this is exactly RECCE's ``tanh``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from acglab.models.outputs import Normalization

#: RECCE's decoder widths
DEFAULT_DECODER_CHANNELS = (256, 128, 64)


class SeparableConv2d(nn.Sequential):
    """Depthwise k x k convolution followed by a pointwise 1 x 1 convolution (Xception)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__(
            nn.Conv2d(in_channels, in_channels, kernel_size, padding=kernel_size // 2, groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
        )


class ResidualSeparableBlock(nn.Module):
    """Xception's residual block with equal input and output width: x + [ReLU -> SepConv -> BN] x reps."""

    def __init__(self, channels: int, reps: int = 3):
        super().__init__()
        layers = []
        for _ in range(reps):
            layers += [nn.ReLU(), SeparableConv2d(channels, channels), nn.BatchNorm2d(channels)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpsampleBlock(nn.Sequential):
    """Nearest-neighbour upsampling x2 -> SepConv -> BN -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(
            nn.Upsample(scale_factor=2, mode="nearest"),
            SeparableConv2d(in_channels, out_channels),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class ReconstructionDecoder(nn.Module):
    """Decode an encoder map (B, C_in, h, w) into a normalised image (B, 3, H, W).

    Parameters
    ----------
    in_channels : channels of the encoder map it decodes.
    normalization : the input normalisation; fixes the output range (module notes).
    channels : widths (c_1, c_2, c_3) of the three upsampling stages.
    drop_rate : dropout on the encoder map before decoding (RECCE: 0.2).

    ``forward(z, size)`` returns ``(recon, levels)``: recon (B, 3, *size) and the two residual
    block outputs [(B, c_1, 2h, 2w), (B, c_2, 4h, 4w)].
    """

    def __init__(
        self,
        in_channels: int,
        normalization: Normalization,
        channels: tuple[int, int, int] = DEFAULT_DECODER_CHANNELS,
        drop_rate: float = 0.2,
    ):
        super().__init__()
        c1, c2, c3 = (int(c) for c in channels)
        self.dropout = nn.Dropout(drop_rate)
        self.up1, self.block1 = UpsampleBlock(in_channels, c1), ResidualSeparableBlock(c1)
        self.up2, self.block2 = UpsampleBlock(c1, c2), ResidualSeparableBlock(c2)
        self.up3 = UpsampleBlock(c2, c3)
        self.to_image = nn.Conv2d(c3, 3, 1, bias=False)
        self.register_buffer("mean", torch.tensor(normalization.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(normalization.std).view(1, 3, 1, 1), persistent=False)

    def forward(self, z: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        level1 = self.block1(self.up1(self.dropout(z)))
        level2 = self.block2(self.up2(level1))
        t = torch.tanh(self.to_image(self.up3(level2)))
        t = F.interpolate(t, size=tuple(size), mode="bilinear", align_corners=False)
        pixels = (t + 1) / 2
        return (pixels - self.mean) / self.std, [level1, level2]
