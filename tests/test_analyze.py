"""`acglab analyze` and acglab.app.analysis: calibrated verdicts, which face is used, the
reference map, videos, and one clear line for every kind of bad input.

The detector is a randomly initialised small ACG network (what is checked does not depend on
its training); its checkpoint keeps a known temperature, so the calibrated probability can be
recomputed independently. Faces come from scikit-image's astronaut photo.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from acglab.cli import main
from acglab.errors import CheckpointError

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TEMPERATURE = 2.5


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    from acglab.models import build_model
    from acglab.models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model(arch="acg", backbone="resnet18", pretrained=False, img_size=64)
    path = tmp_path_factory.mktemp("detector") / "last.pt"
    save_checkpoint(
        path,
        model,
        epoch=3,
        calibration={"temperature": TEMPERATURE, "ece_before": 0.2, "ece_after": 0.05, "n": 40, "source": "validation"},
        data={"root": "celebdf-mini", "train_samples": 10, "val_samples": 4},
    )
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    from PIL import Image
    from skimage import data

    from acglab.data.images import save_image

    base = tmp_path_factory.mktemp("photos")
    astronaut = data.astronaut()
    save_image(base / "astronaut.jpg", astronaut)
    head = astronaut[:260, 120:340]
    # two faces: the astronaut's head at full size beside a half-size copy
    small = np.ascontiguousarray(head[::2, ::2])
    pair = np.full((300, 420, 3), 200, np.uint8)
    pair[20:280, 0:220] = head
    pair[80:210, 260:370] = small
    save_image(base / "two.png", pair)
    save_image(base / "wall.png", np.full((200, 200, 3), 90, np.uint8))
    (base / "notes.txt").write_text("not an image")
    jpeg = (base / "astronaut.jpg").read_bytes()
    (base / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    Image.fromarray(astronaut).convert("CMYK").save(base / "cmyk.jpg")
    Image.fromarray(astronaut[..., 0].astype(np.uint16) * 257).save(base / "grey16.png")
    Image.fromarray(np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])).save(base / "rgba.png")
    frames = [Image.fromarray(astronaut), Image.fromarray(astronaut[:, ::-1].copy())]
    frames[0].save(base / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return base


def _analyze(capsys, *argv):
    code = main(["analyze", *map(str, argv), "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def test_verdict_is_calibrated_by_the_checkpoint_temperature(detector, photos, tmp_path, capsys):
    from acglab.app.analysis import sha256_of

    out = tmp_path / "a.json"
    code, stdout, err = _analyze(
        capsys, photos / "astronaut.jpg", "--checkpoint", detector, "--json", out, "--no-latent"
    )
    assert code == 0, err
    record = json.loads(out.read_text())
    (a,) = record["analyses"]
    logit = math.log(a["p_fake_uncalibrated"] / (1 - a["p_fake_uncalibrated"]))
    assert a["p_fake"] == pytest.approx(1 / (1 + math.exp(-logit / TEMPERATURE)), rel=1e-9)
    assert a["calibrated"] and a["verdict"] == ("fake" if a["p_fake"] >= 0.5 else "real")
    assert a["sha256"] == sha256_of(photos / "astronaut.jpg") and a["faces_found"] == 1 and a["face"]["cropped"]
    card = record["detector"]
    assert card["sha256"] == sha256_of(detector) and card["calibration"]["temperature"] == TEMPERATURE
    assert card["trained_on"]["root"] == "celebdf-mini" and card["backbone"] == "resnet18"
    assert record["acglab"] and record["date"] and record["failed"] == {}
    assert a["verdict"] in stdout and "calibrated" in stdout


def test_the_largest_of_several_faces_is_analysed_and_the_others_listed(detector, photos):
    from acglab.app.analysis import Analyzer

    result = Analyzer(detector).analyze_file(photos / "two.png")
    assert result.n_faces == 2 and len(result.other_boxes) == 1
    x0, y0, x1, y1 = result.explanation.face_box
    ox0, oy0, ox1, oy1 = result.other_boxes[0]
    assert (x1 - x0) * (y1 - y0) > 2 * (ox1 - ox0) * (oy1 - oy0) and x1 < 240 and ox0 > 240


@pytest.mark.parametrize("name", ["cmyk.jpg", "grey16.png", "rgba.png", "animated.gif"])
def test_unusual_image_formats_are_analysed(detector, photos, name):
    from acglab.app.analysis import Analyzer

    result = Analyzer(detector).analyze_file(photos / name)
    assert result.n_faces >= 1 and 0 <= result.p_fake <= 1


def test_a_huge_photo_is_downscaled_while_decoding(detector, tmp_path):
    from PIL import Image

    from acglab.app.analysis import MAX_SIDE
    from acglab.data.images import load_image

    path = tmp_path / "huge.jpg"
    Image.new("RGB", (12000, 9000), (120, 110, 100)).save(path, quality=80)
    image = load_image(path, max_side=MAX_SIDE)
    assert max(image.shape[:2]) == MAX_SIDE and image.shape[0] == round(MAX_SIDE * 9000 / 12000)
    from acglab.errors import ImageError

    with pytest.raises(ImageError, match="no face"):
        from acglab.app.analysis import Analyzer

        Analyzer(detector).analyze_file(path)


@pytest.mark.parametrize(
    "name, message",
    [
        ("notes.txt", "not a readable image"),
        ("truncated.jpg", "corrupt or truncated"),
        ("wall.png", "no face found"),
        ("missing.jpg", "does not exist"),
    ],
)
def test_bad_inputs_give_one_line_and_the_others_go_on(detector, photos, tmp_path, capsys, name, message):
    out = tmp_path / "a.json"
    code, stdout, err = _analyze(
        capsys, photos / name, photos / "astronaut.jpg", "--checkpoint", detector, "--json", out, "--no-latent"
    )
    assert code == 1 and message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("acglab: error")]) == 1
    record = json.loads(out.read_text())
    assert len(record["analyses"]) == 1 and message in next(iter(record["failed"].values()))


def test_foreign_checkpoints_are_refused_in_one_line(tmp_path, photos, capsys):
    from acglab.models.checkpoint import save_checkpoint
    from acglab.models.latent import build_latent_model

    vae = build_latent_model(
        {"kind": "latent", "model": "vae", "channels": 3, "img_size": 32, "latent_dim": 4, "base": 8, "k": None}
    )
    save_checkpoint(tmp_path / "vae.pt", vae)
    (tmp_path / "corrupt.pt").write_bytes(b"PK\x03\x04 broken")

    class Payload:
        def __reduce__(self):
            return (print, ("this pickle runs code",))

    torch.save({"format": "acglab-checkpoint/1", "config": {}, "model": Payload()}, tmp_path / "evil.pt")
    for name, message in (
        ("vae.pt", "not a detector checkpoint"),
        ("corrupt.pt", "checkpoint"),
        ("evil.pt", "checkpoint"),
        ("none.pt", "checkpoint"),
    ):
        code, stdout, err = _analyze(capsys, photos / "astronaut.jpg", "--checkpoint", tmp_path / name, "--no-latent")
        assert code != 0 and message in err and "Traceback" not in err and "this pickle runs code" not in stdout, name


def test_reference_map_places_faces_and_survives_a_round_trip(detector, tmp_path):
    from synthetic_faces import make_generic

    from acglab.app.analysis import load_detector
    from acglab.app.reference import ReferenceMap, build_reference_map, reference_table
    from acglab.data import load_dataset
    from acglab.eval.features import bottleneck_features
    from acglab.labels import FAKE

    model, card = load_detector(detector)
    root = make_generic(tmp_path / "ref", videos=10, frames=2)
    table = reference_table(root)
    assert len(table) == 20  # one frame per video
    ref = build_reference_map(model, table, info={"checkpoint_sha256": card.sha256})
    again = ReferenceMap.load(ref.save(tmp_path / "map.npz"))
    np.testing.assert_allclose(again.z, ref.z) and np.testing.assert_array_equal(again.pairs, ref.pairs)
    feats = bottleneck_features(model, load_dataset(root), progress=False)
    k = int(np.flatnonzero([s.path == table[3].path for s in load_dataset(root)])[0])
    placed = again.place(feats.features[k])
    # a reference face is its own nearest neighbour, at distance 0, on a segment end
    assert placed.neighbours[0] == 3 and placed.nearest_distance < 1e-6
    assert min(placed.regular_distance, placed.singular_distance) < 1e-6
    assert placed.fake_share == pytest.approx(np.mean(ref.labels[placed.neighbours] == FAKE))
    # z is the PCA of the features, standardised: mean 0 and RMS norm 1 over the reference faces
    assert np.allclose(ref.z.mean(0), 0, atol=1e-9) and np.sqrt((ref.z**2).sum(1).mean()) == pytest.approx(1)
    with pytest.raises(Exception, match="dimension"):
        again.place(np.zeros(3))


def test_cli_fits_the_reference_map_once_and_reuses_it(detector, photos, tmp_path, capsys):
    from synthetic_faces import make_generic

    root = make_generic(tmp_path / "ref", videos=10, frames=1)
    out = tmp_path / "a.json"
    code, stdout, err = _analyze(
        capsys, photos / "astronaut.jpg", "--checkpoint", detector, "--reference", root, "--json", out
    )
    assert code == 0, err
    cached = detector.with_name(detector.name + ".reference.npz")
    assert cached.is_file()
    latent = json.loads(out.read_text())["analyses"][0]["latent"]
    assert latent["kind"] in ("regular", "singular", "gap") and len(latent["neighbours"]) == 10
    stamp = cached.stat().st_mtime_ns
    code, _, err = _analyze(capsys, photos / "astronaut.jpg", "--checkpoint", detector, "--reference", root)
    assert code == 0 and cached.stat().st_mtime_ns == stamp


def test_a_video_is_analysed_frame_by_frame(detector, photos, tmp_path, capsys):
    import cv2
    from skimage import data

    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (512, 512))
    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    for k in range(20):
        writer.write(np.roll(face, 2 * k, axis=1))
    writer.release()
    out = tmp_path / "v.json"
    code, stdout, err = _analyze(capsys, path, "--checkpoint", detector, "--json", out, "--no-latent", "--frames", "4")
    assert code == 0, err
    (video,) = json.loads(out.read_text())["analyses"]
    assert video["kind"] == "video" and video["frames_in_video"] == 20
    assert [f["frame"] for f in video["frames"]] == [0, 6, 13, 19]
    assert video["p_fake"] == pytest.approx(np.mean([f["p_fake"] for f in video["frames"]]))
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video")
    code, _, err = _analyze(capsys, tmp_path / "broken.mp4", "--checkpoint", detector, "--no-latent")
    assert code == 1 and "cannot be decoded" in err and "Traceback" not in err


def test_a_checkpoint_without_calibration_says_so(tmp_path, photos):
    from acglab.app.analysis import Analyzer
    from acglab.models import build_model
    from acglab.models.checkpoint import save_checkpoint

    torch.manual_seed(1)
    save_checkpoint(tmp_path / "plain.pt", build_model(arch="acg", backbone="resnet18", pretrained=False, img_size=64))
    result = Analyzer(tmp_path / "plain.pt").analyze_file(photos / "astronaut.jpg")
    assert not result.calibrated and result.p_fake == result.p_raw
    with pytest.raises(CheckpointError):
        Analyzer(tmp_path / "absent.pt")


# --- the report ---------------------------------------------------------------------------------


def _need(tool: str):
    import os
    import shutil

    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is not installed (Debian package: {'poppler-utils' if tool == 'pdftoppm' else tool})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_html_report_is_self_contained_and_holds_the_numbers(detector, photos, tmp_path, capsys):
    import re

    from synthetic_faces import make_generic

    root = make_generic(tmp_path / "ref", videos=10, frames=1)
    report, out = tmp_path / "report.html", tmp_path / "a.json"
    code, stdout, err = _analyze(
        capsys,
        photos / "astronaut.jpg",
        photos / "two.png",
        "--checkpoint",
        detector,
        "--reference",
        root,
        "--json",
        out,
        "--report",
        report,
    )
    assert code == 0, err
    page = report.read_text()
    record = json.loads(out.read_text())
    for a in record["analyses"]:
        assert a["sha256"] in page and f"P(fake) {a['p_fake']:.3f}" in page and a["verdict"].upper() in page
    assert record["detector"]["sha256"] in page and record["acglab"] in page and "Limits" in page
    assert "largest of 2 faces" in page
    # everything embedded: no external scripts, images or style sheets
    assert not re.search(r"""<(script|img|link|iframe)\b[^>]*\b(src|href)=["']?(https?:)?//""", page)
    assert len(re.findall(r'src="data:image/png;base64,', page)) >= 6  # face, Grad-CAM, residual x 2
    assert "Plotly.newPlot" in page  # the interactive latent map, plotly.js inlined


def test_pdf_report_has_a_first_page_that_is_not_blank(detector, photos, tmp_path, capsys):
    import subprocess

    from PIL import Image

    _need("chromium")
    pdftoppm = _need("pdftoppm")
    pdf = tmp_path / "report.pdf"
    code, stdout, err = _analyze(
        capsys, photos / "astronaut.jpg", "--checkpoint", detector, "--no-latent", "--pdf", pdf
    )
    assert code == 0, err
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    (page,) = tmp_path.glob("page*.png")
    grey = np.asarray(Image.open(page).convert("L"), dtype=float)
    assert grey.std() > 10 and (grey < 128).mean() > 0.01  # text and pictures, not a white page


def test_pdf_without_chromium_fails_before_any_work(detector, photos, tmp_path, capsys, monkeypatch):
    import acglab.app.report as report

    monkeypatch.setattr(report, "chromium", lambda: None)
    code, stdout, err = _analyze(
        capsys,
        photos / "astronaut.jpg",
        "--checkpoint",
        detector,
        "--no-latent",
        "--pdf",
        tmp_path / "r.pdf",
        "--json",
        tmp_path / "a.json",
    )
    assert code != 0 and "chromium" in err and "Traceback" not in err
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "a.json").exists()
