r"""Where a face lies among reference faces, in the detector's own feature space.

A detector's verdict is one number; its bottleneck features (:mod:`acglab.eval.features`, the
space the classifier and the OT module work in, thesis eq. 2.6) say more: which known faces a
new face resembles, and whether it lies where the reference faces are dense or in a gap between
their clusters. A :class:`ReferenceMap` holds, for a set of reference faces with known labels:

1. their bottleneck features ``y`` (N, D) and P(fake) scores;
2. a 16-dimensional PCA of the features, standardised (:func:`acglab.ot.targets.standardise`),
   ``z`` (N, 16): the OT map needs few dimensions to sample its cells well;
3. a 2-D UMAP layout of ``z`` for the figure (:func:`acglab.topology.embedding.umap_embedding`);
4. the semi-discrete OT map from the uniform cube to ``z`` (AE-OT, eq. 1.7,
   :class:`~acglab.ot.solver.SemiDiscreteOT`) and its cell graph: neighbouring cells and whether
   their common face is singular (dihedral angle above the threshold, section 1.2).

:meth:`ReferenceMap.place` puts a new face's features into this picture: its ``k`` nearest
reference faces in ``z`` and the share of fakes among them, its 2-D position (the
inverse-distance weighted mean of the layout positions of those neighbours: UMAP has no exact
out-of-sample map, and this is how its ``transform`` starts), and where it lies relative to the
OT map's cell graph (:func:`acglab.ot.paths.path_report`): near a segment between neighbouring
reference faces across a regular face (where AE-OT generates features), near one across a
singular face (a gap between clusters), or farther from every segment than the reference faces'
typical spacing.

A map is fitted once per checkpoint and kept in an ``.npz`` file (no pickles) beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from acglab.errors import AcglabError
from acglab.labels import FAKE

#: PCA dimension of the map's space
MAP_DIM = 16
#: neighbours used to place a new face
NEIGHBOURS = 10
#: largest number of reference faces (one frame per video, then an even subsample)
MAX_REFERENCE = 600
FORMAT = "acglab-reference-map/1"
KIND_NAMES = ("regular", "singular", "gap")


@dataclass
class Placement:
    """Where one face lies in a :class:`ReferenceMap` (module notes).

    position : (2,) in the layout; neighbours : indices of the nearest reference faces;
    fake_share : share of fakes among them; nearest_distance : distance in ``z`` to the nearest;
    regular_distance, singular_distance : distance to the nearest segment across a regular /
    singular face; kind : ``"regular"``, ``"singular"`` or ``"gap"``; spacing : the reference
    faces' median nearest-neighbour distance, the scale of all distances.
    """

    position: np.ndarray
    neighbours: np.ndarray
    fake_share: float
    nearest_distance: float
    regular_distance: float
    singular_distance: float
    kind: str
    spacing: float

    def summary(self) -> dict:
        return {
            "position": [float(v) for v in self.position],
            "neighbours": [int(i) for i in self.neighbours],
            "fake_share_of_neighbours": self.fake_share,
            "nearest_distance": self.nearest_distance,
            "regular_distance": self.regular_distance,
            "singular_distance": self.singular_distance,
            "kind": self.kind,
            "spacing": self.spacing,
            "singular_over_regular": (
                self.singular_distance / self.regular_distance if self.regular_distance > 0 else float("inf")
            ),
        }


@dataclass
class ReferenceMap:
    """Reference faces in a detector's feature space (module notes)."""

    names: list[str]
    labels: np.ndarray
    scores: np.ndarray
    mean: np.ndarray
    components: np.ndarray
    z_mean: np.ndarray
    z_scale: float
    z: np.ndarray
    layout: np.ndarray
    pairs: np.ndarray
    singular: np.ndarray
    angles: np.ndarray
    threshold: float
    info: dict

    def project(self, features) -> np.ndarray:
        """``z`` of features (T, D): the map's PCA, then its standardisation."""
        y = np.atleast_2d(np.asarray(features, dtype=np.float64))
        if y.shape[1] != self.mean.shape[0]:
            raise AcglabError(
                f"features of dimension {y.shape[1]} do not fit this map ({self.mean.shape[0]}); "
                "was it made for another checkpoint?"
            )
        return ((y - self.mean) @ self.components.T - self.z_mean) / self.z_scale

    def place(self, features, k: int = NEIGHBOURS) -> Placement:
        """A new face in the map (module notes)."""
        from scipy.spatial import cKDTree

        from acglab.ot.paths import path_report, spacing

        z = self.project(features)
        k = min(int(k), len(self.z))
        dist, idx = cKDTree(self.z).query(z[0], k=k)
        dist, idx = np.atleast_1d(dist), np.atleast_1d(idx)
        weights = 1.0 / np.maximum(dist, 1e-9)
        position = (weights[:, None] * self.layout[idx]).sum(0) / weights.sum()
        report = path_report(z, self.z, self.pairs, self.singular)
        return Placement(
            position=position,
            neighbours=idx,
            fake_share=float((self.labels[idx] == FAKE).mean()),
            nearest_distance=float(dist[0]),
            regular_distance=float(report.regular_distance[0]),
            singular_distance=float(report.singular_distance[0]),
            kind=KIND_NAMES[int(report.kind[0])],
            spacing=spacing(self.z),
        )

    # --- storage ------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the map to ``path`` (``.npz``) atomically."""
        from acglab.fileio import atomic_write

        arrays = {
            k: getattr(self, k)
            for k in ("labels", "scores", "mean", "components", "z_mean", "z", "layout", "pairs", "singular", "angles")
        }
        meta = {
            "format": FORMAT,
            "names": self.names,
            "z_scale": self.z_scale,
            "threshold": self.threshold,
            "info": self.info,
        }

        def write(tmp):
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, meta=np.array(json.dumps(meta)), **arrays)

        return atomic_write(path, write)

    @classmethod
    def load(cls, path) -> ReferenceMap:
        """Read a map written by :meth:`save` (:class:`AcglabError` when it is not one)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != FORMAT:
                    raise AcglabError(f"{path} is not a reference map of this version")
                arrays = {k: data[k] for k in data.files if k != "meta"}
        except (OSError, ValueError, KeyError) as err:
            raise AcglabError(f"cannot read the reference map {path}: {err}") from None
        return cls(
            names=list(meta["names"]),
            z_scale=float(meta["z_scale"]),
            threshold=float(meta["threshold"]),
            info=dict(meta["info"]),
            **arrays,
        )


def reference_path(checkpoint, sha256: str) -> Path:
    """Where the map of a checkpoint is cached: ``CKPT.reference.npz`` beside it when its folder
    is writable, else under the cache folder by the checkpoint's hash."""
    import os

    from acglab.paths import cache_dir

    checkpoint = Path(checkpoint)
    if os.access(checkpoint.parent, os.W_OK):
        return checkpoint.with_name(checkpoint.name + ".reference.npz")
    return cache_dir() / "reference-maps" / f"{sha256[:16]}.npz"


