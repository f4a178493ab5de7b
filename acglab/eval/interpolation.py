r"""Walking the latent space between two faces: what a straight, a spherical and an OT-aware
path decode to (notebook 04; thesis section 1.1, Figs. 1-3 and 1-4, laws 1.1-1.3).

1. :func:`latent_geometry` encodes an image set with a latent model (autoencoder or VAE,
   :mod:`acglab.models.latent`), fits the semi-discrete OT map from the uniform cube to the
   codes (AE-OT, eq. 1.7, :class:`~acglab.ot.solver.SemiDiscreteOT`) and reads off its cell
   graph: which cells are neighbours and whether their common face is singular (dihedral angle
   above the threshold).
2. :func:`study_path` builds one path between two codes (:mod:`acglab.ot.paths`), decodes it,
   and measures each point: distance to the nearest training code, whether it lies on the
   segments AE-OT interpolates along (:func:`acglab.ot.paths.path_report`), the decoded image's
   sharpness (Laplacian variance, :mod:`acglab.metrics.sharpness`) and, given a detector, its
   P(fake) (:func:`acglab.eval.predict.score_pixels`).
3. :func:`law_evidence` repeats this over many pairs and tabulates the three path kinds side
   by side, and the sharpness of points off the AE-OT segments against points on them: the
   evidence a class can weigh for and against laws 1.1-1.3, which are the thesis' hypotheses,
   not theorems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from acglab.data.arrays import ImageArray
from acglab.errors import AcglabError
from acglab.metrics.sharpness import laplacian_variance
from acglab.ot.paths import (
    PathReport,
    Route,
    linear_path,
    ot_route,
    path_report,
    polyline_path,
    spacing,
    spherical_path,
)
from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD
from acglab.ot.solver import SemiDiscreteOT
from acglab.ot.targets import standardise
from acglab.topology.embedding import LinearProjection, pca_projection

#: the path kinds, in the order figures draw them
PATH_KINDS = ("linear", "spherical", "ot")
PATH_NAMES = {"linear": "straight", "spherical": "spherical", "ot": "OT-aware"}


@dataclass
class LatentGeometry:
    """An image set's codes under a latent model, with their OT map and its cell graph.

    codes : (N, d); pairs : (P, 2) neighbouring cells; singular : (P,) their face is singular;
    angles : (P,) dihedral angles; projection : the codes' 3 principal axes; spacing : median
    distance from a code to its nearest other code.
    """

    model: torch.nn.Module
    data: ImageArray
    codes: np.ndarray
    sdot: SemiDiscreteOT
    pairs: np.ndarray
    singular: np.ndarray
    angles: np.ndarray
    threshold: float
    projection: LinearProjection
    spacing: float
    fit_seconds: float = 0.0

    def decode(self, codes) -> np.ndarray:
        """(T, C, S, S) images in [0, 1] decoded from codes (T, d)."""
        return self.model.decode_codes(codes)

    def with_threshold(self, threshold: float) -> LatentGeometry:
        """The same geometry with another angle threshold for the singular set."""
        import dataclasses

        return dataclasses.replace(self, singular=self.angles > float(threshold), threshold=float(threshold))


def latent_geometry(
    model,
    data: ImageArray,
    threshold: float = DEFAULT_ANGLE_THRESHOLD,
    tol: float = 0.2,
    graph_samples: int = 2**16,
    seed: int = 0,
    progress: bool = False,
) -> LatentGeometry:
    """Encode ``data``, fit the OT map to the standardised codes
    (:func:`acglab.ot.targets.standardise`; mean relative cell-mass error ``tol``) and find its
    cell graph from ``graph_samples`` source points (module notes, step 1). The paths are drawn between the codes themselves; only the graph comes from OT."""
    import time

    from acglab.train.latent import encode_all

    if len(data) < 3:
        raise AcglabError(f"a latent geometry needs at least 3 images, got {len(data)}")
    codes = encode_all(model, data).double().numpy()
    started = time.perf_counter()
    sdot = SemiDiscreteOT(standardise(codes)[0], source="cube", seed=seed).fit(tol=tol, error="mean", progress=progress)
    pairs, singular, angles = (t.cpu().numpy() for t in sdot.cell_graph(graph_samples, threshold, seed=seed))
    return LatentGeometry(
        model,
        data,
        codes,
        sdot,
        pairs.astype(np.int64),
        singular.astype(bool),
        angles.astype(np.float64),
        float(threshold),
        pca_projection(codes, 3),
        spacing(codes),
        time.perf_counter() - started,
    )


def latent_path(
    geometry: LatentGeometry, start: int, end: int, kind: str, steps: int = 41
) -> tuple[np.ndarray, Route | None]:
    """(codes (steps, d), route or None) of the path ``kind`` from code ``start`` to ``end``."""
    a, b = geometry.codes[start], geometry.codes[end]
    if kind == "linear":
        return linear_path(a, b, steps), None
    if kind == "spherical":
        return spherical_path(a, b, steps), None
    if kind == "ot":
        route = ot_route(geometry.codes, geometry.pairs, geometry.singular, start, end)
        return polyline_path(geometry.codes[route.nodes], steps), route
    raise AcglabError(f"path kind must be one of {', '.join(PATH_KINDS)}, got {kind!r}")


@dataclass
class PathStudy:
    """One path and what it decodes to (module notes, step 2); ``scores`` is None without a detector."""

    kind: str
    start: int
    end: int
    codes: np.ndarray
    images: np.ndarray
    report: PathReport
    sharpness: np.ndarray
    scores: np.ndarray | None = None
    route: Route | None = None

    @property
    def t(self) -> np.ndarray:
        return np.linspace(0.0, 1.0, len(self.codes))

    def summary(self) -> dict:
        """Means along the path (sharpness relative to the two end faces' mean)."""
        ends = 0.5 * (self.sharpness[0] + self.sharpness[-1])
        out = {
            "kind": self.kind,
            "off_segments": float(self.report.crossing.mean()),
            "singular": float((self.report.kind == 1).mean()),
            "distance": float(self.report.distance.mean()),
            "sharpness_ratio": float(self.sharpness.mean() / ends) if ends > 0 else float("nan"),
            "min_sharpness_ratio": float(self.sharpness.min() / ends) if ends > 0 else float("nan"),
        }
        if self.scores is not None:
            out["score"] = float(self.scores.mean())
        if self.route is not None:
            out["route_codes"], out["route_singular_steps"] = len(self.route.nodes), self.route.singular_steps
        return out


Scorer = Callable[[np.ndarray], np.ndarray]


def study_path(
    geometry: LatentGeometry, start: int, end: int, kind: str, steps: int = 41, scorer: Scorer | None = None
) -> PathStudy:
    """Build, decode and measure one path (module notes, step 2). ``scorer`` maps images
    (T, 3, S, S) in [0, 1] to P(fake) (e.g. ``functools.partial(score_pixels, detector)``)."""
    codes, route = latent_path(geometry, start, end, kind, steps)
    images = geometry.decode(codes)
    report = path_report(codes, geometry.codes, geometry.pairs, geometry.singular, geometry.spacing)
    scores = None if scorer is None or images.shape[1] != 3 else np.asarray(scorer(images), dtype=np.float64)
    return PathStudy(kind, int(start), int(end), codes, images, report, laplacian_variance(images), scores, route)


def study_paths(
    geometry: LatentGeometry, start: int, end: int, steps: int = 41, scorer: Scorer | None = None
) -> dict[str, PathStudy]:
    """:func:`study_path` for every kind in :data:`PATH_KINDS`."""
    return {kind: study_path(geometry, start, end, kind, steps, scorer) for kind in PATH_KINDS}


@dataclass
class PairChoice:
    """Two faces to walk between, and why they are interesting."""

    start: int
    end: int
    label: str
    singular_steps: int = 0


def pair_choices(
    geometry: LatentGeometry, n: int = 6, labelling: str | None = None, seed: int = 0, candidates: int = 200
) -> list[PairChoice]:
    """Up to ``n`` pairs of faces: half whose OT-aware route must cross the singular set (the
    codes lie in different components of the regular cell graph), half whose route need not,
    each named by the images' labels (``labelling``, default the first) and indices."""
    rng = np.random.default_rng(seed)
    n_codes = len(geometry.codes)
    key = labelling or next(iter(geometry.data.labels), None)
    values = geometry.data.labels.get(key) if key else None
    names = geometry.data.names.get(key) if key else None
    crossing, inside = [], []
    for _ in range(candidates):
        i, j = (int(v) for v in rng.choice(n_codes, 2, replace=False))
        route = ot_route(geometry.codes, geometry.pairs, geometry.singular, i, j)
        (crossing if route.singular_steps else inside).append((i, j, route.singular_steps))
        if len(crossing) >= n and len(inside) >= n:
            break

    def name(i):
        if values is None:
            return f"#{i}"
        v = int(values[i])
        return f"#{i} ({names[v] if names is not None and v < len(names) else v})"

    half = (n + 1) // 2
    chosen = crossing[:half] + inside[: n - min(half, len(crossing))]
    return [
        PairChoice(
            i,
            j,
            f"{name(i)} → {name(j)}: route crosses the singular set {s}x"
            if s
            else f"{name(i)} → {name(j)}: route stays on regular faces",
            s,
        )
        for i, j, s in chosen[:n]
    ]


@dataclass
class LawEvidence:
    """:func:`law_evidence` over ``pairs`` pairs: ``table`` one row per path kind (means of
    :meth:`PathStudy.summary`); ``on_segments`` / ``off_segments``: sharpness of path points
    (relative to their path's end faces) on and off the AE-OT segments; ``correlation``:
    Spearman correlation over all points between the distance to the nearest code and that
    relative sharpness."""

    pairs: int
    table: list[dict]
    on_segments: np.ndarray
    off_segments: np.ndarray
    correlation: float
    extras: dict = field(default_factory=dict)


def law_evidence(
    geometry: LatentGeometry, n_pairs: int = 30, steps: int = 21, scorer: Scorer | None = None, seed: int = 0
) -> LawEvidence:
    """Study ``n_pairs`` random pairs with every path kind (module notes, step 3)."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(seed)
    rows: dict[str, list[dict]] = {k: [] for k in PATH_KINDS}
    on, off, dist, sharp = [], [], [], []
    for _ in range(n_pairs):
        i, j = (int(v) for v in rng.choice(len(geometry.codes), 2, replace=False))
        for kind, study in study_paths(geometry, i, j, steps, scorer).items():
            rows[kind].append(study.summary())
            ends = 0.5 * (study.sharpness[0] + study.sharpness[-1])
            if not ends > 0:
                continue
            rel = study.sharpness[1:-1] / ends
            cross = study.report.crossing[1:-1]
            on.append(rel[~cross])
            off.append(rel[cross])
            dist.append(study.report.distance[1:-1])
            sharp.append(rel)
    table = []
    for kind, summaries in rows.items():
        keys = [k for k in summaries[0] if k != "kind"]
        table.append({"kind": kind, **{k: float(np.nanmean([s[k] for s in summaries])) for k in keys}})
    d, s = np.concatenate(dist), np.concatenate(sharp)
    return LawEvidence(n_pairs, table, np.concatenate(on), np.concatenate(off), float(spearmanr(d, s).statistic))
