r"""Neighbouring power cells of a fitted semi-discrete OT map: the faces between them, their
dihedral angles, and the map along a segment that crosses them.

The map :math:`T(x) = y_{i(x)}`, :math:`i(x) = \arg\max_i \langle x, y_i\rangle + h_i` (thesis eq.
1.7), jumps from :math:`y_i` to :math:`y_j` across the face :math:`W_i | W_j`; the dihedral angle
:math:`\theta_{ij} = \arccos\langle n_i, n_j\rangle` of the facets of the Brenier potential
(:func:`acglab.ot.singular.dihedral_angles`) measures that jump, and faces above a threshold form
the singular set (:mod:`acglab.ot.singular`).

``solver`` arguments are fitted :class:`acglab.ot.SemiDiscreteOT` objects (anything with
``assign``, ``targets``, ``heights``, ``source``, ``dim``, ``n_targets`` and ``device``).
"""

from __future__ import annotations

import numpy as np
import torch

from acglab.ot.singular import dihedral_angles, singular_pairs
from acglab.ot.sources import source_sample
from acglab.ot.targets import OTInputError


def neighbour_face_angles(
    solver, labels, n_samples: int = 20000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces between neighbouring cells, their dihedral angles and whether they join two
    targets of the same label.

    The faces are the pairs of best and second-best cells of ``n_samples`` fresh source samples
    (:func:`acglab.ot.singular.singular_pairs`). Returns ``pairs`` (P, 2), ``angles`` (P,) in
    radians and ``same`` (P,) bool, with labels (N,) one per target.
    """
    lab = np.asarray(labels)
    if lab.shape != (solver.n_targets,):
        raise OTInputError(f"labels must have shape ({solver.n_targets},), got {lab.shape}")
    x = source_sample(solver.source, int(n_samples), solver.dim, seed=seed, device=solver.device)
    pairs, _ = singular_pairs(x, solver.targets, solver.heights)
    angles = dihedral_angles(solver.targets, pairs[:, 0], pairs[:, 1]).cpu().numpy()
    pairs = pairs.cpu().numpy()
    return pairs, angles, lab[pairs[:, 0]] == lab[pairs[:, 1]]


def raster_face_angles(targets, face_cells) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dihedral angles of the faces of a rasterised power diagram
    (:func:`acglab.ot.raster.raster_faces`).

    targets: (N, d); face_cells: (F, 2) the two cells of each face pixel pair. Returns the angle
    of every face pixel pair (F,), the distinct cell pairs (P, 2) (smaller index first, sorted)
    and the angle of each of them (P,).
    """
    cells = np.asarray(face_cells, dtype=np.int64).reshape(-1, 2)
    if not len(cells):
        return np.zeros(0), np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    y = targets if torch.is_tensor(targets) else torch.as_tensor(np.asarray(targets, dtype=np.float64))
    index = torch.as_tensor(cells, device=y.device)
    angles = dihedral_angles(y, index[:, 0], index[:, 1]).cpu().numpy()
    pairs, first = np.unique(np.sort(cells, axis=1), axis=0, return_index=True)
    return angles, pairs, angles[first]


def probe_segment(cell_labels: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A segment of the source that crosses from one component to another: from the centroid of
    the ``points`` (n, 2) whose cell carries the first label to that of the second label
    (``cell_labels`` (n,), the label of each point's cell). With one label, a line across the
    whole width of the points."""
    cell_labels, points = np.asarray(cell_labels), np.asarray(points, dtype=np.float64)
    found = np.unique(cell_labels)
    if len(found) < 2:
        reach = float(np.abs(points).max())
        return np.array([-0.9 * reach, 0.1 * reach]), np.array([0.9 * reach, -0.1 * reach])
    return points[cell_labels == found[0]].mean(0), points[cell_labels == found[1]].mean(0)


def transport_along_segment(solver, start, end, n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""The OT map on ``n`` evenly spaced points :math:`x(t) = (1 - t)\,a + t\,b` of the segment
    from ``start`` a to ``end`` b.

    Returns ``x`` (n, d), ``cells`` (n,) the cell :math:`i(x(t))` of each point, ``image`` (n, d)
    :math:`T(x(t)) = y_{i(x(t))}` and ``jumps`` (n - 1,) the lengths
    :math:`\|T(x(t_{k+1})) - T(x(t_k))\|`: zero inside a cell, the distance between two targets
    where the segment crosses a face.
    """
    if int(n) < 2:
        raise OTInputError(f"need at least 2 points on the segment, got {n!r}")
    a, b = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    t = np.linspace(0.0, 1.0, int(n))
    x = a + t[:, None] * (b - a)
    cells = solver.assign(x).cpu().numpy()
    image = solver.targets.cpu().numpy().astype(np.float64)[cells]
    return x, cells, image, np.linalg.norm(np.diff(image, axis=0), axis=1)
