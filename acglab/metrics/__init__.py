"""Detection metrics: ACC, ROC, AUC and EER at frame and video level (thesis §3.1).

Labels are 1 = real, 0 = fake; scores are probabilities of the positive class ``pos_label``,
by default fake (``score = P(fake)``). See :mod:`acglab.metrics.binary` for the definitions.
"""

from acglab.metrics.binary import RocCurve, ScoreError, accuracy, check_scores, equal_error_rate, roc_auc, roc_curve
from acglab.metrics.bootstrap import Interval, auc_interval, paired_auc_interval
from acglab.metrics.figures import roc_figure
from acglab.metrics.video import evaluate, summarize, video_scores

__all__ = [
    "Interval",
    "auc_interval",
    "paired_auc_interval",
    "RocCurve",
    "ScoreError",
    "accuracy",
    "check_scores",
    "equal_error_rate",
    "evaluate",
    "roc_auc",
    "roc_curve",
    "roc_figure",
    "summarize",
    "video_scores",
]
