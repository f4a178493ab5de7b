"""Grad-CAM, reconstruction residual maps, overlays and ``acglab explain``.

Known answers: a model whose logit depends only on one half of the image gets its heatmap on
that half; the heatmap equals pytorch-grad-cam's and a Grad-CAM computed here by hand with
autograd; the residual map equals |x - x_hat| computed by hand in image space.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from acglab.explain import explain_image, gradcam_map, gradcam_target_layer, heatmap_overlay, residual_map
from acglab.explain.explanation import EXPLANATION_FILES, face_tensor, save_explanation, take_face
from acglab.explain.residual import normalization_stats

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass
class Output:
    logits: torch.Tensor
    recon: torch.Tensor | None
    pooled: list = field(default_factory=list)
    features: torch.Tensor | None = None
    ot: dict = field(default_factory=dict)


class HalfConv(nn.Module):
    """A convolution whose output is zeroed outside one half (columns) of the feature map."""

    def __init__(self, side: str):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.side = side

    def forward(self, x):
        a = torch.relu(self.conv(x))
        mask = torch.zeros_like(a)
        w = a.shape[-1]
        if self.side == "left":
            mask[..., : w // 2] = 1
        else:
            mask[..., w // 2 :] = 1
        return a * mask


class HalfDetector(nn.Module):
    """logit = v . mean_{ij} A_ij with A nonzero only on one half: the logit depends only on
    that half of the image. The decoder is a 1x1 convolution (reconstruction)."""

    def __init__(self, side: str = "left", img_size: int = 32, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.block = HalfConv(side)
        with torch.no_grad():
            self.block.conv.weight.abs_()
            self.block.conv.bias.fill_(0.1)
        self.head = nn.Linear(6, 1)
        with torch.no_grad():
            self.head.weight.abs_()
        self.decoder = nn.Conv2d(3, 3, 1)
        self.config = {"arch": "half", "img_size": img_size, "side": side}
        self.normalization = (MEAN, STD)
        self.gradcam_layer = self.block

    def forward(self, x):
        a = self.block(x)
        logits = self.head(a.mean(dim=(2, 3)))[:, 0]
        return Output(logits=logits, recon=self.decoder(x), features=a.mean(dim=(2, 3)))


def _image(size=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, size, size, generator=g) * 2.0  # positive input


@pytest.mark.parametrize("side", ["left", "right"])
def test_gradcam_heat_sits_on_the_half_the_logit_reads(side):
    model = HalfDetector(side)
    heat = gradcam_map(model, _image())
    assert heat.shape == (32, 32)
    assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)
    left, right = heat[:, :16].sum(), heat[:, 16:].sum()
    share = left / (left + right)
    assert (share > 0.95) if side == "left" else (share < 0.05)


def _hand_gradcam(model, layer, x, sign=1.0):
    """alpha_k = mean_ij dz/dA^k_ij; L = ReLU(sum_k alpha_k A^k), min-max scaled, resized."""
    store = {}
    handle = layer.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
    model.eval()
    z = model(x).logits[0] * sign
    (grad,) = torch.autograd.grad(z, store["a"])
    handle.remove()
    a = store["a"][0].detach().numpy()
    alpha = grad[0].numpy().mean(axis=(1, 2))
    cam = np.maximum((alpha[:, None, None] * a).sum(axis=0), 0)
    cam = (cam - cam.min()) / (cam.max() - cam.min() + 1e-7)
    cam = cv2.resize(cam.astype(np.float32), (x.shape[-1], x.shape[-2]))
    cam = (cam - cam.min()) / (cam.max() - cam.min() + 1e-7)
    return cam


class SmallCNN(nn.Module):
    """Two convolutions at half resolution, global pooling, one logit; no decoder."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU()
        )
        self.head = nn.Linear(8, 1)
        self.config = {"arch": "small", "img_size": 24}
        self.normalization = {"mean": MEAN, "std": STD}

    def forward(self, x):
        return Output(logits=self.head(self.features(x).mean(dim=(2, 3)))[:, 0], recon=None)


