"""The mathematics of GANs in small pure functions: densities, divergences (KL, JSD, W1), the
GAN value function and optimal discriminator, Gaussian fits by forward/reverse KL, and a toy
GAN on a ring of Gaussians that shows mode collapse, and the energy picture of mode collapse
and mode mixing."""

from acglab.theory.densities import (
    GaussianMixture,
    TheoryInputError,
    gaussian_logpdf,
    gaussian_pdf,
    grid_spacing,
    uniform_grid,
    uniform_pdf,
)
from acglab.theory.divergences import (
    divergences_under_shift,
    js_divergence,
    kl_divergence,
    kl_gaussians,
    reverse_kl_divergence,
    wasserstein1_grid,
    wasserstein1_samples,
)
from acglab.theory.energy import (
    EnergyOutcome,
    energy_minima,
    energy_outcome,
    kernel_energy,
    kernel_energy_gradient,
    roll_down,
)
from acglab.theory.fitting import GaussianFit, fit_both_directions, fit_gaussian, kl_to_gaussian
from acglab.theory.gan import (
    binary_cross_entropy,
    generator_logit_gradients,
    generator_losses,
    logistic_discriminator,
    optimal_discriminator,
    optimal_value,
    optimal_value_via_jsd,
    value_from_bce,
    value_function,
    value_function_grid,
)
from acglab.theory.ring import mode_counts, mode_shares, modes_covered, nearest_mode, ring_mode_centers, sample_ring

__all__ = [
    "EnergyOutcome",
    "energy_minima",
    "energy_outcome",
    "kernel_energy",
    "kernel_energy_gradient",
    "roll_down",
    "GaussianFit",
    "GaussianMixture",
    "TheoryInputError",
    "binary_cross_entropy",
    "divergences_under_shift",
    "fit_both_directions",
    "fit_gaussian",
    "gaussian_logpdf",
    "gaussian_pdf",
    "generator_logit_gradients",
    "generator_losses",
    "grid_spacing",
    "js_divergence",
    "kl_divergence",
    "kl_gaussians",
    "kl_to_gaussian",
    "logistic_discriminator",
    "mode_counts",
    "mode_shares",
    "modes_covered",
    "nearest_mode",
    "optimal_discriminator",
    "optimal_value",
    "optimal_value_via_jsd",
    "reverse_kl_divergence",
    "ring_mode_centers",
    "sample_ring",
    "uniform_grid",
    "uniform_pdf",
    "value_from_bce",
    "value_function",
    "value_function_grid",
    "wasserstein1_grid",
    "wasserstein1_samples",
]
