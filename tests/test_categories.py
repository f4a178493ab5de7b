"""Metrics per forgery method, against scikit-learn on the same subsets."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from acglab.data.samples import FAKE, REAL, Sample, SampleTable
from acglab.errors import AcglabError
from acglab.eval.categories import ALL_FAKES, category_metrics


def _table():
    samples = []
    for cat, label, n in (("real", REAL, 6), ("swap", FAKE, 5), ("sbi", FAKE, 4)):
        for v in range(n):
            for f in range(2):
                video = f"{cat}/v{v}"
                samples.append(Sample(f"/x/{video}/{f}.png", label, video, (video,), cat, "toy", f))
    return SampleTable(samples)


def test_each_category_against_all_real_faces():
    table = _table()
    rng = np.random.default_rng(0)
    cats = np.array([s.category for s in table])
    scores = rng.random(len(table)) + 0.6 * (cats == "sbi")  # sbi is easy, swap is chance
    rows = category_metrics(table, scores)
    assert [r["category"] for r in rows] == ["sbi", "swap", ALL_FAKES]
    labels = np.array(table.labels)
    for row in rows:
        keep = (cats == "real") | ((cats == row["category"]) if row["category"] != ALL_FAKES else (labels == FAKE))
        want = roc_auc_score(labels[keep] == FAKE, scores[keep])
        assert row["frame"]["auc"] == pytest.approx(want)
        assert row["real_videos"] == 6
    assert rows[0]["fake_videos"] == 4 and rows[0]["frame"]["auc"] > rows[1]["frame"]["auc"]


def test_one_class_and_bad_scores():
    table = _table()
    with pytest.raises(AcglabError, match="one score per face"):
        category_metrics(table, np.zeros(3))
    only_fake = SampleTable([s for s in table if s.label == FAKE])
    with pytest.raises(AcglabError, match="holds one class"):
        category_metrics(only_fake, np.zeros(len(only_fake)))


def test_category_figure_draws_each_row():
    from acglab.viz.ablation_figures import category_auc_figure

    table = _table()
    rows = category_metrics(table, np.linspace(0, 1, len(table)))
    fig = category_auc_figure(rows, in_domain=0.9)
    assert list(fig.data[0].x) == ["sbi", "swap", ALL_FAKES]
    assert list(fig.data[0].y) == pytest.approx([r["video"]["auc"] for r in rows])
    assert len(fig.layout.shapes) == 2  # chance and the in-domain line
