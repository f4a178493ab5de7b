"""Detection metrics against scikit-learn, brute-force threshold scans and hand examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from acglab.data.samples import FAKE, REAL
from acglab.metrics import (
    ScoreError,
    accuracy,
    equal_error_rate,
    evaluate,
    roc_auc,
    roc_curve,
    roc_figure,
    video_scores,
)


def random_case(seed: int, n: int = 300, ties: bool = False):
    """Labels (1 = real, 0 = fake) and scores P(fake) that are informative but overlap."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.2 * (labels == FAKE))))
    if ties:
        scores = np.round(scores, 1)  # about ten distinct values, many ties across classes
    return labels, scores


CASES = [(seed, ties, pos) for seed in (0, 1) for ties in (False, True) for pos in (FAKE, REAL)]


def brute_force_eer(labels, scores, pos_label):
    """Scan every threshold (inf and each distinct score), count FPR and FNR directly, and
    interpolate linearly between the two thresholds where FPR - FNR changes sign."""
    pos = [s for s, y in zip(scores, labels) if y == pos_label]
    neg = [s for s, y in zip(scores, labels) if y != pos_label]
    points = []
    for t in [math.inf] + sorted(set(scores), reverse=True):
        fpr = sum(s >= t for s in neg) / len(neg)
        fnr = sum(s < t for s in pos) / len(pos)
        points.append((t, fpr, fnr))
    for (t0, f0, n0), (t1, f1, n1) in zip(points, points[1:]):
        if f0 - n0 < 0 <= f1 - n1:
            a = (n0 - f0) / ((f1 - n1) - (f0 - n0))
            t0 = t1 if math.isinf(t0) else t0
            return f0 + a * (f1 - f0), t0 + a * (t1 - t0)
    raise AssertionError("no crossing")


@pytest.mark.parametrize("seed,ties,pos_label", CASES)
def test_roc_and_auc_match_sklearn(seed, ties, pos_label):
    labels, scores = random_case(seed, ties=ties)
    if pos_label == REAL:
        scores = 1 - scores
    fpr, tpr, thr = skm.roc_curve(labels, scores, pos_label=pos_label, drop_intermediate=False)
    curve = roc_curve(labels, scores, pos_label=pos_label)
    np.testing.assert_allclose(curve.fpr, fpr)
    np.testing.assert_allclose(curve.tpr, tpr)
    np.testing.assert_array_equal(curve.thresholds, thr)
    expected = skm.roc_auc_score(labels == pos_label, scores)
    assert roc_auc(labels, scores, pos_label) == pytest.approx(expected, abs=1e-12)
    assert 0.6 < expected < 0.95  # an informative but imperfect detector


def test_auc_is_the_pairwise_win_rate_with_ties_counting_half():
    labels, scores = random_case(3, n=120, ties=True)
    pos, neg = scores[labels == FAKE], scores[labels == REAL]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert roc_auc(labels, scores) == pytest.approx(wins / (len(pos) * len(neg)), abs=1e-12)


@pytest.mark.parametrize("seed,ties,pos_label", CASES)
def test_accuracy_matches_sklearn(seed, ties, pos_label):
    labels, scores = random_case(seed, ties=ties)
    for t in (0.5, 0.3, 0.8):
        expected = skm.accuracy_score(labels == pos_label, scores >= t)
        assert accuracy(labels, scores, threshold=t, pos_label=pos_label) == pytest.approx(expected)


def test_accuracy_counts_a_score_on_the_threshold_as_positive():
    assert accuracy([FAKE, REAL], [0.5, 0.49]) == 1.0
    assert accuracy([FAKE, REAL], [0.5, 0.49], pos_label=REAL) == 0.0


@pytest.mark.parametrize("seed,ties,pos_label", CASES)
def test_eer_matches_brute_force_scan(seed, ties, pos_label):
    labels, scores = random_case(seed, n=150, ties=ties)
    eer, threshold = equal_error_rate(labels, scores, pos_label)
    expected_eer, expected_threshold = brute_force_eer(labels.tolist(), scores.tolist(), pos_label)
    assert eer == pytest.approx(expected_eer, abs=1e-12)
    assert threshold == pytest.approx(expected_threshold, abs=1e-12)


def test_eer_by_hand():
    # fakes (positive) score 0.9, 0.6, 0.4; reals 0.7, 0.3, 0.2. At t = 0.6 one real of
    # three is above (FPR 1/3) and one fake of three below (FNR 1/3): EER 1/3 at 0.6.
    labels = [FAKE, FAKE, FAKE, REAL, REAL, REAL]
    scores = [0.9, 0.6, 0.4, 0.7, 0.3, 0.2]
    eer, threshold = equal_error_rate(labels, scores)
    assert eer == pytest.approx(1 / 3) and threshold == pytest.approx(0.6)
    # perfect and perfectly wrong detectors
    assert equal_error_rate([FAKE, FAKE, REAL], [0.9, 0.8, 0.1]) == (0.0, pytest.approx(0.8))
    assert equal_error_rate([FAKE, REAL], [0.1, 0.9])[0] == pytest.approx(1.0)
    # halfway along a segment: (FPR, FNR) goes from (0, 1) to (1, 0) through one tie
    assert equal_error_rate([FAKE, REAL], [0.5, 0.5]) == (pytest.approx(0.5), 0.5)


