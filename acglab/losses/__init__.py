"""Training losses of the ACG detector (thesis section 2.4, eq. 2.7).

- :func:`acg_loss`: L = L_cls + lambda_r L_r + lambda_m L_m (eq. 2.7) from a model output;
- :func:`bce_loss`: L_cls alone, binary cross-entropy on the logit of FAKE (eq. 1.2);
- :func:`real_l1_loss`: L_r, L1 reconstruction error over real samples (eq. 2.5);
- :func:`contrastive_reconstruction_loss`: the contrastive form of eqs. 1.3-1.4;
- :func:`metric_loss`, :func:`multi_level_metric_loss`: L_m (eq. 2.3) with the cosine
  distance :func:`cosine_distance_matrix` (eq. 2.4).

Labels follow :mod:`acglab.data.samples`: 1 = real, 0 = fake.
"""

from acglab.losses.classification import bce_loss, flooded
from acglab.losses.labels import LossInputError
from acglab.losses.metric import cosine_distance_matrix, metric_loss, multi_level_metric_loss
from acglab.losses.reconstruction import contrastive_reconstruction_loss, real_l1_loss
from acglab.losses.total import acg_loss

__all__ = [
    "LossInputError",
    "acg_loss",
    "bce_loss",
    "contrastive_reconstruction_loss",
    "cosine_distance_matrix",
    "flooded",
    "metric_loss",
    "multi_level_metric_loss",
    "real_l1_loss",
]
