"""Convolutional encoder and decoder of the latent models, sized by the image side.

The encoder halves the image with stride-2 3x3 convolutions (BatchNorm, LeakyReLU) while the
side stays even and at least 8, then maps the last map to a vector with a linear layer; the
decoder mirrors it with a linear layer and stride-2 transposed convolutions back to the exact
side, ending in pixel logits. An 8x8 digit goes 8 -> 4; a 64 px face 64 -> 32 -> 16 -> 8 -> 4;
96 px ends at 6, 128 px at 4.
"""

from __future__ import annotations

from torch import nn

from acglab.errors import ModelConfigError


def halvings(side: int) -> list[int]:
    """The sides of the encoder's maps, from ``side`` down (``[8, 4]`` for 8, ``[64, 32, 16, 8, 4]`` for 64)."""
    if side < 8:
        raise ModelConfigError(f"image side must be at least 8 pixels, got {side}")
    sides = [side]
    while sides[-1] % 2 == 0 and sides[-1] >= 8:
        sides.append(sides[-1] // 2)
    return sides


def widths(levels: int, base: int, cap: int = 256) -> list[int]:
    """Channels after each halving: ``base``, doubling, at most ``cap``."""
    return [min(base * 2**i, cap) for i in range(levels)]


class ConvEncoder(nn.Module):
    """(B, C, S, S) images -> (B, out_dim) vectors."""

    def __init__(self, channels: int, side: int, out_dim: int, base: int = 32):
        super().__init__()
        sides = halvings(side)
        chans = widths(len(sides) - 1, base)
        layers, c_in = [], channels
        for c in chans:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.LeakyReLU(0.2)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c_in * sides[-1] ** 2, out_dim)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


class ConvDecoder(nn.Module):
    """(B, latent_dim) codes -> (B, C, S, S) pixel logits."""

    def __init__(self, channels: int, side: int, latent_dim: int, base: int = 32):
        super().__init__()
        sides = halvings(side)
        chans = widths(len(sides) - 1, base)[::-1]
        self.start = (chans[0], sides[-1])
        self.fc = nn.Sequential(nn.Linear(latent_dim, chans[0] * sides[-1] ** 2), nn.LeakyReLU(0.2))
        layers = []
        for c_in, c_out in zip(chans, chans[1:] + [None]):
            if c_out is None:
                layers.append(nn.ConvTranspose2d(c_in, channels, 4, stride=2, padding=1))
            else:
                layers += [
                    nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1),
                    nn.BatchNorm2d(c_out),
                    nn.LeakyReLU(0.2),
                ]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        c, s = self.start
        return self.net(self.fc(z).view(-1, c, s, s))
