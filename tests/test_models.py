"""ACG detector and its OT module: output shapes for the three architectures, denoising noise in
training only, local pretrained weights, and the OT interpolation checked against brute-force
power cells, the closed-form interpolation and the singular set of two far clusters."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from acglab.errors import CheckpointError
from acglab.models import ModelConfigError, build_model, build_model_from_config
from acglab.models.acg import add_white_noise
from acglab.models.ot_module import OTFeatureModule
from acglab.models.ot_options import OTOptions
from acglab.models.ot_pairs import draw_partners, neighbour_table
from acglab.models.outputs import Normalization
from acglab.ot.singular import dihedral_angles
from acglab.ot.solver import SemiDiscreteOT
from acglab.ot.sources import SobolSource
from acglab.ot.targets import random_orthonormal

SMALL = "test_efficientnet"  # timm's 82k-parameter test network: stages of stride 2..32
SIZE = 64


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("arch", ["acg", "acg-no-ot", "backbone"])
def test_forward_shapes_resnet18(arch):
    torch.manual_seed(0)
    model = build_model(arch, "resnet18", img_size=SIZE).train()
    x = torch.randn(4, 3, SIZE, SIZE)
    out = model(x)
    assert out.logits.shape == (4,) and out.features.shape == (4, 512)
    assert torch.isfinite(out.logits).all()
    if arch == "backbone":
        assert out.recon is None and out.pooled == [] and out.ot == {}
    else:
        assert out.recon.shape == x.shape
        assert [p.shape for p in out.pooled] == [(4, 256), (4, 256), (4, 128)]
        assert (out.ot != {}) == (arch == "acg")
    assert model.normalization == Normalization((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    json.dumps(model.config)
    assert model.config["arch"] == arch and model.config["img_size"] == SIZE


@pytest.mark.parametrize("arch", ["acg", "backbone"])
def test_truncated_backbone_is_the_first_stages_of_the_full_one(arch):
    torch.manual_seed(0)
    full = build_model(arch, "resnet18", img_size=SIZE).eval()
    cut = build_model(arch, "resnet18", img_size=SIZE, max_stride=16).eval()
    assert cut.feature_dim == 256 and not any("layer4" in k for k in cut.state_dict())
    assert sum(p.numel() for p in cut.encoder.parameters()) < 0.3 * sum(p.numel() for p in full.encoder.parameters())
    # with the full network's weights, the truncated encoder returns its first four maps exactly
    cut.encoder.load_state_dict(
        {f"model.{k}": v for k, v in full.encoder.state_dict().items() if not k.startswith("layer4")}
    )
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        maps_full, maps_cut = full.encoder(x), cut.encoder(x)
    assert len(maps_cut) == 4
    for a, b in zip(maps_full[:4], maps_cut):
        torch.testing.assert_close(a, b)
    out = cut(x)
    assert out.logits.shape == (2,) and out.features.shape == (2, 256)
    assert build_model_from_config(json.loads(json.dumps(cut.config))).config["options"]["max_stride"] == 16
    with pytest.raises(ModelConfigError, match="max_stride must be an integer >= 2"):
        build_model(arch, "resnet18", max_stride=1)


@pytest.mark.parametrize("backbone", [SMALL, "mobilenetv3_small_100"])
def test_truncated_encoders_drop_the_deeper_layers(backbone):
    """Networks whose timm feature wrapper keeps every block are pruned too: no weight left
    without a gradient (DDP requires it) and fewer weights than the full encoder."""
    full = build_model("acg-no-ot", backbone, img_size=SIZE)
    cut = build_model("acg-no-ot", backbone, img_size=SIZE, max_stride=16).train()
    assert cut.encoder.feature_info.reduction() == [2, 4, 8, 16]
    assert sum(p.numel() for p in cut.encoder.parameters()) < sum(p.numel() for p in full.encoder.parameters())
    out = cut(torch.randn(2, 3, SIZE, SIZE))
    (out.logits.sum() + out.recon.sum() + sum(p.sum() for p in out.pooled)).backward()
    assert [n for n, p in cut.named_parameters() if p.grad is None] == []


def test_legacy_xception_builds_and_runs():
    model = build_model("acg", "legacy_xception", img_size=96).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 96, 96))
    assert out.logits.shape == (1,) and out.recon.shape == (1, 3, 96, 96)
    assert [p.shape[1] for p in out.pooled] == [728, 256, 128] and out.features.shape == (1, 2048)
    assert model.normalization == Normalization((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def test_reconstruction_stays_in_the_pixel_range():
    model = build_model("acg-no-ot", SMALL, img_size=SIZE).eval()
    with torch.no_grad():
        recon = model(torch.randn(2, 3, SIZE, SIZE) * 5).recon
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in model.normalization)
    pixels = recon * std + mean
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5


def test_config_rebuilds_the_same_model():
    model = build_model(
        "acg", SMALL, img_size=SIZE, noise_std=0.05, decoder_channels=[32, 16, 8], ot={"bank_size": 64, "dim": 4}
    )
    again = build_model_from_config(json.loads(json.dumps(model.config)))
    assert again.config == model.config
    assert {k: v.shape for k, v in again.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    assert model.config["options"]["ot"]["bank_size"] == 64 and model.config["options"]["noise_std"] == 0.05


def test_bad_settings_are_one_clear_error():
    with pytest.raises(ModelConfigError, match="unknown architecture"):
        build_model("recce", SMALL)
    with pytest.raises(ModelConfigError, match="unknown timm backbone"):
        build_model("acg", "no_such_net")
    with pytest.raises(ModelConfigError, match="unknown option"):
        build_model("acg", SMALL, noise=0.1)
    with pytest.raises(ModelConfigError, match="unknown OT option"):
        build_model("acg", SMALL, ot={"banksize": 3})
    with pytest.raises(ModelConfigError, match="img_size"):
        build_model("acg", SMALL, img_size=8)
    with pytest.raises(ModelConfigError, match="weight"):
        build_model("acg", SMALL, ot={"weight": 1.5})
    with pytest.raises(ModelConfigError, match="B, 3, H, W"):
        build_model("backbone", SMALL)(torch.randn(3, SIZE, SIZE))
    # the OT options are accepted and ignored where there is no OT module
    assert "ot" not in build_model("acg-no-ot", SMALL, ot={"bank_size": 8}).config["options"]


# ---------------------------------------------------------------------------- denoising input
def test_white_noise_statistics_and_clipping():
    norm = Normalization((0.5, 0.4, 0.3), (0.25, 0.2, 0.1))
    x = torch.zeros(400, 3, 16, 16)  # pixels 0.5, 0.4, 0.3: far from the clip limits for std 0.03
    torch.manual_seed(0)
    noisy = add_white_noise(x, norm, std=0.03, prob=0.5)
    changed = (noisy != x).flatten(1).any(1)
    assert 0.4 < changed.float().mean() < 0.6
    per_channel = (noisy - x)[changed].transpose(0, 1).flatten(1).std(1)
    np.testing.assert_allclose(per_channel.numpy(), [0.03 / 0.25, 0.03 / 0.2, 0.03 / 0.1], rtol=0.02)
    low, high = norm.pixel_range()
    big = add_white_noise(x, norm, std=1.0, prob=1.0)
    assert (big >= low - 1e-6).all() and (big <= high + 1e-6).all()
    assert add_white_noise(x, norm, std=0.0, prob=1.0) is x


def test_noise_is_added_in_training_only():
    model = build_model("acg-no-ot", SMALL, img_size=SIZE, noise_prob=1.0)
    seen = []
    model.encoder.register_forward_pre_hook(lambda mod, args: seen.append(args[0].detach().clone()))
    x = torch.rand(2, 3, SIZE, SIZE)
    model.eval()
    model(x)
    model.train()
    model(x)
    assert torch.equal(seen[0], x)
    assert not torch.equal(seen[1], x) and (seen[1] - x).abs().max() < 1.0


# ---------------------------------------------------------------------------- local weights
def test_local_pretrained_weights_load(tmp_path):
    import timm

    reference = timm.create_model(SMALL, pretrained=False)
    torch.nn.init.normal_(reference.conv_stem.weight)
    path = tmp_path / "weights.pth"
    torch.save(reference.state_dict(), path)
    model = build_model("acg", SMALL, pretrained=str(path), img_size=SIZE)
    assert torch.equal(model.encoder.conv_stem.weight, reference.conv_stem.weight)
    # wrapped in {"state_dict": ...} and without the classifier also works
    headless = {k: v for k, v in reference.state_dict().items() if not k.startswith("classifier.")}
    torch.save({"state_dict": headless}, path)
    model = build_model("backbone", SMALL, pretrained=path, img_size=SIZE)
    assert torch.equal(model.encoder.conv_stem.weight, reference.conv_stem.weight)


def test_local_weights_of_another_network_are_refused(tmp_path):
    import timm

    path = tmp_path / "other.pth"
    torch.save(timm.create_model("test_resnet").state_dict(), path)
    with pytest.raises(CheckpointError, match="does not fit timm model"):
        build_model("acg", SMALL, pretrained=path)
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(CheckpointError, match="cannot read weights file"):
        build_model("acg", SMALL, pretrained=path)
    with pytest.raises(CheckpointError, match="no weights file"):
        build_model("acg", SMALL, pretrained=tmp_path / "missing.pth")


# ---------------------------------------------------------------------------- OT module
def brute_force_top2(x: np.ndarray, y: np.ndarray, h: np.ndarray) -> np.ndarray:
    scores = x @ y.T + h
    return np.argsort(-scores, axis=1, kind="stable")[:, :2]


def two_clusters(n_per: int, seed: int, dim: int = 2, spread: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (2 n_per, dim) in two far clusters around -5 e_1 and +5 e_1, labels 0 and 1."""
    g = torch.Generator().manual_seed(seed)
    centre = torch.zeros(dim)
    centre[0] = 5.0
    a = torch.randn(n_per, dim, generator=g) * spread - centre
    b = torch.randn(n_per, dim, generator=g) * spread + centre
    return torch.cat([a, b]), torch.cat([torch.zeros(n_per), torch.ones(n_per)]).long()


