"""Source measures of the semi-discrete problem and their quasi-Monte-Carlo samples.

AE-OT pushes the uniform measure on the cube [-0.5, 0.5]^d onto the latent codes; a
standard Gaussian is offered too. Samples come from scrambled Sobol sequences
(``torch.quasirandom.SobolEngine``), which cover the source more evenly than i.i.d. draws and
so give lower-variance cell-mass estimates (thesis appendix B; AE-OT).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

SOURCES = ("cube", "gaussian")


@dataclass
class SobolSource:
    """A stream of scrambled Sobol points mapped to the source measure.

    ``kind``: ``"cube"`` (uniform on [-0.5, 0.5]^d) or ``"gaussian"`` (standard normal, by the
    inverse normal CDF). Successive ``draw`` calls continue the same sequence, so growing a
    sample set keeps its earlier points. Dimensions above Sobol's limit (21201) are not
    supported.
    """

    dim: int
    kind: str = "cube"
    seed: int = 0

    def __post_init__(self):
        if self.kind not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.kind!r}")
        self.engine = torch.quasirandom.SobolEngine(self.dim, scramble=True, seed=self.seed)

    def draw(self, n: int, device="cpu", dtype=torch.float32) -> torch.Tensor:
        """The next n points of the stream, (n, dim), on ``device``."""
        u = self.engine.draw(n, dtype=torch.float64)
        if self.kind == "cube":
            x = u - 0.5
        else:
            x = torch.special.ndtri(u.clamp(1e-12, 1 - 1e-12))
        return x.to(device=device, dtype=dtype)


def source_sample(kind: str, n: int, dim: int, seed: int = 0, device="cpu") -> torch.Tensor:
    """n scrambled-Sobol points of the source measure (a fresh, independent stream per seed)."""
    return SobolSource(dim, kind, seed).draw(n, device=device)
