"""Robust image reading and atomic writing (acglab.data.images)."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from acglab.data.images import load_image, save_image
from acglab.errors import AcglabError, ImageError


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)


def _one_line_naming(err: pytest.ExceptionInfo, path) -> None:
    msg = str(err.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert isinstance(err.value, AcglabError)


def test_png_rgb_roundtrip_is_exact(tmp_path, rgb):
    p = tmp_path / "a.png"
    Image.fromarray(rgb).save(p)
    out = load_image(p)
    assert out.dtype == np.uint8 and out.shape == (24, 32, 3)
    np.testing.assert_array_equal(out, rgb)


def test_jpeg_matches_opencv_decoder(tmp_path, rgb):
    p = tmp_path / "a.jpg"
    Image.fromarray(rgb).save(p, quality=90)
    ours = load_image(p).astype(int)
    theirs = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB).astype(int)
    assert np.abs(ours - theirs).max() <= 2  # two JPEG decoders may round differently


def test_grayscale_is_replicated_to_three_channels(tmp_path, rgb):
    gray = rgb[:, :, 0]
    p = tmp_path / "g.png"
    Image.fromarray(gray, mode="L").save(p)
    out = load_image(p)
    assert out.shape == (24, 32, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], gray)


def test_sixteen_bit_gray_is_scaled_by_257(tmp_path):
    values = np.array([[0, 257, 32896, 65535], [128, 300, 1000, 65000]], dtype=np.uint16)
    p = tmp_path / "g16.png"
    assert cv2.imwrite(str(p), values)
    assert cv2.imread(str(p), cv2.IMREAD_ANYDEPTH).dtype == np.uint16  # really stored as 16 bits
    out = load_image(p)
    expected = np.rint(values / 257.0).astype(np.uint8)
    np.testing.assert_array_equal(out[:, :, 0], expected)
    assert out[0, 3, 0] == 255 and out[0, 1, 0] == 1


def test_sixteen_bit_colour_becomes_8_bit_rgb(tmp_path):
    rng = np.random.default_rng(1)
    rgb16 = rng.integers(0, 65536, size=(8, 9, 3), dtype=np.uint16)
    p = tmp_path / "c16.png"
    assert cv2.imwrite(str(p), rgb16[:, :, ::-1])  # OpenCV writes BGR
    out = load_image(p)
    assert out.shape == (8, 9, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - (rgb16 >> 8).astype(int)).max() <= 1


@pytest.mark.parametrize("background,value", [("black", 0), ("white", 255)])
def test_rgba_is_composited_like_pil_alpha_composite(tmp_path, rgb, background, value):
    alpha = np.linspace(0, 255, rgb.shape[0] * rgb.shape[1]).astype(np.uint8).reshape(rgb.shape[:2])
    rgba = np.dstack([rgb, alpha])
    p = tmp_path / "a.png"
    Image.fromarray(rgba, mode="RGBA").save(p)
    out = load_image(p, background=background)
    bg = Image.new("RGBA", (rgb.shape[1], rgb.shape[0]), (value, value, value, 255))
    expected = np.asarray(Image.alpha_composite(bg, Image.fromarray(rgba, mode="RGBA")).convert("RGB"))
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1
    np.testing.assert_array_equal(out[alpha == 255], rgb[alpha == 255])
    assert (out[alpha == 0] == value).all()


def test_palette_with_transparent_colour(tmp_path):
    pal = Image.new("P", (4, 3))
    pal.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    pal.putdata([0, 1, 0, 1] * 3)
    p = tmp_path / "p.png"
    pal.save(p, transparency=1)
    out = load_image(p, background="white")
    assert out.shape == (3, 4, 3)
    np.testing.assert_array_equal(out[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(out[0, 1], [255, 255, 255])  # the transparent colour


def test_exif_orientation_is_applied(tmp_path, rgb):
    p = tmp_path / "rot.png"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs a 90 degree clockwise turn
    Image.fromarray(rgb).save(p, exif=exif)
    out = load_image(p)
    assert out.shape == (32, 24, 3)
    np.testing.assert_array_equal(out, np.rot90(rgb, k=-1))


def test_truncated_jpeg_raises_one_line_naming_file(tmp_path, rgb):
    buf = io.BytesIO()
    Image.fromarray(np.kron(rgb, np.ones((8, 8, 1), np.uint8))).save(buf, "JPEG")
    p = tmp_path / "trunc.jpg"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError) as err:
        load_image(p)
    _one_line_naming(err, p)


def test_garbage_bytes_raise(tmp_path):
    p = tmp_path / "garbage.jpg"
    p.write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 4)
    with pytest.raises(ImageError) as err:
        load_image(p)
    _one_line_naming(err, p)


def test_zero_byte_file_raises(tmp_path):
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    with pytest.raises(ImageError, match="empty") as err:
        load_image(p)
    _one_line_naming(err, p)


def test_missing_file_and_folder_raise(tmp_path):
    with pytest.raises(ImageError, match="does not exist") as err:
        load_image(tmp_path / "nope.jpg")
    _one_line_naming(err, tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="not a file"):
        load_image(tmp_path)


def test_save_image_roundtrip_and_leaves_no_temporary_files(tmp_path, rgb):
    p = save_image(tmp_path / "sub" / "x.png", rgb)
    np.testing.assert_array_equal(load_image(p), rgb)
    gx, gy = np.meshgrid(np.arange(32) * 8, np.arange(24) * 10)
    smooth = np.dstack([gx, gy, np.full((24, 32), 90)]).astype(np.uint8)
    j = save_image(tmp_path / "sub" / "x.jpg", smooth)
    reference = io.BytesIO()
    Image.fromarray(smooth).save(reference, "JPEG", quality=95)
    assert j.read_bytes() == reference.getvalue()  # JPEG quality 95
    assert np.abs(load_image(j).astype(int) - smooth.astype(int)).mean() < 2
    assert sorted(q.name for q in (tmp_path / "sub").iterdir()) == ["x.jpg", "x.png"]


def test_save_image_failure_keeps_old_file(tmp_path, rgb, monkeypatch):
    p = save_image(tmp_path / "x.png", rgb)
    before = p.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError):
        save_image(p, 255 - rgb)
    assert p.read_bytes() == before
    assert [q.name for q in tmp_path.iterdir()] == ["x.png"]


def test_save_image_rejects_bad_arrays_without_writing(tmp_path):
    with pytest.raises(ImageError):
        save_image(tmp_path / "x.png", np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ImageError):
        save_image(tmp_path / "x.xyz", np.zeros((4, 4, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_png_bytes_round_trips_and_shrinks_keeping_the_aspect():
    import io

    from PIL import Image

    from acglab.data.images import png_bytes

    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(picture)))), picture)
    gray = picture[..., 0]
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(gray)))), gray)
    small = Image.open(io.BytesIO(png_bytes(picture, max_side=20)))
    assert small.size == (20, 12)
    assert Image.open(io.BytesIO(png_bytes(picture, max_side=100))).size == (50, 30)