def test_neighbour_table_holds_top2_pairs_of_source_points():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(12, 3, generator=g)
    h = torch.randn(12, generator=g) * 0.1
    x = SobolSource(3, "cube", 1).draw(4096)
    top2 = torch.from_numpy(brute_force_top2(x.numpy(), y.numpy(), h.numpy()))
    table = neighbour_table(top2, 12, 5, torch.Generator().manual_seed(1))
    pairs = {tuple(p) for p in top2.tolist()}
    counts = np.bincount(top2[:, 0].numpy(), minlength=12)
    for i in range(12):
        row = table[i].tolist()
        valid = [j for j in row if j >= 0]
        assert row[: len(valid)] == valid  # filled from the left
        assert len(valid) == min(5, counts[i])
        assert all((i, j) in pairs for j in valid)


def test_draw_partners_picks_valid_entries_uniformly():
    table = torch.tensor([[3, 4, -1, -1], [-1, -1, -1, -1], [7, -1, -1, -1]]).repeat(2000, 1)
    got = draw_partners(table, torch.Generator().manual_seed(0)).view(2000, 3)
    assert set(got[:, 0].tolist()) == {3, 4} and abs(float((got[:, 0] == 3).float().mean()) - 0.5) < 0.05
    assert (got[:, 1] == -1).all() and (got[:, 2] == 7).all()