@pytest.mark.parametrize("target, sign", [("fake", 1.0), ("real", -1.0)])
def test_gradcam_matches_pytorch_grad_cam_and_a_hand_computation(target, sign):
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import BinaryClassifierOutputTarget

    model = SmallCNN()
    x = torch.randn(1, 3, 24, 24, generator=torch.Generator().manual_seed(5))
    name, layer = gradcam_target_layer(model)
    assert name == "features.2" and layer is model.features[2]  # the last convolution
    ours = gradcam_map(model, x, target=target)

    class Logit(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, t):
            return self.m(t).logits

    with GradCAM(model=Logit(model), target_layers=[layer]) as cam:
        direct = cam(input_tensor=x, targets=[BinaryClassifierOutputTarget(1 if sign > 0 else 0)])[0]
    np.testing.assert_allclose(ours, direct, atol=1e-6)
    np.testing.assert_allclose(ours, _hand_gradcam(model, layer, x, sign), atol=1e-4)


def test_gradcam_verdict_target_explains_the_predicted_class():
    model = SmallCNN()
    x = torch.randn(1, 3, 24, 24, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        predicted = "fake" if float(model(x).logits[0]) >= 0 else "real"
    np.testing.assert_allclose(gradcam_map(model, x, target="verdict"), gradcam_map(model, x, target=predicted))


def test_gradcam_leaves_the_model_as_it_was():
    model = SmallCNN().train()
    for p in model.parameters():
        p.requires_grad_(False)  # frozen weights: gradients must still reach the layer
    heat = gradcam_map(model, torch.randn(3, 24, 24))
    assert model.training and heat.max() > 0
    assert all(p.grad is None for p in model.parameters())


class TimmWrapped(nn.Module):
    def __init__(self, backbone: str, **kw):
        super().__init__()
        import timm

        self.encoder = timm.create_model(backbone, pretrained=False, **kw)
        self.decoder = nn.Conv2d(3, 3, 1)
        self.config = {"backbone": backbone}


@pytest.mark.parametrize(
    "backbone, kw, expected",
    [
        ("resnet18", {"num_classes": 0}, "encoder.layer4"),
        ("resnet18", {"features_only": True}, "encoder.layer4"),
        ("mobilenetv3_small_100", {"features_only": True}, "encoder.blocks.5"),
        ("resnet18", {"features_only": True, "out_indices": (0, 1, 2, 3)}, "encoder.layer3"),
        (
            "resnet18",
            {"features_only": True, "out_indices": (0, 1, 2, 3), "feature_cls": "getter"},
            "encoder.model.layer3",
        ),
        (
            "legacy_xception",
            {"features_only": True, "out_indices": (0, 1, 2, 3), "feature_cls": "getter"},
            "encoder.model.block11.rep.7.pointwise",
        ),  # timm names the pruned block12; last conv kept
        ("legacy_xception", {"num_classes": 0}, "encoder.conv4"),
    ],
)
def test_target_layer_is_the_last_encoder_block_of_a_timm_backbone(backbone, kw, expected):
    model = TimmWrapped(backbone, **kw)
    name, layer = gradcam_target_layer(model)
    assert name == expected
    assert layer is model.get_submodule(expected)


def test_residual_map_is_the_channel_mean_of_the_image_space_difference():
    model = HalfDetector()
    with torch.no_grad():
        model.decoder.weight.normal_()
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    r = residual_map(model, x)
    xn = x[0].numpy().astype(np.float64)
    rn = model.decoder(x)[0].detach().numpy().astype(np.float64)
    m, s = np.array(MEAN)[:, None, None], np.array(STD)[:, None, None]
    expected = np.abs((xn * s + m) - (rn * s + m)).mean(axis=0)
    assert r.shape == (32, 32)
    np.testing.assert_allclose(r, expected, rtol=1e-5, atol=1e-6)
    # the same map for a (3, H, W) image
    np.testing.assert_allclose(residual_map(model, x[0]), r)


def test_residual_map_refuses_a_model_without_decoder():
    from acglab.errors import AcglabError

    with pytest.raises(AcglabError, match="no autoencoder"):
        residual_map(SmallCNN(), torch.randn(1, 3, 24, 24))


def test_normalization_forms_and_face_tensor_round_trip():
    for form in [(MEAN, STD), {"mean": MEAN, "std": STD}]:
        m, s = normalization_stats(form)
        np.testing.assert_allclose(m, MEAN) and np.testing.assert_allclose(s, STD)
    face = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    t = face_tensor(face, 40, (MEAN, STD))
    assert t.shape == (3, 40, 40) and t.dtype == torch.float32
    back = t.numpy().transpose(1, 2, 0) * np.array(STD) + np.array(MEAN)
    np.testing.assert_allclose(back * 255.0, face, atol=1e-3)


def test_heatmap_overlay_blends_colours_over_the_image():
    from matplotlib import colormaps

    image = np.full((8, 10, 3), 200, np.uint8)
    heat = np.zeros((4, 5))
    heat[0, 0] = 2.0
    out = heatmap_overlay(image, heat, alpha=0.5, cmap="jet")
    assert out.shape == (8, 10, 3) and out.dtype == np.uint8
    low = colormaps["jet"](0.0)[:3]
    expected = np.rint((0.5 * 200 / 255 + 0.5 * np.array(low)) * 255)
    np.testing.assert_array_equal(out[-1, -1], expected)  # far from the hot pixel: heat 0
    assert heatmap_overlay(image, heat, alpha=0.0).tolist() == image.tolist()


def test_take_face_uses_the_whole_image_when_it_is_a_crop_already():
    from skimage import data

    photo = data.astronaut()  # 512x512, face about 100 px wide: not a crop
    face, box, score, cropped = take_face(photo)
    assert cropped and box is not None and score > 0.9
    assert face.shape[0] < 300 and face.shape[1] < 300
    again, box2, _, cropped2 = take_face(face)
    assert not cropped2 and again is face and box2 is not None
    same, none, _, cropped3 = take_face(photo, face_crop=False)
    assert same is photo and none is None and not cropped3


def test_explain_image_and_save_explanation(tmp_path):
    from skimage import data

    model = HalfDetector(img_size=32)
    expl = explain_image(data.astronaut(), model)
    x = face_tensor(expl.face, 32, model.normalization)[None]
    with torch.no_grad():
        z = float(model(x).logits[0])
    assert expl.logit == pytest.approx(z, abs=1e-5)
    assert expl.p_fake == pytest.approx(1 / (1 + np.exp(-z)))
    assert expl.verdict == ("fake" if expl.p_fake >= 0.5 else "real")
    assert expl.gradcam.shape == (32, 32) and expl.residual.shape == (32, 32)
    np.testing.assert_allclose(expl.gradcam, gradcam_map(model, x, target="verdict"))
    np.testing.assert_allclose(expl.residual, residual_map(model, x))
    written = save_explanation(expl, tmp_path / "out", {"image": "astronaut"})
    assert [p.name for p in written] == list(EXPLANATION_FILES)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(EXPLANATION_FILES)
    np.testing.assert_allclose(np.load(tmp_path / "out" / "gradcam.npy"), expl.gradcam, atol=1e-6)
    import json

    verdict = json.loads((tmp_path / "out" / "verdict.json").read_text())
    assert verdict["verdict"] == expl.verdict and verdict["model"]["arch"] == "half"
    assert verdict["face"]["cropped"] is True and verdict["image"] == "astronaut"


# --- acglab explain -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_checkpoint(tmp_path_factory):
    from acglab.models import build_model
    from acglab.models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model(arch="acg", backbone="resnet18", pretrained=False, img_size=64)
    path = tmp_path_factory.mktemp("ckpt") / "quick.pt"
    save_checkpoint(path, model)
    return path


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    from skimage import data

    from acglab.data.images import save_image

    base = tmp_path_factory.mktemp("pictures")
    save_image(base / "astronaut.png", data.astronaut())
    save_image(base / "wall.png", np.full((160, 160, 3), 128, np.uint8))
    (base / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return base


def _explain(capsys, *argv):
    from acglab.cli import main

    code = main(["explain", *map(str, argv), "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_explain_writes_verdict_maps_and_figures(quick_checkpoint, pictures, tmp_path, capsys):
    import json

    from acglab.data.images import load_image

    out = tmp_path / "explained"
    code, stdout, err = _explain(capsys, pictures / "astronaut.png", "--checkpoint", quick_checkpoint, "--out", out)
    assert code == 0, err
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["verdict"] in stdout and 0.0 <= verdict["p_fake"] <= 1.0
    assert verdict["verdict"] == ("fake" if verdict["p_fake"] >= 0.5 else "real")
    assert verdict["model"]["backbone"] == "resnet18" and verdict["face"]["cropped"] is True
    assert verdict["gradcam"]["layer"].endswith("layer4")
    assert sorted(p.name for p in out.iterdir()) == sorted(EXPLANATION_FILES)
    gradcam, residual = np.load(out / "gradcam.npy"), np.load(out / "residual.npy")
    assert gradcam.shape == residual.shape == (64, 64)
    assert 0.0 <= gradcam.min() and gradcam.max() <= 1.0 and residual.min() >= 0.0
    face = load_image(out / "face.png")
    assert load_image(out / "gradcam.png").shape == face.shape == load_image(out / "residual.png").shape
    # the same face read as a crop: no second crop, the same probability
    again = tmp_path / "again"
    code, _, err = _explain(
        capsys, out / "face.png", "--checkpoint", quick_checkpoint, "--out", again, "--no-face-crop"
    )
    assert code == 0, err
    second = json.loads((again / "verdict.json").read_text())
    assert second["face"]["cropped"] is False and second["face"]["box"] is None
    assert second["p_fake"] == pytest.approx(verdict["p_fake"], abs=1e-6)


def test_cli_explain_bad_input_is_one_line_and_writes_nothing(quick_checkpoint, pictures, tmp_path, capsys):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"PK\x03\x04 truncated")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    cases = [
        (pictures / "corrupt.jpg", quick_checkpoint, "corrupt"),
        (pictures / "missing.png", quick_checkpoint, "does not exist"),
        (pictures / "wall.png", quick_checkpoint, "no face"),
        (pictures / "astronaut.png", garbage, "garbage.pt"),
        (pictures / "astronaut.png", foreign, "foreign.pt"),
    ]
    for image, ckpt, needle in cases:
        out = tmp_path / "out"
        code, stdout, err = _explain(capsys, image, "--checkpoint", ckpt, "--out", out)
        assert code == 2 and stdout == "", (image, ckpt, err)
        assert err.startswith("acglab: error: ") and err.count("\n") == 1 and needle in err, err
        assert not out.exists()


def test_explain_a_published_face_crop_is_not_cropped_again(celebdf_mini, quick_checkpoint):
    from acglab.data.images import load_image
    from acglab.models.checkpoint import model_from_checkpoint

    path = celebdf_mini / "faces" / "Celeb-synthesis" / "id0_id1_0000_000.jpg"
    expl = explain_image(path, model_from_checkpoint(quick_checkpoint))
    assert not expl.cropped and expl.face_box is not None
    assert expl.face.shape == load_image(path).shape


def test_target_layer_of_the_acg_detector_on_xception_is_conv4():
    from acglab.models import build_model

    model = build_model(arch="acg", backbone="legacy_xception", img_size=64)
    name, layer = gradcam_target_layer(model)
    assert name == "encoder.body.conv4" and layer is model.get_submodule(name)
