"""Semi-discrete optimal transport (AE-OT): power diagrams, the Brenier potential, the
height solver, singular sets, the OT generator and latent paths."""
from acglab.ot.paths import (PathReport, Route, linear_path, ot_route, path_report, polyline_path,
                             spherical_path)
from acglab.ot.power import assign, brenier_potential, ot_map, power_scores, topk_cells
from acglab.ot.solver import SemiDiscreteOT, monte_carlo_noise, relative_mass_errors
from acglab.ot.sources import SobolSource, source_sample
from acglab.ot.targets import OTInputError

__all__ = ["PathReport", "Route", "linear_path", "ot_route", "path_report", "polyline_path", "spherical_path",
           "SemiDiscreteOT", "SobolSource", "OTInputError", "assign", "brenier_potential",
           "monte_carlo_noise", "ot_map", "power_scores", "relative_mass_errors", "source_sample",
           "topk_cells"]