def test_random_projection_is_orthonormal():
    p = random_orthonormal(40, 6, seed=3)
    np.testing.assert_allclose((p.T @ p).numpy(), np.eye(6), atol=1e-5)
    assert torch.equal(p, random_orthonormal(40, 6, seed=3))


def ot_module(dim: int = 2, **options) -> OTFeatureModule:
    base = {"bank_size": 64, "warmup": 16, "refit_every": 1, "dim": None, "max_steps": 30, "samples": 4096}
    return OTFeatureModule(dim, {**base, **options}).train()


def test_replacement_is_the_interpolation_and_stays_inside_a_cluster():
    """Two far clusters: pairs inside a cluster meet at small dihedral angles, pairs across at
    large ones, so every replacement interpolates within the sample's own cluster."""
    torch.manual_seed(0)
    module = ot_module(bank_size=32)
    replaced_total = 0
    for step in range(3):
        feats, labels = two_clusters(8, seed=step)
        feats.requires_grad_(True)
        out, diag = module(feats)
        rec = module.last
        assert diag["refit"] and rec is not None
        bank_labels = (module.fit_features[:, 0] > 0).long()
        # the sample's cell is its own (newest) bank entry on a refit step
        assert torch.equal(module.fit_features[rec.cells], feats.detach())
        r = rec.replaced
        j = rec.partners[r]
        expected = 0.25 * feats.detach()[r] + 0.75 * module.fit_features[j]
        torch.testing.assert_close(out.detach()[r], expected, rtol=0, atol=1e-6)
        assert torch.equal(out.detach()[~r], feats.detach()[~r])
        assert torch.equal(bank_labels[j], labels[r])
        has = rec.partners >= 0
        angles = dihedral_angles(module.fit_codes, rec.cells[has], rec.partners[has])
        torch.testing.assert_close(rec.angles[has], angles)
        assert torch.equal(r[has], angles <= 0.7)
        assert diag["replaced"] == int(r.sum())
        replaced_total += int(r.sum())
    assert replaced_total > 24


