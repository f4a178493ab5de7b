"""Singular sets of the semi-discrete OT map (AE-OT).

The graph of the Brenier potential F(x) = max_i <x, y_i> + h_i is made of facets lying in the
hyperplanes z = <x, y_i> + h_i, with (upward-free) normals n_i = (y_i, -1). Where two
neighbouring cells W_i, W_j meet, the OT map jumps from y_i to y_j; the jump is small when the
facets are nearly coplanar and large when the dihedral angle between them is large. AE-OT
declares the face W_i | W_j part of the *singular set* when that angle exceeds a threshold
(default 0.7 rad, AE-OT's ``angle_threshold``): there the target distribution has a gap (e.g.
between two modes), and a continuous generator would have to tear.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from acglab.ot.power import topk_cells

#: AE-OT's default angle threshold (radians)
DEFAULT_ANGLE_THRESHOLD = 0.7


def facet_normals(y: torch.Tensor) -> torch.Tensor:
    """Unit normals n_i = (y_i, -1) / |(y_i, -1)| of the Brenier potential's facets, (N, d+1)."""
    n = torch.cat([y, -torch.ones(y.shape[0], 1, dtype=y.dtype, device=y.device)], dim=1)
    return n / n.norm(dim=1, keepdim=True)


def dihedral_angles(y: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """Angle (radians) between the facets of cells i and j: arccos <n_i, n_j> (AE-OT).

    y: (N, d) targets; i, j: index tensors of equal shape -> angles of that shape.
    """
    n = facet_normals(y.to(torch.float64))
    cos = (n[i] * n[j]).sum(-1).clamp(-1.0, 1.0)
    return torch.arccos(cos).to(y.dtype)


@dataclass
class SingularReport:
    """Where samples sit relative to the singular set.

    cells: (M, k) best power cells of each sample (best first); angles: (M, k-1) dihedral
    angle between the best cell and each other candidate; separated: (M, k-1) angle above the
    threshold; face_distance: (M,) Euclidean distance from the sample to the face between its
    best and second-best cells; near: (M,) samples whose nearest face is singular and closer
    than ``margin``.
    """

    cells: torch.Tensor
    angles: torch.Tensor
    separated: torch.Tensor
    face_distance: torch.Tensor
    near: torch.Tensor
    threshold: float

    @property
    def crossing(self) -> torch.Tensor:
        """(M,) samples whose two best cells are separated by the singular set."""
        return self.separated[:, 0]


def singular_report(
    x: torch.Tensor,
    y: torch.Tensor,
    h: torch.Tensor,
    k: int = 2,
    threshold: float = DEFAULT_ANGLE_THRESHOLD,
    margin: float | None = None,
) -> SingularReport:
    """Classify samples x (M, d) against the singular set of the power diagram (y, h).

    ``margin`` defaults to a tenth of the median distance to the nearest face.
    """
    k = max(2, min(k, y.shape[0]))
    values, cells = topk_cells(x, y, h, k)
    angles = dihedral_angles(y, cells[:, :1].expand(-1, k - 1), cells[:, 1:])
    separated = angles > threshold
    gap = values[:, 0] - values[:, 1]
    face_distance = gap / (y[cells[:, 0]] - y[cells[:, 1]]).norm(dim=1).clamp_min(1e-12)
    if margin is None:
        margin = 0.1 * float(face_distance.median())
    near = separated[:, 0] & (face_distance <= margin)
    return SingularReport(cells, angles, separated, face_distance, near, threshold)


def singular_pairs(
    x: torch.Tensor, y: torch.Tensor, h: torch.Tensor, threshold: float = DEFAULT_ANGLE_THRESHOLD
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs of neighbouring cells (found as best/second-best cells of the samples x) and
    whether their common face is singular: returns (pairs (P, 2) unique, sorted; singular (P,))."""
    _, cells = topk_cells(x, y, h, 2)
    pairs = torch.unique(cells.sort(dim=1).values, dim=0)
    return pairs, dihedral_angles(y, pairs[:, 0], pairs[:, 1]) > threshold
