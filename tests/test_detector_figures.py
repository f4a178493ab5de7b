"""Figures, explorers, features and ablation of the detector notebook (05).

Independent checks: ROC traces against scikit-learn's ``roc_curve`` (frame level, and video
level on per-video means computed here); the OT module's generated features against a
brute-force recomputation from its fitted features, codes and neighbour table (angles by the
normal-vector formula in NumPy and by :func:`acglab.ot.singular.dihedral_angles`); bottleneck
features against direct forward passes; the ablation table against the reports it reads.
"""

from __future__ import annotations

import copy
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score, roc_curve
from synthetic_faces import make_brighter_fakes

from acglab.data import FAKE, REAL, SampleTable, load_dataset
from acglab.data.tensors import FaceDataset
from acglab.errors import AcglabError, DataLayoutError, ModelConfigError
from acglab.explain import heatmap_overlay
from acglab.models.ot_module import OTFeatureModule
from acglab.ot.singular import dihedral_angles
from acglab.viz.ablation_figures import ablation_table_figure
from acglab.viz.detector_figures import (
    central_range,
    explanation_grid_figure,
    feature_embedding_figure,
    read_training_log,
    roc_comparison_figure,
    training_curves_figure,
)

IMG_SIZE = 64
BACKBONE = "mobilenetv3_small_100"
TINY = dict(decoder_channels=[16, 8, 4])


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    root = make_brighter_fakes(tmp_path_factory.mktemp("faces") / "data", side=48)
    return root, load_dataset(root)


@pytest.fixture(scope="module")
def tiny_acg():
    from acglab.models import build_model

    torch.manual_seed(0)
    return build_model("acg", BACKBONE, img_size=IMG_SIZE, **TINY)


# --- training curves ---------------------------------------------------------------------------
def test_training_curves_come_from_the_log_written_by_training(tmp_path):
    from acglab.train.runlog import history_csv

    history = [
        {
            "epoch": e,
            "step": 10 * e,
            "lr": 2e-4,
            "train_loss": 1.0 / e,
            "train_cls": 0.7 / e,
            "train_rec": 0.2 / e,
            "train_metric": 0.1 / e,
            "val_frame_auc": 0.5 + 0.1 * e,
            "val_video_auc": None if e == 2 else 0.55 + 0.1 * e,
        }
        for e in (1, 2, 3)
    ]
    history[-1]["partial"] = True
    (tmp_path / "log.csv").write_text(history_csv(history))
    log = read_training_log(tmp_path)
    assert np.array_equal(log["epoch"], [1, 2, 3])
    assert np.isnan(log["val_video_auc"][1]) and log["partial"][2] == 1.0
    fig = training_curves_figure(tmp_path / "log.csv")
    traces = {t.name: t for t in fig.data}
    assert list(traces) == [
        "L (total)",
        "L_cls",
        "L_r (real faces)",
        "L_m",
        "val AUC (frames)",
        "val AUC (videos)",
        "chance",
    ]
    np.testing.assert_allclose(traces["L_cls"].y, [0.7, 0.35, 0.7 / 3])
    np.testing.assert_allclose(traces["val AUC (frames)"].y, [0.6, 0.7, 0.8])
    assert traces["val AUC (frames)"].xaxis == "x2" and traces["L (total)"].xaxis == "x"


def test_training_log_errors_are_one_line(tmp_path):
    with pytest.raises(DataLayoutError, match="no training log"):
        read_training_log(tmp_path)
    (tmp_path / "log.csv").write_text("epoch,step\n")
    with pytest.raises(DataLayoutError, match="no epoch rows"):
        read_training_log(tmp_path / "log.csv")


