"""``acglab eval`` and :mod:`acglab.eval`: scores, part selection, leakage refusal, reports.

Independent checks: the JSON metrics equal :func:`acglab.metrics.evaluate` on scores obtained by
calling the model on one image at a time; video-level AUC equals scikit-learn's on per-video
means computed here; the evaluated part holds exactly the split's videos.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from synthetic_faces import make_brighter_fakes

from acglab.cli import main
from acglab.data import FAKE, REAL, Sample, SampleTable, Split, load_dataset, save_split
from acglab.errors import SplitError, SplitLeakageError
from acglab.eval.evaluate import Evaluation, metrics_report, read_scores_csv, scores_csv_path, select_part, write_report
from acglab.eval.predict import batch_scores, predict_table
from acglab.metrics import evaluate

IMG_SIZE = 32
BACKBONE = "resnet18"


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    base = tmp_path_factory.mktemp("evaldata")
    return make_brighter_fakes(base / "home", 5, 3, seed=0), make_brighter_fakes(base / "other", 3, 2, seed=1)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from acglab.models import build_model
    from acglab.models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model(arch="acg", backbone=BACKBONE, pretrained=False, img_size=IMG_SIZE)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, model, epoch=3, best_auc=0.5)
    return path


def _direct_scores(checkpoint, table):
    """P(fake) of each row by calling the model on one image at a time: 1 / (1 + exp(-z))."""
    from acglab.data.tensors import FaceDataset
    from acglab.models.checkpoint import model_from_checkpoint

    model = model_from_checkpoint(checkpoint).eval()
    data = FaceDataset(
        table, img_size=IMG_SIZE, normalization=model.normalization, train=False, hflip=False, synth_augment=False
    )
    out = []
    with torch.no_grad():
        for i in range(len(table)):
            x, label, index = data[i]
            assert index == i and label == table[i].label
            z = float(model(x[None]).logits[0])
            out.append(1.0 / (1.0 + np.exp(-z)))
    return np.array(out)


def _split(table, test, train=None, val=()):
    videos = table.videos
    train = [v for v in videos if v not in set(test) | set(val)] if train is None else list(train)
    return Split(train=train, val=list(val), test=list(test), meta={"by": "video"})


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_json_matches_metrics_on_directly_computed_scores(datasets, checkpoint, tmp_path, capsys):
    home, _ = datasets
    table = load_dataset(home)
    test_videos = ["real/v1", "real/v3", "fake/v0", "fake/v2", "fake/v4"]
    split_path = save_split(_split(table, test_videos), tmp_path / "split.json")
    out = tmp_path / "res" / "metrics.json"
    code, stdout, err = _run(
        capsys,
        "eval",
        "--checkpoint",
        checkpoint,
        "--data",
        home,
        "--split",
        split_path,
        "--json",
        out,
        "--device",
        "cpu",
        "--batch-size",
        4,
        "--roc",
        tmp_path / "res" / "roc.html",
    )
    assert code == 0, err
    assert "frames: ACC" in stdout and "videos: ACC" in stdout
    report = json.loads(out.read_text())

    part = table.subset(test_videos)
    assert report["n_frames"] == len(part) == 15 and report["n_videos"] == 5
    assert report["data"]["part"] == "test" and report["checkpoint"]["epoch"] == 3
    assert report["config"]["backbone"] == BACKBONE

    scores = _direct_scores(checkpoint, part)
    expected = evaluate(part.labels, scores, [s.video for s in part])
    for level in ("frame", "video"):
        for key in ("acc", "auc", "eer"):
            assert report[level][key] == pytest.approx(expected[level][key], abs=1e-9), (level, key)

    # the CSV beside the JSON: one row per evaluated frame, in table order, same scores
    paths, videos, labels, csv_scores = read_scores_csv(scores_csv_path(out))
    assert paths == [s.path for s in part] and videos == [s.video for s in part]
    assert labels.tolist() == part.labels
    np.testing.assert_allclose(csv_scores, scores, atol=1e-6)
    assert report["files"]["scores"] == str(scores_csv_path(out))
    html = (tmp_path / "res" / "roc.html").read_text()
    assert f"tiny frames: AUC {report['frame']['auc']:.3f}" in html
    assert f"tiny videos: AUC {report['video']['auc']:.3f}" in html


def test_video_level_is_the_mean_of_frame_scores(datasets):
    table = load_dataset(datasets[0])
    rng = np.random.default_rng(4)
    scores = rng.random(len(table))
    report = metrics_report(table, scores)
    groups = defaultdict(list)
    for s, p in zip(table, scores):
        groups[s.video].append((s.label, p))
    labels = np.array([g[0][0] for g in groups.values()])
    means = np.array([np.mean([p for _, p in g]) for g in groups.values()])
    assert report["n_videos"] == len(groups) == 10
    assert report["video"]["auc"] == pytest.approx(roc_auc_score(labels == FAKE, means))
    assert report["frame"]["auc"] == pytest.approx(roc_auc_score(np.array(table.labels) == FAKE, scores))
    assert report["video"]["acc"] == pytest.approx(np.mean((means >= 0.5) == (labels == FAKE)))


def test_batch_scores_places_scores_by_index_and_restores_mode():
    class Linear(torch.nn.Module):
        def forward(self, x):
            return x.sum(dim=(1, 2, 3))

    x = torch.randn(7, 3, 2, 2)
    order = [4, 0, 6, 2, 1, 5, 3]
    batches = [(x[order[i : i + 3]], torch.zeros(3), torch.tensor(order[i : i + 3])) for i in range(0, 7, 3)]
    model = Linear().train()
    got = batch_scores(model, batches, 7)
    z = x.sum(dim=(1, 2, 3)).double().numpy()
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-z)))
    assert model.training
    with pytest.raises(RuntimeError, match="not scored"):
        batch_scores(model, batches[:1], 7)


def test_predict_table_matches_one_image_at_a_time(datasets, checkpoint):
    from acglab.models.checkpoint import model_from_checkpoint

    table = load_dataset(datasets[1])
    got = predict_table(model_from_checkpoint(checkpoint), table, batch_size=5)
    np.testing.assert_allclose(got, _direct_scores(checkpoint, table), atol=1e-6)


def _sample(video, label, ids, frame=0):
    return Sample(f"/x/{video}_{frame}.jpg", label, video, tuple(ids), video.split("/")[0], "hand", frame)


HAND = SampleTable(
    [
        _sample("Celeb-real/id0_0000", REAL, ["id0"]),
        _sample("Celeb-real/id0_0000", REAL, ["id0"], 1),
        _sample("Celeb-real/id1_0000", REAL, ["id1"]),
        _sample("Celeb-real/id2_0000", REAL, ["id2"]),
        _sample("Celeb-synthesis/id0_id1_0000", FAKE, ["id0", "id1"]),
        _sample("Celeb-synthesis/id2_id1_0000", FAKE, ["id2", "id1"]),
        _sample("Celeb-synthesis/id3_id2_0000", FAKE, ["id3", "id2"]),
    ]
)


def test_select_part_takes_exactly_the_parts_videos():
    split = Split(
        train=["Celeb-real/id1_0000"],
        val=["Celeb-real/id2_0000"],
        test=["Celeb-real/id0_0000", "Celeb-synthesis/id0_id1_0000", "Celeb-synthesis/id3_id2_0000"],
    )
    test = select_part(HAND, split, "test")
    assert [s.video for s in test] == [
        "Celeb-real/id0_0000",
        "Celeb-real/id0_0000",
        "Celeb-synthesis/id0_id1_0000",
        "Celeb-synthesis/id3_id2_0000",
    ]
    assert [s.video for s in select_part(HAND, split, "val")] == ["Celeb-real/id2_0000"]
    assert select_part(HAND, None) is HAND  # no split: every sample (cross-dataset)
    with pytest.raises(SplitError, match="unknown split part"):
        select_part(HAND, split, "dev")
    with pytest.raises(SplitError, match="does not have"):
        select_part(HAND, Split(train=[], test=["Celeb-real/id9_0000"]), "test")


def test_select_part_refuses_parts_sharing_videos_or_targets_with_training():
    shared_video = Split(train=["Celeb-real/id1_0000", "Celeb-real/id0_0000"], test=["Celeb-real/id0_0000"])
    with pytest.raises(SplitLeakageError, match="test part shares 1 videos"):
        select_part(HAND, shared_video, "test")
    # id2 is the target of a val video and of a test video: test leaks into val
    shared_target = Split(
        train=["Celeb-real/id1_0000"], val=["Celeb-real/id2_0000"], test=["Celeb-synthesis/id2_id1_0000"]
    )
    with pytest.raises(SplitLeakageError, match=r"target identities \(id2\) with train and val"):
        select_part(HAND, shared_target, "test")
    assert len(select_part(HAND, shared_target, "test", allow_leaky=True)) == 1
    # a source identity alone (id1 pasted into a test fake) is not a leak of targets
    source_only = Split(train=["Celeb-real/id1_0000"], test=["Celeb-synthesis/id0_id1_0000"])
    assert len(select_part(HAND, source_only, "test")) == 1
    # leaks between train and val do not concern the test part
    train_val = Split(train=["Celeb-real/id0_0000"], val=["Celeb-real/id0_0000"], test=["Celeb-real/id1_0000"])
    assert len(select_part(HAND, train_val, "test")) == 1


def test_leaky_split_is_refused_by_the_cli_and_nothing_is_written(datasets, checkpoint, tmp_path, capsys):
    home, _ = datasets
    table = load_dataset(home)
    leaky = _split(table, ["real/v0", "fake/v0"], train=table.videos)
    split_path = save_split(leaky, tmp_path / "leaky.json")
    out = tmp_path / "res" / "m.json"
    code, stdout, err = _run(
        capsys,
        "eval",
        "--checkpoint",
        checkpoint,
        "--data",
        home,
        "--split",
        split_path,
        "--json",
        out,
        "--device",
        "cpu",
    )
    assert code == 2 and stdout == ""
    assert err.startswith("acglab: error: split is leaky") and err.count("\n") == 1
    assert not (tmp_path / "res").exists()
    code, _, err = _run(
        capsys,
        "eval",
        "--checkpoint",
        checkpoint,
        "--data",
        home,
        "--split",
        split_path,
        "--json",
        out,
        "--device",
        "cpu",
        "--allow-leaky-split",
    )
    assert code == 0 and json.loads(out.read_text())["n_videos"] == 2


def test_cross_dataset_evaluation_scores_every_sample(datasets, checkpoint, tmp_path, capsys):
    _, other = datasets
    out = tmp_path / "cross.json"
    code, _, err = _run(
        capsys,
        "eval",
        "--checkpoint",
        checkpoint,
        "--data",
        other,
        "--json",
        out,
        "--device",
        "cpu",
        "--roc",
        tmp_path / "cross.png",
    )
    from acglab.eval.evaluate import kaleido_available

    assert code == 0, err
    report = json.loads(out.read_text())
    table = load_dataset(other)
    assert report["n_frames"] == len(table) == 12 and report["n_videos"] == 6
    assert report["data"]["part"] == "all" and report["data"]["split"] is None
    expected = evaluate(table.labels, _direct_scores(checkpoint, table), [s.video for s in table])
    assert report["video"]["auc"] == pytest.approx(expected["video"]["auc"])
    # PNG needs kaleido and a browser; without them the figure comes as HTML
    roc = report["files"]["roc"]
    assert roc.endswith((".png", ".html")) and (tmp_path / roc.rsplit("/", 1)[1]).is_file()
    if not kaleido_available():
        assert roc == str(tmp_path / "cross.html") and "ROC written as" in err
        assert not (tmp_path / "cross.png").exists()


def test_cli_refuses_bad_inputs_with_one_line(datasets, checkpoint, tmp_path, capsys):
    home, _ = datasets
    bad_ckpt = tmp_path / "bad.pt"
    bad_ckpt.write_bytes(b"not a checkpoint at all")
    cases = [
        (["--checkpoint", bad_ckpt, "--data", home, "--json", tmp_path / "a.json"], "checkpoint"),
        (["--checkpoint", checkpoint, "--data", tmp_path / "nowhere", "--json", tmp_path / "a.json"], ""),
        (["--checkpoint", checkpoint, "--data", home, "--json", tmp_path / "a.txt"], ".json"),
        (
            ["--checkpoint", checkpoint, "--data", home, "--json", tmp_path / "a.json", "--roc", tmp_path / "r.svg"],
            ".html",
        ),
        (["--checkpoint", checkpoint, "--data", home, "--json", tmp_path / "a.json", "--part", "val"], "--split"),
    ]
    for argv, needle in cases:
        code, stdout, err = _run(capsys, "eval", *argv, "--device", "cpu")
        assert code == 2 and stdout == "" and err.count("\n") == 1, (argv, err)
        assert err.startswith("acglab: error: ") and needle in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pt"]


def test_write_report_turns_nan_into_null(tmp_path):
    table = SampleTable([_sample("Celeb-real/id0_0000", REAL, ["id0"]), _sample("Celeb-real/id1_0000", REAL, ["id1"])])
    scores = np.array([0.2, 0.7])
    data = write_report(tmp_path / "one-class.json", Evaluation(table, scores, metrics_report(table, scores)))
    text = (tmp_path / "one-class.json").read_text()
    assert "NaN" not in text and json.loads(text)["frame"]["auc"] is None
    assert data["frame"]["acc"] == pytest.approx(0.5)


def test_celebdf_mini_test_part_of_a_target_split_and_refusal_of_a_video_split(
    celebdf_mini, checkpoint, tmp_path, capsys
):
    from acglab.data import make_split

    table = load_dataset(celebdf_mini)
    clean = save_split(make_split(table, by="target", seed=0), tmp_path / "target.json")
    out = tmp_path / "celebdf.json"
    code, _, err = _run(
        capsys,
        "eval",
        "--checkpoint",
        checkpoint,
        "--data",
        celebdf_mini,
        "--split",
        clean,
        "--json",
        out,
        "--device",
        "cpu",
        "--batch-size",
        64,
    )
    assert code == 0, err
    report = json.loads(out.read_text())
    split = json.loads(clean.read_text())
    part = table.subset(split["test"])
    assert report["n_videos"] == len(split["test"]) and report["n_frames"] == len(part)
    _, videos, _, _ = read_scores_csv(scores_csv_path(out))
    assert set(videos) == set(split["test"])
    # a video-level split puts target identities on both sides: refused, nothing written
    leaky = save_split(make_split(table, by="video", seed=0), tmp_path / "video.json")
    out2 = tmp_path / "leaky" / "m.json"
    code, _, err = _run(
        capsys,
        "eval",
        "--checkpoint",
        checkpoint,
        "--data",
        celebdf_mini,
        "--split",
        leaky,
        "--json",
        out2,
        "--device",
        "cpu",
    )
    assert code == 2 and "target identities" in err and err.count("\n") == 1
    assert not out2.parent.exists()


def test_one_class_folder_reports_acc_and_says_auc_is_undefined(datasets, checkpoint, tmp_path, capsys):
    import shutil

    home, _ = datasets
    only_fake = tmp_path / "only-fake"
    shutil.copytree(Path(home) / "fake", only_fake / "fake")
    out = tmp_path / "one.json"
    code, stdout, err = _run(
        capsys,
        "eval",
        "--checkpoint",
        checkpoint,
        "--data",
        only_fake,
        "--json",
        out,
        "--device",
        "cpu",
        "--roc",
        tmp_path / "roc.html",
    )
    assert code == 0, err
    assert err.count("\n") == 1 and "all fake" in err and "AUC and EER are undefined" in err
    assert "AUC n/a" in stdout and "ACC " in stdout
    report = json.loads(out.read_text())
    assert report["frame"]["auc"] is None and 0.0 <= report["frame"]["acc"] <= 1.0
    assert report["files"]["roc"] is None and not (tmp_path / "roc.html").exists()


def test_score_pixels_resizes_normalises_and_matches_a_direct_forward(checkpoint):
    import torch.nn.functional as F

    from acglab.eval.predict import score_pixels
    from acglab.models.checkpoint import model_from_checkpoint

    model = model_from_checkpoint(checkpoint)
    norm = model.normalization
    mean = torch.tensor(norm.mean).view(1, 3, 1, 1)
    std = torch.tensor(norm.std).view(1, 3, 1, 1)
    pixels = torch.rand(5, 3, IMG_SIZE, IMG_SIZE)
    with torch.no_grad():
        z = model((pixels - mean) / std).logits.double()
    np.testing.assert_allclose(score_pixels(model, pixels.numpy(), batch_size=2), torch.sigmoid(z).numpy(), atol=1e-6)
    small = torch.rand(3, 3, 20, 20)
    grown = F.interpolate(small, size=(IMG_SIZE, IMG_SIZE), mode="bilinear", align_corners=False, antialias=True)
    with torch.no_grad():
        z = model((grown - mean) / std).logits.double()
    np.testing.assert_allclose(score_pixels(model, small.numpy()), torch.sigmoid(z).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="pixels"):
        score_pixels(model, np.zeros((2, 1, 8, 8)))
