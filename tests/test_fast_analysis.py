"""The analysis from a cold start: MTCNN in torch alone (acglab.faces.mtcnn) and the detector's
TorchScript export (acglab.app.export).

Detection must give facenet-pytorch's boxes without importing torchvision; an analysis with the
export must give the detector's calibrated probability, Grad-CAM and residual maps; a second
`acglab analyze` must import neither timm nor torchvision. The detectors are randomly
initialised (what is compared does not depend on training); the faces are real: scikit-image's
astronaut photo and celebdf-mini's full frames.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: modules an analysis with a cached export must not import
HEAVY = ("timm", "torchvision", "facenet_pytorch", "umap", "plotly")
#: (arch, backbone, img_size, options): ACG as in the tests of `acglab analyze`, the plain
#: backbone (no reconstruction), and the quick preset's truncated EfficientNet-Lite0
MODELS = {
    "acg-resnet18": ("acg", "resnet18", 64, {}),
    "backbone-resnet18": ("backbone", "resnet18", 64, {}),
    "acg-lite0-stride16": (
        "acg",
        "efficientnet_lite0",
        128,
        {"max_stride": 16, "decoder_channels": [128, 64, 32], "ot": {"space": "metric"}},
    ),
}


def _checkpoint(path, name: str, seed: int = 0):
    from acglab.models import build_model
    from acglab.models.checkpoint import save_checkpoint

    arch, backbone, size, options = MODELS[name]
    torch.manual_seed(seed)
    model = build_model(arch=arch, backbone=backbone, pretrained=False, img_size=size, **options)
    with torch.no_grad():  # batch-norm statistics other than (0, 1), as a trained network has
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(
        path,
        model,
        epoch=2,
        calibration={"temperature": 1.7, "ece_before": 0.2, "ece_after": 0.1, "n": 10, "source": "validation"},
    )
    return path


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory):
    from skimage import data

    from acglab.data.images import save_image

    path = tmp_path_factory.mktemp("faces") / "astronaut.png"
    save_image(path, data.astronaut())
    return path


# --- MTCNN without torchvision ---------------------------------------------------------------


def _facenet(min_face_size: int):
    from facenet_pytorch import MTCNN

    return MTCNN(min_face_size=min_face_size, keep_all=True, select_largest=False, device="cpu").eval()


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("min_face_size", [20, 40])
def test_mtcnn_gives_facenet_pytorch_boxes_on_full_frames(celebdf_mini, min_face_size):
    from acglab.data.images import load_image
    from acglab.faces.mtcnn import MTCNN

    frames = sorted((celebdf_mini / "frames").rglob("*.jpg"))[::10]
    assert len(frames) >= 35
    theirs, ours = _facenet(min_face_size), MTCNN(min_face_size=min_face_size)
    faces = 0
    for path in frames:
        image = load_image(path)
        boxes, probs, points = theirs.detect(image, landmarks=True)
        got_boxes, got_probs, got_points = ours.detect(image)
        if boxes is None:
            assert len(got_boxes) == 0, path
            continue
        assert len(got_boxes) == len(boxes), path
        faces += len(boxes)
        assert np.abs(got_boxes - boxes.astype(np.float64)).max() <= 1.0, path
        assert np.abs(got_points - points.astype(np.float64)).max() <= 1.0, path
        assert np.abs(got_probs - probs.astype(np.float64)).max() <= 1e-5, path
    assert faces >= len(frames)  # every frame shows at least one face


def test_detect_faces_matches_facenet_pytorch_on_a_photo(astronaut):
    from acglab.data.images import load_image
    from acglab.faces import detect_faces

    image = load_image(astronaut)
    faces = detect_faces(image)
    boxes, probs, points = _facenet(20).detect(image, landmarks=True)
    assert len(faces) == len(boxes) == 1
    assert np.abs(np.array(faces[0].box) - boxes[0].astype(np.float64)).max() <= 1.0
    assert np.abs(faces[0].landmarks - points[0].astype(np.float64)).max() <= 1.0
    assert faces[0].score == pytest.approx(float(probs[0]), abs=1e-5)


def test_nms_keeps_what_torchvision_keeps_ties_included():
    from torchvision.ops import nms as torchvision_nms

    from acglab.faces.mtcnn import nms

    generator = torch.Generator().manual_seed(0)
    for case in range(200):
        n = int(torch.randint(1, 300, (1,), generator=generator))
        corner = torch.randint(0, 60, (n, 2), generator=generator).float() + torch.rand(n, 2, generator=generator)
        boxes = torch.cat([corner, corner + torch.randint(1, 30, (n, 2), generator=generator).float()], dim=1)
        scores = torch.randint(0, 6, (n,), generator=generator).float() / 5  # many equal scores
        for threshold in (0.3, 0.5, 0.7):
            assert torch.equal(nms(boxes, scores, threshold), torchvision_nms(boxes, scores, threshold)), case
    assert nms(torch.zeros(0, 4), torch.zeros(0), 0.5).numel() == 0


def test_missing_mtcnn_weights_are_a_one_line_error(monkeypatch):
    import acglab.faces.mtcnn_nets as nets
    from acglab.errors import AcglabError
    from acglab.faces.mtcnn import MTCNN

    monkeypatch.setattr(nets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(AcglabError, match="install facenet-pytorch"):
        MTCNN()


def test_face_detection_imports_neither_torchvision_nor_facenet_pytorch(astronaut):
    code = (
        "import sys; from acglab.data.images import load_image; from acglab.faces import detect_faces; "
        f"faces = detect_faces(load_image({str(astronaut)!r})); "
        f"print(len(faces), sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "1 []", out


# --- the detector's export ------------------------------------------------------------------


def _same_analysis(fast, standard):
    """The fast path's analysis equals the detector's (probability 1e-5, maps 1e-4)."""
    a, b = fast.explanation, standard.explanation
    assert fast.p_fake == pytest.approx(standard.p_fake, abs=1e-5)
    assert fast.p_raw == pytest.approx(standard.p_raw, abs=1e-5) and fast.verdict == standard.verdict
    assert a.face_box == b.face_box and fast.n_faces == standard.n_faces
    assert np.abs(a.gradcam - b.gradcam).max() <= 1e-4
    assert (a.residual is None) == (b.residual is None)
    if a.residual is not None:
        assert np.abs(a.residual - b.residual).max() <= 1e-4
        assert np.abs(a.reconstruction.astype(int) - b.reconstruction.astype(int)).max() <= 1
    assert np.abs(a.features - b.features).max() <= 1e-4
    assert a.gradcam_layer == b.gradcam_layer and a.gradcam_target == b.gradcam_target


@pytest.mark.parametrize("name", list(MODELS))
def test_the_export_gives_the_detectors_verdict_and_maps(tmp_path, astronaut, name):
    from acglab.app.analysis import Analyzer
    from acglab.app.export import ExportedDetector

    ckpt = _checkpoint(tmp_path / name / "last.pt", name)
    standard = Analyzer(ckpt, export=False).analyze_file(astronaut)
    first = Analyzer(ckpt)  # exports, then analyses with the export
    assert isinstance(first.runner, ExportedDetector)
    from acglab.app.analysis import sha256_of
    from acglab.app.export import export_path

    assert export_path(ckpt, sha256_of(ckpt)).is_file() and not ckpt.with_name("last.pt.export.pt").exists()
    later = Analyzer(ckpt)  # loads the export: no network is built
    assert isinstance(later.runner, ExportedDetector) and later._model is None
    assert later.card.summary() == first.card.summary()
    for analyzer in (first, later):
        _same_analysis(analyzer.analyze_file(astronaut), standard)


@pytest.mark.data
def test_the_export_gives_the_detectors_numbers_on_celebdf_frames(tmp_path, celebdf_mini):
    from acglab.app.analysis import Analyzer

    ckpt = _checkpoint(tmp_path / "last.pt", "acg-lite0-stride16", seed=3)
    standard, fast = Analyzer(ckpt, export=False), Analyzer(ckpt)
    frames = sorted((celebdf_mini / "frames").rglob("*.jpg"))[::100]
    for path in frames:
        _same_analysis(fast.analyze_file(path), standard.analyze_file(path))


def test_a_corrupt_or_stale_export_is_made_again(tmp_path, astronaut):
    from acglab.app.analysis import Analyzer, sha256_of
    from acglab.app.export import ExportedDetector, export_path, load_export

    ckpt = _checkpoint(tmp_path / "last.pt", "acg-resnet18")
    cached = export_path(ckpt, sha256_of(ckpt))
    cached.write_bytes(b"PK\x03\x04 not an archive")
    assert isinstance(Analyzer(ckpt).runner, ExportedDetector)
    assert load_export(cached, sha256_of(ckpt)) is not None
    _checkpoint(ckpt, "acg-resnet18", seed=5)  # another checkpoint under the same name
    assert load_export(cached, sha256_of(ckpt)) is None  # made for the old one
    fast = Analyzer(ckpt)
    assert fast.runner.meta["checkpoint_sha256"] == sha256_of(ckpt)
    _same_analysis(fast.analyze_file(astronaut), Analyzer(ckpt, export=False).analyze_file(astronaut))


def test_the_model_is_built_only_when_asked_for(tmp_path):
    from acglab.app.analysis import Analyzer

    ckpt = _checkpoint(tmp_path / "last.pt", "backbone-resnet18")
    Analyzer(ckpt)
    analyzer = Analyzer(ckpt)
    assert analyzer._model is None
    assert analyzer.model.config == analyzer.runner.config and analyzer._model is not None


def test_a_second_cold_analysis_imports_neither_timm_nor_torchvision(tmp_path, astronaut):
    from acglab.cli import main

    ckpt = _checkpoint(tmp_path / "last.pt", "acg-resnet18")
    argv = ["analyze", str(astronaut), "--checkpoint", str(ckpt), "--no-latent", "--device", "cpu"]
    assert main([*argv, "--json", str(tmp_path / "first.json")]) == 0  # makes the export
    code = (
        f"import sys; from acglab.cli import main; "
        f"code = main({[*argv, '--json', str(tmp_path / 'second.json')]!r}); "
        f"print(code, sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "0 []", run.stdout
    first, second = (json.loads((tmp_path / f"{n}.json").read_text())["analyses"][0] for n in ("first", "second"))
    assert second["p_fake"] == pytest.approx(first["p_fake"], abs=1e-9) and second["face"] == first["face"]