# --- ROC of several models ------------------------------------------------------------------------
def test_roc_traces_match_scikit_learn_at_frame_and_video_level():
    rng = np.random.default_rng(3)
    videos = np.repeat([f"v{k}" for k in range(30)], 4)
    labels = np.repeat(rng.integers(0, 2, 30), 4)
    models = {}
    for name, signal in (("good", 1.5), ("weak", 0.3)):
        scores = np.round(rng.normal(signal * (labels == FAKE), 1.0), 1)  # ties on purpose
        models[name] = (labels, 1 / (1 + np.exp(-scores)), list(videos))
    fig = roc_comparison_figure(models)
    curves = [t for t in fig.data if t.name != "chance"]
    assert len(curves) == 4
    for k, (name, (lab, sc, vid)) in enumerate(models.items()):
        fpr, tpr, _ = roc_curve(lab == FAKE, sc, drop_intermediate=False)
        frame = curves[2 * k]
        np.testing.assert_allclose(frame.x, fpr)
        np.testing.assert_allclose(frame.y, tpr)
        assert frame.name.startswith(f"{name}: AUC {roc_auc_score(lab == FAKE, sc):.3f}")
        sums, labs = defaultdict(list), {}
        for v, y, s in zip(vid, lab, sc):
            sums[v].append(s)
            labs[v] = y
        order = list(dict.fromkeys(vid))
        v_lab = np.array([labs[v] for v in order])
        v_sc = np.array([np.mean(sums[v]) for v in order])
        fpr, tpr, _ = roc_curve(v_lab == FAKE, v_sc, drop_intermediate=False)
        video = curves[2 * k + 1]
        assert video.xaxis == "x2"
        np.testing.assert_allclose(video.x, fpr)
        np.testing.assert_allclose(video.y, tpr)


def test_roc_without_videos_draws_frames_only():
    fig = roc_comparison_figure({"m": ([0, 1, 0, 1], [0.9, 0.2, 0.6, 0.4])})
    curves = [t for t in fig.data if t.name != "chance"]
    assert len(curves) == 1 and curves[0].name.startswith("m: AUC 1.000, EER 0.0%")


# --- explanation grid ------------------------------------------------------------------------------
def test_explanation_grid_puts_real_rows_above_fake_rows():
    rng = np.random.default_rng(0)
    n, s = 5, 16
    faces = rng.integers(0, 256, (n, s, s, 3)).astype(np.uint8)
    heat = rng.random((n, s, s))
    residual = rng.random((n, s, s)) * np.arange(1, n + 1)[:, None, None]
    labels = np.array([FAKE, REAL, FAKE, REAL, FAKE])
    fig = explanation_grid_figure(faces, heat, labels, residual, scores=np.linspace(0.1, 0.9, n), per_class=2)
    images = [t for t in fig.data if t.type == "image"]
    assert len(images) == 2 * 3 * 2  # two classes, three panels, two faces each
    # row 1: real faces 1 and 3; row 2: their Grad-CAM overlays; row 4: fake faces 0 and 2
    np.testing.assert_array_equal(images[0].z, faces[1])
    np.testing.assert_array_equal(images[1].z, faces[3])
    np.testing.assert_array_equal(images[2].z, heatmap_overlay(faces[1], heat[1]))
    np.testing.assert_array_equal(images[6].z, faces[0])
    titles = [a.text for a in fig.layout.annotations]
    assert "real: face, P(fake) 0.30" in titles and "P(fake) 0.70" in titles and "fake: Grad-CAM" in titles
    # residuals share one colour scale: the largest residual of all reaches the top colour
    from acglab.explain.figures import colorize

    top = np.rint(255 * colorize(residual[3], "magma", float(residual.max()))).astype(np.uint8)
    np.testing.assert_array_equal(images[5].z, top)
    without = explanation_grid_figure(faces, heat, labels, None, per_class=2)
    assert len(without.data) == 2 * 2 * 2


# --- feature space and ablation table ---------------------------------------------------------------
def test_feature_embedding_traces_and_central_range():
    rng = np.random.default_rng(1)
    coords = rng.normal(size=(40, 2))
    coords[0] = [1e3, -1e3]  # a far outlier
    labels = np.arange(40) % 2
    fig = feature_embedding_figure(
        coords, labels, generated=rng.normal(size=(7, 2)), bank=rng.normal(size=(9, 2)), central=0.9
    )
    assert [t.name for t in fig.data] == ["real", "fake", "OT bank (fitted features)", "OT-generated features"]
    assert len(fig.data[0].x) == 20 and len(fig.data[3].x) == 7
    np.testing.assert_allclose(fig.data[1].x, coords[labels == FAKE, 0])
    shown = np.vstack([coords, [[fig.data[2].x[i], fig.data[2].y[i]] for i in range(9)]])
    lo, hi = np.quantile(shown[:, 0], [0.05, 0.95])
    assert fig.layout.xaxis.range == pytest.approx((lo - 0.15 * (hi - lo), hi + 0.15 * (hi - lo)))
    assert central_range([]) == [-1.0, 1.0]
    with pytest.raises(ValueError):
        feature_embedding_figure(coords[:, :1], labels)