def test_pairs_across_the_singular_set_are_refused():
    """Force every sample's partner into the other cluster (then into its own): nothing is
    replaced across the gap, everything within."""
    module = ot_module(bank_size=32, refit_every=100)
    for step in range(2):
        module(two_clusters(8, seed=step)[0])
    bank_labels = (module.fit_features[:16, 0] > 0).long()
    left, right = (bank_labels == 0).nonzero().squeeze(1), (bank_labels == 1).nonzero().squeeze(1)
    other = torch.where(bank_labels[:, None] == 0, right[:1], left[:1]).expand(16, 8)
    module.cell_neighbours[:16] = other
    feats, labels = two_clusters(8, seed=7)
    out, diag = module(feats)
    assert diag["replaced"] == 0 and diag["blocked"] == 16 and torch.equal(out, feats)
    assert (dihedral_angles(module.fit_codes, module.last.cells, module.last.partners) > 0.7).all()
    same = torch.where(bank_labels[:, None] == 0, left[-1:], right[-1:]).expand(16, 8)
    module.cell_neighbours[:16] = same
    out, diag = module(feats)
    mine = module.last.cells != module.last.partners
    assert diag["replaced"] == int(mine.sum()) > 8 and diag["blocked"] == 0
    torch.testing.assert_close(out[mine], 0.25 * feats[mine] + 0.75 * module.fit_features[module.last.partners[mine]])


def test_gradient_goes_straight_through():
    module = ot_module()
    for step in range(2):
        feats, _ = two_clusters(8, seed=step)
        feats.requires_grad_(True)
        out, _ = module(feats)
    assert module.last.replaced.any()
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    torch.testing.assert_close(feats.grad, weights)


def test_between_refits_cells_come_from_the_nearest_fitted_entry():
    module = ot_module(refit_every=3)
    for step in range(3):
        feats, _ = two_clusters(8, seed=step)
        _, diag = module(feats)
    assert not diag["refit"]
    n = int(module.fit_count)
    fitted = module.fit_features[:n]
    nearest = torch.cdist(module.codes(feats), module.codes(fitted)).argmin(1)
    assert torch.equal(module.last.cells, nearest)


def test_eval_mode_is_the_identity_and_leaves_the_state_alone():
    module = ot_module()
    module(two_clusters(8, seed=0)[0])
    state = {k: v.clone() for k, v in module.state_dict().items()}
    module.eval()
    feats = two_clusters(8, seed=5)[0]
    out, diag = module(feats)
    assert out is feats and diag == {}
    assert all(torch.equal(state[k], v) for k, v in module.state_dict().items())


