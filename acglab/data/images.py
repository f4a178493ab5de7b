"""Reading and writing images robustly: every image becomes an ``(H, W, 3)`` uint8 RGB array.

:func:`load_image` accepts whatever a dataset folder may hold and normalises it:

- EXIF orientation is applied (a phone photo stored sideways comes out upright);
- grayscale (``L``, ``1``) is replicated to three channels;
- 16-bit and 32-bit grayscale (``I;16``, ``I``) are scaled to 8 bits: ``v8 = round(v16 / 257)``
  (so 65535 -> 255), 32-bit and float values are clipped to ``[0, 255]`` first;
- images with transparency (``RGBA``, ``LA``, palette with a transparent colour) are composited
  on a background, black by default (``background="white"`` for white):
  ``rgb = alpha * colour + (1 - alpha) * background`` with ``alpha`` in ``[0, 1]``;
- palette, CMYK and YCbCr images are converted to RGB.

A missing, empty, truncated or otherwise undecodable file raises :class:`ImageError` with one
line naming the file. :func:`save_image` writes through a temporary file in the same folder and
``os.replace``, so a reader never sees a half-written image.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from acglab.errors import ImageError
from acglab.fileio import atomic_write

BACKGROUNDS = {"black": 0, "white": 255}
#: JPEG quality of written images (OpenCV's default, used for the published crops)
JPEG_QUALITY = 95


def _open_checked(path: Path, max_side: int | None = None) -> Image.Image:
    if not path.exists():
        raise ImageError(f"image {path} does not exist")
    if not path.is_file():
        raise ImageError(f"{path} is not a file; expected an image file")
    if path.stat().st_size == 0:
        raise ImageError(f"image {path} is empty (0 bytes); re-extract or delete it")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore" if max_side else "error", Image.DecompressionBombWarning)
            img = Image.open(path)
            if max_side and max(img.size) > max_side:
                if img.format == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale: memory stays bounded
                    img.draft("RGB", (max_side, max_side))
                if img.size[0] * img.size[1] > Image.MAX_IMAGE_PIXELS:
                    raise ImageError(
                        f"image {path} is too large to decode ({img.size[0]}x{img.size[1]}); "
                        "save it as JPEG or downscale it first"
                    )
            img.load()
    except UnidentifiedImageError:
        raise ImageError(
            f"image {path} is not a readable image (unknown or corrupt format); re-extract or delete it"
        ) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ImageError(f"image {path} is corrupt or truncated ({reason}); re-extract or delete it") from None
    return img


def _gray_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """8-bit gray from a 16-bit (``v / 257``), 32-bit or float single-channel image."""
    if mode.startswith("I;16"):
        return np.rint(values.astype(np.float64) / 257.0).astype(np.uint8)
    return np.clip(np.rint(values.astype(np.float64)), 0, 255).astype(np.uint8)


def _composite(rgba: np.ndarray, background: int) -> np.ndarray:
    """``alpha * rgb + (1 - alpha) * background`` for an ``(H, W, 4)`` uint8 array."""
    alpha = rgba[:, :, 3:4].astype(np.float64) / 255.0
    rgb = rgba[:, :, :3].astype(np.float64)
    return np.rint(alpha * rgb + (1.0 - alpha) * background).astype(np.uint8)


def to_rgb_array(img: Image.Image, background: str = "black") -> np.ndarray:
    """An ``(H, W, 3)`` uint8 RGB array from a decoded PIL image (see the module docstring)."""
    if background not in BACKGROUNDS:
        raise ValueError(f"background must be one of {sorted(BACKGROUNDS)}, got {background!r}")
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        gray = _gray_to_uint8(np.asarray(img), mode)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = np.asarray(img.convert("RGBA"))
        return _composite(rgba, BACKGROUNDS[background])
    if mode in ("L", "1"):
        gray = np.asarray(img.convert("L"))
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode != "RGB" and "transparency" in img.info:
        return _composite(np.asarray(img.convert("RGBA")), BACKGROUNDS[background])
    return np.asarray(img.convert("RGB"))


def load_image(path, background: str = "black", max_side: int | None = None) -> np.ndarray:
    """The image at ``path`` as an ``(H, W, 3)`` uint8 RGB array, upright (EXIF applied).

    Parameters
    ----------
    path : str or Path
    background : ``"black"`` or ``"white"``
        What transparent pixels are composited on.
    max_side : downscale (area averaging) so that neither side exceeds it; a large JPEG is
        decoded at a reduced scale first (1/2, 1/4 or 1/8), so memory stays bounded. Without it,
        images over PIL's decompression-bomb limit (about 89 megapixels) are refused.

    Raises
    ------
    ImageError
        The file is missing, empty, truncated, corrupt or not an image (one line naming it).
    """
    p = Path(path)
    img = _open_checked(p, max_side)
    try:
        if max_side and max(img.size) > max_side:
            img.thumbnail((max_side, max_side), Image.Resampling.BOX)
        img = ImageOps.exif_transpose(img)
        arr = to_rgb_array(img, background)
    except (OSError, SyntaxError) as err:
        raise ImageError(f"image {p} cannot be decoded ({err}); re-extract or delete it") from None
    if arr.size == 0:
        raise ImageError(f"image {p} has no pixels")
    return np.ascontiguousarray(arr)


def save_image(path, image: np.ndarray, quality: int = JPEG_QUALITY) -> Path:
    """Write an ``(H, W, 3)`` (or ``(H, W)``) uint8 array atomically; the format follows the suffix.

    The image is written to a temporary file in the destination folder, then moved into place
    with ``os.replace``, so ``path`` either keeps its old content or has the complete new one.
    Parent folders are created. Returns ``path``.
    """
    p = Path(path)
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3))):
        raise ImageError(f"cannot save {p}: expected an (H, W, 3) uint8 array, got shape {arr.shape} dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    img = Image.fromarray(np.ascontiguousarray(arr))
    fmt = Image.registered_extensions().get(p.suffix.lower())
    if fmt is None:
        raise ImageError(f"cannot save {p}: unknown image type {p.suffix!r}; use .jpg or .png")
    p.parent.mkdir(parents=True, exist_ok=True)
    options = {"quality": int(quality)} if fmt == "JPEG" else {}

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            img.save(fh, format=fmt, **options)

    return atomic_write(p, write)


def png_bytes(picture: np.ndarray, max_side: int | None = None) -> bytes:
    """A uint8 ``(H, W)`` or ``(H, W, 3)`` picture as PNG file bytes, shrunk (Lanczos, aspect kept)
    to at most ``max_side`` pixels a side when given."""
    import io

    img = Image.fromarray(np.ascontiguousarray(picture))
    if max_side is not None and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` resized to ``(size, size, 3)``: area averaging when shrinking, bilinear otherwise."""
    import cv2

    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return image
    interpolation = cv2.INTER_AREA if size < min(h, w) else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interpolation)