def test_ablation_table_cells():
    rows = [
        {
            "name": "ACG",
            "video_auc": 0.91234,
            "video_eer": 0.125,
            "frame_auc": math.nan,
            "frame_eer": 0.2,
            "frame_acc": 0.75,
            "steps": 12,
            "source": "test.json",
        }
    ]
    cells = ablation_table_figure(rows).data[0].cells.values
    assert [c[0] for c in cells] == ["ACG", "0.912", "12.5%", "n/a", "20.0%", "75.0%", "12", "test.json"]


# --- generated features of the OT module ---------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted_ot():
    """An OT module fitted on features of three well-separated clusters (D = 6)."""
    torch.manual_seed(0)
    ot = OTFeatureModule(6, {"bank_size": 96, "warmup": 96, "refit_every": 1000, "dim": None, "seed": 3})
    ot.train()
    centres = torch.tensor([[4.0, 0, 0, 0, 0, 0], [0, 4.0, 0, 0, 0, 0], [0, 0, 4.0, 0, 0, 0]])
    for _ in range(3):
        ot(centres[torch.arange(32) % 3] + 0.3 * torch.randn(32, 6))
    assert int(ot.fit_count) == 96
    return ot


def _angle_numpy(codes: np.ndarray, i: int, j: int) -> float:
    a, b = np.append(codes[i], -1.0), np.append(codes[j], -1.0)
    return float(np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1, 1)))


def test_generated_features_are_interpolations_of_regular_neighbour_pairs(fitted_ot):
    ot = fitted_ot
    threshold, w = 0.5, 0.75
    feats, rec = ot.generated_features(400, torch.Generator().manual_seed(5), threshold=threshold, weight=w)
    codes = ot.fit_codes[:96].double().numpy()
    y = ot.fit_features[:96].double().numpy()
    table = ot.cell_neighbours[:96].numpy()
    expected, kept = [], []
    for i, j, angle in zip(rec.cells.tolist(), rec.partners.tolist(), rec.angles.tolist()):
        if j < 0:
            assert not (table[i] >= 0).any() and math.isnan(angle)
            kept.append(False)
            continue
        assert j in table[i] and j != i  # the partner comes from the cell's row of the neighbour table
        brute = _angle_numpy(codes, i, j)
        assert angle == pytest.approx(brute, abs=1e-5)
        assert angle == pytest.approx(float(dihedral_angles(ot.fit_codes, torch.tensor([i]), torch.tensor([j]))[0]))
        kept.append(brute <= threshold)
        if brute <= threshold:
            expected.append((1 - w) * y[i] + w * y[j])
    assert rec.replaced.tolist() == kept
    assert 0 < len(expected) < 400  # some pairs generate, some cross the singular set
    np.testing.assert_allclose(feats.double().numpy(), np.array(expected), atol=1e-5)


def test_generated_features_follow_the_threshold_and_the_generator(fitted_ot):
    ot = fitted_ot
    runs = {t: ot.generated_features(300, torch.Generator().manual_seed(1), threshold=t)[1] for t in (0.1, 0.5, 1.5)}
    # the same draws for every threshold: a larger threshold keeps a superset of the pairs
    assert torch.equal(runs[0.1].cells, runs[1.5].cells)
    assert bool((runs[0.1].replaced <= runs[0.5].replaced).all() and (runs[0.5].replaced <= runs[1.5].replaced).all())
    assert int(runs[0.1].replaced.sum()) < int(runs[1.5].replaced.sum())
    a, _ = ot.generated_features(50)
    b, _ = ot.generated_features(50)
    assert torch.equal(a, b)  # default generator seeded by the options
    # pairs across clusters have large angles: at AE-OT's default none joins two clusters
    feats, rec = ot.generated_features(300, torch.Generator().manual_seed(2))
    cluster = ot.fit_features[:96].argmax(1)
    kept = rec.replaced
    assert bool((cluster[rec.cells[kept]] == cluster[rec.partners[kept]]).all())