def test_warm_start_keeps_residuals_and_inserts_new_entries_with_tangent_planes():
    module = ot_module(bank_size=48, refit_every=100)
    for step in range(3):
        module(two_clusters(8, seed=step)[0])  # 48 entries, one fit at 16 entries
    n = 48
    stayed = module.fit_fresh[:n].clone()
    assert stayed[:16].all() and not stayed[16:].any()
    old = int(module.fit_count)
    old_res = module.fit_heights[:old].double() - SemiDiscreteOT.voronoi_heights(module.fit_codes[:old].double())
    codes = module.codes(module.bank).double()
    h0 = module._warm_heights(codes.float(), n)
    voronoi = SemiDiscreteOT.voronoi_heights(codes)
    torch.testing.assert_close(h0[:16] - voronoi[:16], old_res[:16])
    # a new entry's plane touches the stayed entries' potential from below: its cell starts nearly
    # empty (brute force on independent points)
    x = torch.rand(20000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) - 0.5
    potential = (x @ codes[:16].T + h0[:16]).max(1).values
    new_scores = x @ codes[16:].T + h0[16:]
    assert (new_scores - potential[:, None]).max() < 0.01
    assert float((new_scores > potential[:, None]).double().mean(0).max()) < 0.1 / n


def test_fifo_bank_keeps_the_newest_entries():
    module = OTFeatureModule(3, {"bank_size": 5, "warmup": 5, "dim": None, "max_steps": 5, "samples": 1024}).train()
    torch.manual_seed(0)
    batches = [torch.randn(2, 3) + 10 * i for i in range(4)]
    for b in batches[:2]:
        module(b)
    assert int(module.fit_count) == 0 and module.last is None  # warmup not reached: no fit, no replacement
    for b in batches[2:]:
        module(b)
    assert int(module.bank_count) == 5 and int(module.bank_next) == 3
    newest = torch.cat(batches)[-5:]
    assert torch.equal(module.bank[[3, 4, 0, 1, 2]], newest)
    assert int(module.fit_count) == 5 and int(module.refits) == 1


def test_projection_reduces_the_ot_dimension():
    module = OTFeatureModule(50, {"bank_size": 32, "warmup": 16, "dim": 4, "max_steps": 30, "samples": 2048}).train()
    torch.manual_seed(0)
    module(torch.randn(16, 50))
    assert module.fit_codes.shape == (32, 4)
    codes = module.fit_codes[:16]
    assert float(codes.pow(2).sum(1).mean().sqrt()) == pytest.approx(1.0, rel=1e-4)
    torch.testing.assert_close(codes, module.codes(module.fit_features[:16]), atol=1e-5, rtol=0)


