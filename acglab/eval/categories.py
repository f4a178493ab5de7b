"""Metrics per forgery method: every real face against the fakes of one category at a time.

Cross-dataset and cross-method evaluation (DeepfakeBench's protocol: train on one dataset, test on
others) asks how a detector does on each forgery method it never saw. A dataset's categories name
them: ``Celeb-synthesis`` in Celeb-DF, ``Deepfakes``/``Face2Face``/... in FaceForensics++,
``offline-swap`` and ``offline-sbi`` in the offline set. :func:`category_metrics` scores all real
faces against each fake category separately (frame and video ACC, AUC and EER, the video score
being the mean of its frames' scores), and all fakes together.
"""

from __future__ import annotations

import numpy as np

from acglab.data.samples import FAKE, REAL, SampleTable
from acglab.errors import AcglabError
from acglab.metrics import evaluate

#: the row of all fake categories together
ALL_FAKES = "all fakes"


def category_metrics(table: SampleTable, scores) -> list[dict]:
    """One row per fake category, then one for all fakes: ``category``, ``fake_videos``,
    ``real_videos``, ``frame`` and ``video`` metric dicts (:func:`acglab.metrics.evaluate`).

    Raises :class:`AcglabError` when ``table`` has no real or no fake face (a one-class set has
    no AUC), or ``scores`` does not have one value per row.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.shape != (len(table),):
        raise AcglabError(f"need one score per face: {len(table)} faces, scores of shape {scores.shape}")
    labels = np.asarray(table.labels)
    if not (labels == REAL).any() or not (labels == FAKE).any():
        raise AcglabError("metrics per forgery method need real and fake faces; this set holds one class")
    videos = np.array([s.video for s in table])
    categories = np.array([s.category for s in table])
    real = labels == REAL
    fake_categories = sorted(set(categories[~real]))
    rows = []
    for name, chosen in [(str(c), categories == c) for c in fake_categories] + [(ALL_FAKES, ~real)]:
        keep = real | chosen
        result = evaluate(labels[keep], scores[keep], list(videos[keep]))
        rows.append(
            {
                "category": name,
                "fake_videos": len(set(videos[chosen])),
                "real_videos": len(set(videos[real])),
                "frame": result["frame"],
                "video": result["video"],
            }
        )
    return rows