def test_generated_features_refuse_bad_calls():
    ot = OTFeatureModule(4, {"bank_size": 16, "warmup": 8})
    with pytest.raises(ModelConfigError, match="not been fitted"):
        ot.generated_features(10)
    ot.train()
    ot(torch.randn(8, 4))
    for bad in (dict(n=0), dict(n=5, threshold=4.0), dict(n=5, weight=1.5)):
        with pytest.raises(ModelConfigError):
            ot.generated_features(**bad)


# --- widgets ------------------------------------------------------------------------------------------
def test_ot_explorer_sliders_regenerate_the_overlay(fitted_ot):
    from acglab.viz.detector_widgets import ot_generation_explorer

    rng = np.random.default_rng(0)
    feats = fitted_ot.fit_features[:96].numpy() + rng.normal(0, 0.1, (96, 6))
    ex = ot_generation_explorer(fitted_ot, feats, np.arange(96) % 2, n=200, seed=4, threshold=0.5)
    before_x, before_text = np.array(ex.figure.data[3].x), ex.readout.value
    assert len(before_x) == int(ex.record.replaced.sum())
    ex.sliders["threshold"].value = 0.05
    assert len(ex.figure.data[3].x) == int(ex.record.replaced.sum()) < len(before_x)
    assert ex.readout.value != before_text
    ex.sliders["threshold"].value = 0.5
    ex.sliders["weight"].value = 0.25
    expected, _ = fitted_ot.generated_features(200, torch.Generator().manual_seed(4), threshold=0.5, weight=0.25)
    torch.testing.assert_close(ex.generated, expected)
    assert not np.allclose(ex.figure.data[3].x, before_x)


def test_face_explorer_slider_shows_the_chosen_face():
    from acglab.eval.features import FaceMaps
    from acglab.viz.detector_widgets import face_explorer

    rng = np.random.default_rng(0)
    maps = FaceMaps(
        faces=rng.integers(0, 256, (3, 8, 8, 3)).astype(np.uint8),
        gradcam=rng.random((3, 8, 8)),
        residual=rng.random((3, 8, 8)),
        scores=np.array([0.2, 0.7, 0.4]),
        labels=np.array([REAL, FAKE, FAKE]),
        videos=["a", "b", "c"],
    )
    ex = face_explorer(maps)
    assert len(ex.figure.data) == 3
    ex.sliders["face"].value = 2
    np.testing.assert_array_equal(np.asarray(ex.figure.data[0].z), maps.faces[2])
    np.testing.assert_array_equal(np.asarray(ex.figure.data[1].z), heatmap_overlay(maps.faces[2], maps.gradcam[2]))
    assert "<b>c</b>" in ex.readout.value and "called real (wrong)" in ex.readout.value