def test_acg_gradients_reach_the_encoder_through_replaced_features():
    torch.manual_seed(0)
    model = build_model(
        "acg",
        SMALL,
        img_size=SIZE,
        ot={
            "bank_size": 16,
            "warmup": 8,
            "refit_every": 1,
            "dim": 4,
            "threshold": 3.14,
            "max_steps": 20,
            "samples": 2048,
        },
    )
    model.train()
    x = torch.randn(8, 3, SIZE, SIZE)
    model(x)
    out = model(x)
    assert out.ot["replaced"] > 0
    model.zero_grad()
    out.logits.sum().backward()
    grads = [p.grad for n, p in model.encoder.named_parameters() if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0


def test_options_round_trip():
    opts = OTOptions(bank_size=128, dim=None)
    assert OTOptions.from_dict(opts.to_dict()) == opts


# ---------------------------------------------------------------------------- OT module: labels
def three_clusters(n_per: int, seed: int, spread: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (3 n_per, 2): two far clusters of labels 0 and 1 around -5 e_1 and +5 e_1, and a
    third far cluster around 6 e_2 whose members carry random labels 0/1 (real and fake faces
    the features do not separate)."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[-5.0, 0.0], [5.0, 0.0], [0.0, 6.0]])
    feats = torch.cat([torch.randn(n_per, 2, generator=g) * spread + c for c in centres])
    mixed = torch.randint(0, 2, (n_per,), generator=g)
    return feats, torch.cat([torch.zeros(n_per, dtype=torch.long), torch.ones(n_per, dtype=torch.long), mixed])


def labelled_run(steps: int = 4, labelled: bool = True, **options):
    """OT module fed ``steps`` batches of :func:`three_clusters` (refit every step); returns the
    module and, per step, (features, labels, output, diagnostics, record, fitted labels)."""
    module = ot_module(bank_size=48, warmup=24, **options)
    seen = []
    for step in range(steps):
        feats, labels = three_clusters(8, seed=step)
        out, diag = module(feats, labels if labelled else None)
        seen.append((feats, labels, out, diag, module.last, module.fit_labels.clone()))
    return module, seen


def test_label_free_module_records_cross_class_replacements():
    module, seen = labelled_run()
    cluster = torch.arange(24) // 8
    cross_total = replaced_total = 0
    for _feats, labels, _out, diag, rec, fit_labels in seen:
        assert rec is not None and diag["refit"]
        has = (rec.partners >= 0) & (rec.partners != rec.cells)
        assert torch.equal(rec.labels, labels)
        # the partner's label is the bank label of the fitted entry drawn (cells are the own entries)
        assert torch.equal(fit_labels[rec.cells], labels)
        assert torch.equal(rec.partner_labels[has], fit_labels[rec.partners[has]])
        assert (rec.partner_labels[~has] == -1).all()
        assert torch.equal(rec.cross_class, has & (rec.partner_labels != labels))
        replaced, cross = rec.replaced, rec.replaced & rec.cross_class
        assert diag["replaced"] == int(replaced.sum()) and diag["class_refused"] == 0
        assert diag["cross_class"] == pytest.approx(int(cross.sum()) / int(replaced.sum()))
        # the angle test keeps the far clusters apart: label noise comes from the mixed cluster only
        assert (cluster[cross] == 2).all()
        cross_total += int(cross.sum())
        replaced_total += int(replaced.sum())
    assert cross_total > 0 and replaced_total > 3 * cross_total


def test_same_class_module_never_mixes_labels():
    free_module, free = labelled_run()
    module, seen = labelled_run(same_class=True)
    refused = 0
    for (feats, labels, out, diag, rec, _), (_, _, out_free, _, rec_free, _) in zip(seen, free):
        # the labels change no draw, only which pairs are kept
        for name in ("cells", "partners", "labels", "partner_labels", "cross_class"):
            assert torch.equal(getattr(rec, name), getattr(rec_free, name))
        torch.testing.assert_close(rec.angles, rec_free.angles, equal_nan=True)
        r = rec.replaced
        assert torch.equal(r, rec_free.replaced & (rec.partner_labels == labels))
        assert (rec.partner_labels[r] == labels[r]).all() and not rec.cross_class[r].any()
        assert diag["cross_class"] == 0.0 and diag["replaced"] == int(r.sum()) > 0
        assert diag["class_refused"] == int((rec_free.replaced & ~r).sum())
        refused += diag["class_refused"]
        torch.testing.assert_close(out[r], out_free[r])
        assert torch.equal(out[~r], feats[~r])
    assert refused > 0
    # unknown labels never match: without labels nothing is replaced
    _, unlabelled = labelled_run(steps=2, labelled=False, same_class=True)
    assert all(diag["replaced"] == 0 and diag["class_refused"] > 0 for _, _, _, diag, _, _ in unlabelled)


def test_labels_change_nothing_without_same_class():
    """labels=None is the module as it was (its existing tests above), and giving labels with
    same_class=False changes no output, draw or buffer other than the labels themselves."""
    plain, without = labelled_run(labelled=False)
    labelled, given = labelled_run()
    for (_, _, out_a, diag_a, rec_a, _), (_, _, out_b, diag_b, rec_b, _) in zip(without, given):
        assert torch.equal(out_a, out_b)
        for name in ("cells", "partners", "replaced"):
            assert torch.equal(getattr(rec_a, name), getattr(rec_b, name))
        torch.testing.assert_close(rec_a.angles, rec_b.angles, equal_nan=True, rtol=0, atol=0)
        assert (rec_a.labels == -1).all() and (rec_a.partner_labels == -1).all() and not rec_a.cross_class.any()
        assert diag_a["cross_class"] == 0.0
        assert diag_b["cross_class"] == pytest.approx(
            float((rec_b.replaced & rec_b.cross_class).sum()) / max(int(rec_b.replaced.sum()), 1)
        )
        same = {k for k in diag_a if k not in ("fit_seconds", "cross_class")}
        assert {k: diag_a[k] for k in same} == {k: diag_b[k] for k in same}
    a, b = plain.state_dict(), labelled.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a if k not in OTFeatureModule.OPTIONAL_BUFFERS)
    assert (a["bank_labels"] == -1).all() and (b["bank_labels"] >= 0).all()
    gen_a, rec_a = plain.generated_features(64)
    gen_b, rec_b = labelled.generated_features(64)
    assert torch.equal(gen_a, gen_b) and torch.equal(rec_a.replaced, rec_b.replaced)
    gen_c, rec_c = labelled.generated_features(64, same_class=True)
    assert torch.equal(rec_c.replaced, rec_b.replaced & (rec_b.labels == rec_b.partner_labels))
    assert not rec_c.cross_class[rec_c.replaced].any() and len(gen_c) == int(rec_c.replaced.sum())


def test_bad_labels_are_one_clear_error():
    module = ot_module()
    with pytest.raises(ModelConfigError, match="labels must have shape"):
        module(torch.randn(4, 2), torch.zeros(3))
    with pytest.raises(ModelConfigError, match="same_class"):
        OTOptions.from_dict({"same_class": "yes"})


def test_bank_labels_round_trip_and_old_state_dicts_load():
    module, _ = labelled_run(steps=2, same_class=True)
    state = module.state_dict()
    assert {"bank_labels", "fit_labels"} <= set(state)
    copy = ot_module(bank_size=48, warmup=24, same_class=True)
    copy.load_state_dict(state)
    assert all(torch.equal(v, copy.state_dict()[k]) for k, v in state.items())
    feats, labels = three_clusters(8, seed=9)
    out_a, diag_a = module(feats, labels)
    out_b, diag_b = copy(feats, labels)
    assert torch.equal(out_a, out_b) and diag_a["replaced"] == diag_b["replaced"] > 0
    # a state_dict from before the labels: every entry's label becomes unknown (-1)
    old = {k: v for k, v in state.items() if k not in ("bank_labels", "fit_labels")}
    keys = set(old)
    fresh = ot_module(bank_size=48, warmup=24, same_class=True)
    fresh.load_state_dict(old)  # strict
    assert set(old) == keys  # the caller's dict is left as it was
    assert (fresh.bank_labels == -1).all() and (fresh.fit_labels == -1).all()
    assert all(torch.equal(v, fresh.state_dict()[k]) for k, v in old.items())
    # its entries match no label, until the bank refills with labelled ones
    fresh.options = OTOptions.from_dict({**fresh.options.to_dict(), "refit_every": 100})
    out, diag = fresh(feats, labels)
    assert diag["replaced"] == 0 and torch.equal(out, feats)
    # other keys stay required
    with pytest.raises(RuntimeError, match="Missing key"):
        ot_module(bank_size=48, warmup=24).load_state_dict({k: v for k, v in old.items() if k != "bank"})


# ---------------------------------------------------------------------------- OT module: extra training points
def test_training_points_are_same_class_interpolations_of_fitted_features():
    """Each extra point is (1 - w) y_i + w y_j for two fitted entries of its own label (found by
    brute force over all pairs), drawn reproducibly for a given step; none before a fit."""
    assert ot_module().training_points(16)[0].shape == (0, 2)
    module, _ = labelled_run()
    points, labels = module.training_points(200)
    assert 0 < points.shape[0] <= 200 and labels.shape == (points.shape[0],)
    fit, fit_labels, w = module.fit_features[: int(module.fit_count)], module.fit_labels, module.options.weight
    pairs = (1 - w) * fit[:, None, :] + w * fit[None, :, :]  # (N, N, D)
    dist = (pairs[None] - points[:, None, None, :]).norm(dim=-1).flatten(1)  # (m, N * N)
    best = dist.argmin(1)
    i, j = best // fit.shape[0], best % fit.shape[0]
    assert float(dist.min(1).values.max()) < 1e-5
    assert torch.equal(fit_labels[i], labels) and torch.equal(fit_labels[j], labels) and (i != j).all()
    again, again_labels = module.training_points(200)
    assert torch.equal(again, points) and torch.equal(again_labels, labels)


def test_extra_points_join_the_classification_loss_and_train_the_head_only():
    import torch.nn.functional as F

    from acglab.losses import acg_loss

    torch.manual_seed(0)
    model = build_model(
        "acg",
        SMALL,
        img_size=SIZE,
        ot={
            "bank_size": 16,
            "warmup": 16,
            "refit_every": 1,
            "dim": 4,
            "threshold": 3.14,
            "max_steps": 20,
            "samples": 2048,
            "extra_points": 12,
        },
    )
    model.train()
    x, labels = torch.randn(8, 3, SIZE, SIZE), torch.tensor([0, 1] * 4)
    assert model(x, labels).extra is None  # no fit before the bank holds 16 features
    out = model(x, labels)
    logits, point_labels = out.extra
    assert 0 < logits.shape[0] <= 12 and out.ot["extra_points"] == logits.shape[0]
    total, parts = acg_loss(out, x, labels, lambda_r=0.0, lambda_m=0.0)
    targets = 1.0 - torch.cat([labels, point_labels]).float()  # label 1 = real, target = P(fake)
    expected = F.binary_cross_entropy_with_logits(torch.cat([out.logits, logits]), targets)
    assert parts["cls"] == pytest.approx(float(expected.detach()), rel=1e-6)
    model.zero_grad()
    logits.sum().backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in model.head.parameters())
    model.eval()
    assert model(x).extra is None


