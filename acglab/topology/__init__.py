"""Topology of data: persistent homology (gudhi), Betti numbers, diagram distances, UMAP
embeddings and their plotly figures.

Point-cloud diagrams are on the diameter scale (Rips edge length) whichever complex computes
them; see :mod:`acglab.topology.persistence`. Nothing here knows of models: pass it arrays.
"""

from acglab.topology.betti import (
    ComponentGap,
    betti_curve,
    betti_numbers,
    count_components,
    largest_h0_gap,
    merge_heights,
    separated_components,
)
from acglab.topology.distances import bottleneck_distance, wasserstein_distance
from acglab.topology.embedding import LinearProjection, pca_projection, umap_embedding
from acglab.topology.figures import barcode_figure, embedding_figure, persistence_diagram_figure
from acglab.topology.inputs import Diagrams, TopologyInputError
from acglab.topology.persistence import (
    alpha_persistence,
    alpha_to_diameter,
    cubical_persistence,
    diameter_to_alpha,
    point_cloud_persistence,
    rips_persistence,
)

__all__ = [
    "ComponentGap",
    "Diagrams",
    "LinearProjection",
    "TopologyInputError",
    "alpha_persistence",
    "alpha_to_diameter",
    "barcode_figure",
    "betti_curve",
    "betti_numbers",
    "bottleneck_distance",
    "count_components",
    "cubical_persistence",
    "diameter_to_alpha",
    "embedding_figure",
    "largest_h0_gap",
    "merge_heights",
    "pca_projection",
    "persistence_diagram_figure",
    "point_cloud_persistence",
    "rips_persistence",
    "separated_components",
    "umap_embedding",
    "wasserstein_distance",
]