# --- features of a table ----------------------------------------------------------------------------------
def test_bottleneck_features_match_direct_forward_passes(faces, tiny_acg):
    from acglab.eval.features import bottleneck_features

    _, table = faces
    model = tiny_acg
    model.train()
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    got = bottleneck_features(model, table, batch_size=5, progress=False)
    assert model.training  # mode restored
    ds = FaceDataset(table, IMG_SIZE, model.normalization, train=False)
    x = torch.stack([ds[i][0] for i in range(len(table))])
    with torch.no_grad():
        out = copy.deepcopy(model).eval()(x)
    assert got.features.shape == (len(table), model.feature_dim) == (12, 576)
    np.testing.assert_allclose(got.features, out.features.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got.scores, torch.sigmoid(out.logits.double()).numpy(), rtol=1e-5)
    assert got.labels.tolist() == table.labels
    # batch statistics: one batch of all faces = a training-mode pass without noise or OT replacement
    batch = bottleneck_features(model, table, batch_size=len(table), progress=False, batch_statistics=True)
    twin = copy.deepcopy(model).train()
    twin.noise_prob = 0.0
    twin.ot.eval()
    with torch.no_grad():
        expected = twin(x).features.numpy()
    np.testing.assert_allclose(batch.features, expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(batch.features, got.features, atol=1e-3)
    for k, v in model.named_buffers():
        assert torch.equal(v, buffers[k]), f"buffer {k} changed"


def test_face_maps_shapes_and_backbone_without_residual(faces, tiny_acg):
    from acglab.eval.features import face_maps
    from acglab.models import build_model

    _, table = faces
    two = SampleTable([table[0], table[-1]])
    maps = face_maps(tiny_acg, two)
    assert maps.faces.shape == (2, IMG_SIZE, IMG_SIZE, 3) and maps.faces.dtype == np.uint8
    assert maps.gradcam.shape == maps.residual.shape == (2, IMG_SIZE, IMG_SIZE)
    assert maps.gradcam.min() >= 0 and maps.gradcam.max() <= 1 and maps.residual.min() >= 0
    plain = face_maps(build_model("backbone", BACKBONE, img_size=IMG_SIZE), two)
    assert plain.residual is None and plain.gradcam.shape == (2, IMG_SIZE, IMG_SIZE)


# --- ablation -----------------------------------------------------------------------------------------------
def _fake_report(run_dir, table: SampleTable, scores: np.ndarray):
    from acglab.eval.evaluate import Evaluation, metrics_report, write_report

    write_report(run_dir / "test.json", Evaluation(table, scores, metrics_report(table, scores)))


def test_read_ablation_takes_test_reports_and_evaluates_bare_checkpoints(faces, tmp_path):
    from acglab.eval.ablation import ablation_rows, read_ablation
    from acglab.eval.predict import predict_table
    from acglab.models import build_model
    from acglab.models.checkpoint import save_checkpoint

    _, table = faces
    rng = np.random.default_rng(0)
    given = {}
    for arm in ("backbone", "acg-no-ot"):
        (tmp_path / arm).mkdir()
        given[arm] = rng.random(len(table))
        _fake_report(tmp_path / arm, table, given[arm])
    (tmp_path / "acg-no-ot" / "summary.json").write_text(json.dumps({"steps": 17}))
    (tmp_path / "acg").mkdir()
    torch.manual_seed(0)
    model = build_model("acg", BACKBONE, img_size=IMG_SIZE, **TINY)
    save_checkpoint(tmp_path / "acg" / "best.pt", model)
    results = read_ablation(tmp_path, table)
    assert [r.arm for r in results] == ["backbone", "acg-no-ot", "acg"]
    assert [r.source for r in results] == ["test.json", "test.json", "best.pt"]
    assert not (tmp_path / "acg" / "test.json").exists()  # reading writes nothing
    np.testing.assert_allclose(results[0].scores, given["backbone"])
    np.testing.assert_allclose(results[2].scores, predict_table(model.eval(), table), rtol=1e-6)
    rows = ablation_rows(results)
    labels = np.array(table.labels)
    assert rows[0]["frame_auc"] == pytest.approx(roc_auc_score(labels == FAKE, given["backbone"]))
    assert rows[1]["steps"] == 17 and rows[0]["steps"] is None
    assert rows[2]["name"] == "ACG" and 0 <= rows[2]["video_auc"] <= 1


def test_read_ablation_refuses_incomplete_folders(faces, tmp_path):
    from acglab.eval.ablation import read_ablation

    _, table = faces
    with pytest.raises(DataLayoutError, match="does not exist"):
        read_ablation(tmp_path / "nowhere")
    (tmp_path / "backbone").mkdir()
    with pytest.raises(DataLayoutError, match="no acg-no-ot, acg folder"):
        read_ablation(tmp_path)
    with pytest.raises(DataLayoutError, match="no test.json and no best.pt or last.pt"):
        read_ablation(tmp_path, table, arms=["backbone"])
    (tmp_path / "backbone" / "test.json").write_text("{broken")
    with pytest.raises(DataLayoutError, match="cannot read"):
        read_ablation(tmp_path, arms=["backbone"])
    with pytest.raises(AcglabError, match="unknown ablation arm"):
        read_ablation(tmp_path, arms=["resnet"])


def test_train_ablation_trains_each_arm_once_and_writes_reports(faces, tmp_path):
    from acglab.eval.ablation import read_ablation, train_ablation
    from acglab.train import preset

    _, table = faces
    config = preset(
        "quick",
        backbone=BACKBONE,
        pretrained=False,
        img_size=32,
        batch_size=4,
        epochs=1,
        num_workers=0,
        model_options={"decoder_channels": [8, 8, 8]},
        checkpoint_every=0,
    )
    arms = ("backbone", "acg-no-ot")
    first = train_ablation(config, table, SampleTable(), table, tmp_path, arms=arms, device="cpu", progress=False)
    assert [r.arm for r in first] == list(arms) and all(r.steps == 3 for r in first)
    for arm in arms:
        saved = json.loads((tmp_path / arm / "config.json").read_text())
        assert saved["train"]["arch"] == arm and saved["train"]["img_size"] == 32
        assert (tmp_path / arm / "test.json").is_file()
    again = train_ablation(config, table, SampleTable(), table, tmp_path, arms=arms, device="cpu", progress=False)
    assert [r.steps for r in again] == [3, 3]  # finished runs are reused, not trained further
    np.testing.assert_allclose(again[1].scores, first[1].scores)
    read = read_ablation(tmp_path, arms=arms)
    assert read[0].report["frame"]["auc"] == pytest.approx(first[0].report["frame"]["auc"])


def test_ablation_intervals_and_figure():
    """Arms built so that ACG separates the videos better than the backbone: the paired interval
    is above 0, the AUCs agree with scikit-learn on the video means, the figure draws them."""
    from sklearn.metrics import roc_auc_score

    from acglab.eval.ablation import ArmResult, ablation_intervals
    from acglab.viz.ablation_figures import ablation_interval_figure

    rng = np.random.default_rng(0)
    videos = [f"v{i}" for i in range(60) for _ in range(3)]
    labels = np.array([REAL if i % 3 == 0 else FAKE for i in range(60) for _ in range(3)])
    signal = (labels == FAKE).astype(float)
    arms = [
        ArmResult(
            arm, Path("."), {}, "test", labels=labels, scores=signal * s + rng.normal(size=len(labels)), videos=videos
        )
        for arm, s in (("backbone", 0.5), ("acg", 2.5))
    ]
    rows = ablation_intervals(arms, n_boot=500)
    for row, arm in zip(rows, arms):
        means = np.array([arm.scores[np.array(videos) == v].mean() for v in dict.fromkeys(videos)])
        v_labels = labels[::3]
        assert row["video_auc"] == pytest.approx(roc_auc_score(v_labels == FAKE, means))
        assert row["ci"][0] < row["video_auc"] < row["ci"][1] and row["n_videos"] == 60
    assert "diff" not in rows[0] and rows[1]["diff_ci"][0] > 0
    fig = ablation_interval_figure(rows)
    assert len(fig.data) == 2 and list(fig.data[1].y) == [rows[1]["name"]]
    arms[0].scores = None
    with pytest.raises(AcglabError, match="no per-frame test scores"):
        ablation_intervals(arms)


def test_stored_ablation_picks_best_validation_epochs_and_averages_seeds(tmp_path):
    """Per seed the epoch of best validation frame AUC (first on ties) is used; the row's AUC is
    the mean over seeds of scikit-learn's AUC of those scores; the paired difference is the
    difference of the two means over the common seeds."""
    import json

    from sklearn.metrics import roc_auc_score

    from acglab.eval.ablation import stored_ablation
    from acglab.eval.stored_scores import read_stored_scores, write_stored_scores

    rng = np.random.default_rng(1)
    videos = [f"v{i}" for i in range(40)]
    labels = [REAL if i % 2 else FAKE for i in range(40)]
    fake = np.array([lab == FAKE for lab in labels], float)

    def run(strengths, val_frame):
        return [
            [
                e + 1,
                0.5,
                vf,
                {
                    "epoch": e + 1,
                    "video_auc": 0.5,
                    "frame_auc": 0.5,
                    # 5 decimals: what the file keeps
                    "video_scores": {
                        v: [round(float(fake[i] * s + rng.normal()), 5), labels[i]] for i, v in enumerate(videos)
                    },
                },
            ]
            for e, (s, vf) in enumerate(zip(strengths, val_frame))
        ]

    stored = {
        "acg": {"seed0": run([0.1, 3.0, 0.2], [0.6, 0.9, 0.9]), "seed1": run([2.0, 0.1], [0.8, 0.7])},
        "backbone": {"seed0": run([0.5], [0.5]), "seed1": run([0.5], [0.5]), "seed2": run([1.0], [0.5])},
    }
    path = tmp_path / "scores.json"
    write_stored_scores(path, stored)
    assert read_stored_scores(path) == stored
    rows = stored_ablation(path, {"backbone": "backbone", "acg": "ACG"}, reference="backbone", n_boot=300)

    def auc(record):
        scores = [record["video_scores"][v][0] for v in videos]
        return roc_auc_score(fake, scores)

    acg = [auc(stored["acg"]["seed0"][1][3]), auc(stored["acg"]["seed1"][0][3])]  # epoch 2 (tie -> first), epoch 1
    bb = [auc(stored["backbone"][s][0][3]) for s in ("seed0", "seed1", "seed2")]
    assert rows[1]["video_auc"] == pytest.approx(np.mean(acg)) and rows[1]["seeds"] == 2
    assert rows[0]["video_auc"] == pytest.approx(np.mean(bb)) and "diff" not in rows[0]
    assert rows[1]["diff"] == pytest.approx(np.mean(acg) - np.mean(bb[:2]))
    assert rows[1]["diff_ci"][0] <= rows[1]["diff"] <= rows[1]["diff_ci"][1]
    with pytest.raises(AcglabError, match="no runs of acg-no-ot"):
        stored_ablation(path, {"acg-no-ot": "x"}, reference="backbone")
    kept = stored_ablation(path, {"acg-no-ot": "x", "acg": "ACG"}, reference="backbone", n_boot=300, skip_missing=True)
    assert [r["arm"] for r in kept] == ["acg"] and "diff" not in kept[0]
    last = stored_ablation(path, {"acg": "ACG"}, reference="backbone", n_boot=300, rule="last epoch")
    assert last[0]["video_auc"] == pytest.approx(
        np.mean([auc(stored["acg"]["seed0"][2][3]), auc(stored["acg"]["seed1"][1][3])])
    )
    # one file holds one split: runs scored on other videos are refused, as is a file of another kind
    other = {"x": {"seed0": [[1, 0.5, 0.5, {**stored["acg"]["seed0"][0][3], "video_scores": {"w": [0.1, 0]}}]]}}
    with pytest.raises(AcglabError, match="different test videos"):
        write_stored_scores(tmp_path / "mixed.json", {**stored, **other})
    (tmp_path / "plain.json").write_text(json.dumps(stored))
    with pytest.raises(AcglabError, match="not a stored ablation scores file"):
        stored_ablation(tmp_path / "plain.json", {"acg": "ACG"}, reference="backbone")


def test_checkpoint_rules_pick_the_epoch_each_rule_names():
    """Each rule against a hand-worked run: best val video AUC, best val frame AUC (first on
    ties), best trailing 3-epoch mean of the val video AUC, and the last epoch."""
    from acglab.eval.ablation import CHECKPOINT_RULES, choose_epoch

    run = [[1, 0.9, 0.5, "a"], [2, 0.5, 0.8, "b"], [3, 0.8, 0.8, "c"], [4, 0.85, 0.6, "d"], [5, 0.2, 0.1, "e"]]
    # trailing means: 0.9, 0.7, 0.733, 0.717, 0.617 -> epoch 1
    picks = {rule: choose_epoch(run, rule)[3] for rule in CHECKPOINT_RULES}
    assert picks == {"val video AUC": "a", "val frame AUC": "b", "val video AUC, 3-epoch mean": "a", "last epoch": "e"}
    run[0][1] = 0.6  # trailing means: 0.6, 0.55, 0.633, 0.717, 0.617 -> epoch 4
    assert choose_epoch(run, "val video AUC, 3-epoch mean")[3] == "d"
    with pytest.raises(AcglabError, match="unknown checkpoint rule 'best'"):
        choose_epoch(run, "best")