def test_video_scores_by_hand():
    labels = [REAL, REAL, FAKE, FAKE, FAKE, FAKE]
    scores = [0.25, 0.5, 0.875, 0.125, 0.25, 0.75]  # binary fractions: exact means
    videos = [
        "Celeb-real/a",
        "Celeb-real/a",
        "Celeb-synthesis/b",
        "Celeb-synthesis/c",
        "Celeb-synthesis/c",
        "Celeb-synthesis/c",
    ]
    order = [3, 0, 1, 2, 4, 5]  # shuffled rows give the same per-video means
    v_labels, v_scores, ids = video_scores(np.take(labels, order), np.take(scores, order), np.take(videos, order))
    assert ids == ["Celeb-synthesis/c", "Celeb-real/a", "Celeb-synthesis/b"]
    assert v_labels.tolist() == [FAKE, REAL, FAKE]
    assert v_scores.tolist() == [0.375, 0.375, 0.875]

    result = evaluate(labels, scores, videos)
    assert result["n_frames"] == 6 and result["n_videos"] == 3
    # videos, positive = fake: b 0.875 and c 0.375 against a 0.375 -> AUC (1 + 1/2) / 2
    assert result["video"]["auc"] == pytest.approx(0.75)
    # at 0.5: a (real, 0.375) right, b (fake, 0.875) right, c (fake, 0.375) wrong
    assert result["video"]["acc"] == pytest.approx(2 / 3)
    # frames: fakes .875, .125, .25, .75 against reals .25, .5 -> wins 2 + 0 + 0.5 + 2 of 8
    assert result["frame"]["auc"] == pytest.approx(4.5 / 8)
    # at 0.5 (score >= 0.5 means fake): reals .25 right, .5 wrong; fakes .875, .75 right
    assert result["frame"]["acc"] == pytest.approx(3 / 6)
    assert evaluate(labels, scores)["video"] is None


def test_evaluate_agrees_with_sklearn_on_both_levels():
    rng = np.random.default_rng(7)
    video_labels = rng.integers(0, 2, 40)
    videos = np.repeat([f"v{i}" for i in range(40)], 5)
    labels = np.repeat(video_labels, 5)
    scores = np.clip(0.5 + 0.25 * (labels == FAKE) + rng.normal(0, 0.3, 200), 0, 1)
    result = evaluate(labels, scores, videos)
    means = scores.reshape(40, 5).mean(axis=1)
    assert result["frame"]["auc"] == pytest.approx(skm.roc_auc_score(labels == FAKE, scores))
    assert result["video"]["auc"] == pytest.approx(skm.roc_auc_score(video_labels == FAKE, means))
    assert result["video"]["acc"] == pytest.approx(skm.accuracy_score(video_labels == FAKE, means >= 0.5))
    assert result["video"]["eer"] == pytest.approx(brute_force_eer(video_labels.tolist(), means.tolist(), FAKE)[0])
    flipped = evaluate(labels, 1 - scores, videos, pos_label=REAL)
    for level in ("frame", "video"):
        assert flipped[level]["auc"] == pytest.approx(result[level]["auc"])
        assert flipped[level]["eer"] == pytest.approx(result[level]["eer"])


def test_one_class_gives_nan_and_roc_curve_refuses():
    result = evaluate([FAKE, FAKE, FAKE], [0.2, 0.7, 0.9], ["a", "a", "b"])
    assert result["frame"]["acc"] == pytest.approx(2 / 3)
    assert math.isnan(result["frame"]["auc"]) and math.isnan(result["frame"]["eer"])
    # video a has mean 0.45 (called real, wrong), video b 0.9 (fake, right)
    assert math.isnan(result["video"]["auc"]) and result["video"]["acc"] == 0.5
    with pytest.raises(ScoreError, match="both classes"):
        roc_curve([REAL, REAL], [0.1, 0.2])


@pytest.mark.parametrize(
    "labels,scores,videos,match",
    [
        ([0, 1], [0.1, float("nan")], None, "NaN or infinite"),
        ([0, 1], [0.1, float("inf")], None, "NaN or infinite"),
        ([0, 1, 1], [0.1, 0.2], None, "equal length"),
        ([[0, 1]], [[0.1, 0.2]], None, "1-D"),
        ([], [], None, "no samples"),
        ([0, 2], [0.1, 0.2], None, "labels must be"),
        ([0, 1], [0.1, 0.2], ["a", "a"], "both labels"),
        ([0, 1], [0.1, 0.2], ["a"], "one id per frame"),
    ],
)
def test_bad_input(labels, scores, videos, match):
    with pytest.raises(ScoreError, match=match):
        evaluate(labels, scores, videos)


def test_bad_pos_label():
    with pytest.raises(ScoreError, match="pos_label"):
        roc_auc([0, 1], [0.1, 0.2], pos_label=2)


def test_roc_figure_draws_the_curves():
    labels, scores = random_case(5, n=60)
    labels = np.repeat(labels[:20], 3)
    scores = scores[:60]
    videos = np.repeat(np.arange(20), 3)
    fig = roc_figure(labels, scores, videos, name="ACG")
    curves = [d for d in fig.data if d.mode == "lines" and d.name != "chance"]
    assert [d.name.split(":")[0] for d in curves] == ["ACG frames", "ACG videos"]
    frame_curve = roc_curve(labels, scores)
    np.testing.assert_allclose(curves[0].x, frame_curve.fpr)
    np.testing.assert_allclose(curves[0].y, frame_curve.tpr)
    assert f"AUC {roc_auc(labels, scores):.3f}" in curves[0].name
    v_labels, v_scores, _ = video_scores(labels, scores, videos)
    np.testing.assert_allclose(curves[1].x, roc_curve(v_labels, v_scores).fpr)
    eer_marks = [d for d in fig.data if d.mode == "markers"]
    eer = equal_error_rate(labels, scores)[0]
    assert eer_marks[0].x[0] == pytest.approx(eer) and eer_marks[0].y[0] == pytest.approx(1 - eer)
    both = roc_figure(labels, 1 - scores, pos_label=REAL, name="other", fig=fig)
    assert both is fig and len(fig.data) == 1 + 4 + 2
