"""Semi-discrete optimal transport (AE-OT): power diagrams, the Brenier potential, the
height solver, singular sets, the OT generator and latent paths."""

from acglab.ot.discrete import discrete_ot_plan, split_sources
from acglab.ot.generate import gaussian_generate, naive_pairs_generate, ot_generate
from acglab.ot.neighbours import neighbour_face_angles, probe_segment, raster_face_angles, transport_along_segment
from acglab.ot.paths import PathReport, Route, linear_path, ot_route, path_report, polyline_path, spherical_path
from acglab.ot.potential_1d import brenier_potential_1d, legendre_transform_1d
from acglab.ot.power import assign, brenier_potential, ot_map, power_scores, topk_cells
from acglab.ot.raster import SQUARE, cell_map, pixel_centres, planar_targets, raster_cell_masses, raster_faces
from acglab.ot.recorder import HeightRecorder
from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD, dihedral_angles, singular_pairs, singular_report
from acglab.ot.solver import SemiDiscreteOT, monte_carlo_noise, relative_mass_errors
from acglab.ot.sources import SobolSource, source_sample
from acglab.ot.support import off_support, off_support_fraction, same_label_fraction, support_radius
from acglab.ot.targets import OTInputError

__all__ = [
    "PathReport",
    "Route",
    "linear_path",
    "ot_route",
    "path_report",
    "polyline_path",
    "spherical_path",
    "SemiDiscreteOT",
    "SobolSource",
    "OTInputError",
    "assign",
    "brenier_potential",
    "monte_carlo_noise",
    "ot_map",
    "power_scores",
    "relative_mass_errors",
    "source_sample",
    "topk_cells",
    "HeightRecorder",
    "SQUARE",
    "brenier_potential_1d",
    "cell_map",
    "discrete_ot_plan",
    "legendre_transform_1d",
    "neighbour_face_angles",
    "off_support",
    "off_support_fraction",
    "pixel_centres",
    "planar_targets",
    "probe_segment",
    "raster_cell_masses",
    "raster_face_angles",
    "raster_faces",
    "same_label_fraction",
    "split_sources",
    "support_radius",
    "transport_along_segment",
    "gaussian_generate",
    "naive_pairs_generate",
    "ot_generate",
    "DEFAULT_ANGLE_THRESHOLD",
    "dihedral_angles",
    "singular_pairs",
    "singular_report",
]