def test_extra_points_option_is_checked():
    with pytest.raises(ModelConfigError, match="extra_points"):
        OTOptions.from_dict({"extra_points": -1})


def test_metric_space_module_mixes_the_metric_level_and_leaves_the_classifier_alone():
    """space="metric": the module sits on the first metric level (its own width), the pooled
    level the metric loss reads is replaced, the classifier's features are the encoder's own."""
    from acglab.models.heads import global_average_pool

    torch.manual_seed(0)
    opts = {
        "bank_size": 16,
        "warmup": 16,
        "refit_every": 1,
        "dim": 4,
        "threshold": 3.14,
        "max_steps": 20,
        "samples": 2048,
        "same_class": True,
        "space": "metric",
    }
    model = build_model("acg", SMALL, img_size=SIZE, ot=opts, max_stride=None, noise_prob=0.0)
    channels = model.encoder.feature_info.channels()
    assert model.ot.feature_dim == channels[model.mid_level] != model.feature_dim
    model.train()
    x, labels = torch.randn(8, 3, SIZE, SIZE), torch.tensor([0, 1] * 4)
    model(torch.randn(8, 3, SIZE, SIZE), labels)
    out = model(x, labels)
    assert out.ot["replaced"] > 0
    maps = model.encoder(x)
    assert torch.allclose(out.features, global_average_pool(maps[-1]), atol=1e-5)
    own = global_average_pool(maps[model.mid_level])
    changed = (out.pooled[0] - own).abs().amax(1) > 1e-6
    assert int(changed.sum()) == out.ot["replaced"]
    with pytest.raises(ModelConfigError, match="space"):
        OTOptions.from_dict({"space": "logits"})
    with pytest.raises(ModelConfigError, match="extra_points"):
        OTOptions.from_dict({"space": "metric", "extra_points": 4})