def load_or_none(path, sha256: str) -> ReferenceMap | None:
    """The cached map at ``path`` if it exists and was made for the checkpoint with this hash."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        found = ReferenceMap.load(path)
    except AcglabError:
        return None
    return found if found.info.get("checkpoint_sha256") == sha256 else None


def reference_table(root, max_faces: int = MAX_REFERENCE, seed: int = 0):
    """One frame per video of the dataset at ``root``, at most ``max_faces`` (an even subsample)."""
    from acglab.data import load_dataset
    from acglab.data.samples import SampleTable
    from acglab.data.selection import select_frames

    table = select_frames(load_dataset(root), 1)
    if len(table) > max_faces:
        keep = np.sort(np.random.default_rng(seed).choice(len(table), max_faces, replace=False))
        table = SampleTable([table[int(i)] for i in keep])
    labels = np.asarray(table.labels)
    if len(np.unique(labels)) < 2:
        raise AcglabError(f"the reference faces at {root} need real and fake faces")
    return table


def build_reference_map(
    model,
    table,
    threshold: float | None = None,
    tol: float = 0.2,
    seed: int = 0,
    progress: bool = False,
    info: dict | None = None,
) -> ReferenceMap:
    """Fit a :class:`ReferenceMap` of ``model``'s features on the faces of ``table``."""
    from acglab.eval.features import bottleneck_features
    from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD
    from acglab.ot.solver import SemiDiscreteOT
    from acglab.ot.targets import standardise
    from acglab.topology.embedding import pca_projection, umap_embedding

    threshold = DEFAULT_ANGLE_THRESHOLD if threshold is None else float(threshold)
    feats = bottleneck_features(model, table, progress=progress)
    y = feats.features.astype(np.float64)
    proj = pca_projection(y, min(MAP_DIM, y.shape[1], len(y) - 1))
    z, z_mean, z_scale = standardise((y - proj.mean) @ proj.components.T)
    layout = umap_embedding(z, 2, seed=seed)
    sdot = SemiDiscreteOT(z, source="cube", seed=seed).fit(tol=tol, error="mean", progress=progress)
    pairs, singular, angles = (t.cpu().numpy() for t in sdot.cell_graph(2**16, threshold, seed=seed))
    return ReferenceMap(
        names=[s.path for s in table],
        labels=np.asarray(feats.labels, dtype=np.int64),
        scores=feats.scores,
        mean=proj.mean,
        components=proj.components,
        z_mean=z_mean,
        z_scale=float(z_scale),
        z=z,
        layout=layout.astype(np.float64),
        pairs=pairs.astype(np.int64),
        singular=singular.astype(bool),
        angles=angles.astype(np.float64),
        threshold=threshold,
        info=dict(info or {}),
    )
