"""Video-level scores and the one-call evaluation at frame and video level (thesis §3.1).

A video's score is the mean of its frames' scores, s_v = (1/|F_v|) sum_{f in F_v} s_f, and its
label is the (common) label of its frames. Frame-level metrics treat every row as a sample;
video-level metrics apply the same functions to the per-video means.
"""

from __future__ import annotations

import numpy as np

from acglab.labels import FAKE
from acglab.metrics.binary import ScoreError, accuracy, check_scores, equal_error_rate, roc_auc


def video_scores(labels, scores, videos) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Mean score and label of each video, in order of first appearance.

    Parameters
    ----------
    labels : (n,) 0/1 labels of the frames.
    scores : (n,) frame scores.
    videos : (n,) video id of each frame (any hashable, compared as strings).

    Returns
    -------
    (video_labels (V,), video_scores (V,), video_ids list of V str)

    Raises
    ------
    ScoreError
        When ``videos`` has another length, or a video's frames carry both labels.
    """
    labels = np.asarray(labels)
    _, scores = check_scores(labels, scores)
    videos = np.asarray([str(v) for v in videos])
    if videos.shape != labels.shape:
        raise ScoreError(f"videos must give one id per frame: {videos.shape} ids for {labels.shape} frames")
    ids, first, inverse = np.unique(videos, return_index=True, return_inverse=True)
    mixed = labels != labels[first][inverse]
    if mixed.any():
        raise ScoreError(
            f"video {str(videos[np.flatnonzero(mixed)[0]])!r} has frames with both labels; "
            "a video is either real or fake"
        )
    sums = np.bincount(inverse, weights=scores, minlength=len(ids))
    counts = np.bincount(inverse, minlength=len(ids))
    order = np.argsort(first, kind="stable")
    return labels[first][order], (sums / counts)[order], ids[order].tolist()


def summarize(labels, scores, pos_label: int = FAKE, threshold: float = 0.5) -> dict[str, float]:
    """``{"acc", "auc", "eer", "eer_threshold"}`` of one set of samples (floats; AUC and EER
    are NaN with one class only)."""
    eer, eer_threshold = equal_error_rate(labels, scores, pos_label)
    return {
        "acc": accuracy(labels, scores, threshold, pos_label),
        "auc": roc_auc(labels, scores, pos_label),
        "eer": eer,
        "eer_threshold": eer_threshold,
    }


def evaluate(labels, scores, videos=None, pos_label: int = FAKE, threshold: float = 0.5) -> dict:
    """ACC, AUC and EER at frame level and, given ``videos``, at video level.

    Parameters
    ----------
    labels : (n,) 1 = real, 0 = fake.
    scores : (n,) probability of ``pos_label`` (default fake: ``P(fake)``).
    videos : (n,) video id per frame, or ``None`` for frame level only.
    threshold : decision threshold of ACC (a sample is positive when ``score >= threshold``).

    Returns
    -------
    ``{"frame": {...}, "video": {...} or None, "n_frames": n, "n_videos": V or None}``, each
    level as returned by :func:`summarize`.
    """
    result = {
        "frame": summarize(labels, scores, pos_label, threshold),
        "video": None,
        "n_frames": int(len(np.asarray(labels))),
        "n_videos": None,
    }
    if videos is not None:
        video_labels, video_means, ids = video_scores(labels, scores, videos)
        result["video"] = summarize(video_labels, video_means, pos_label, threshold)
        result["n_videos"] = len(ids)
    return result
