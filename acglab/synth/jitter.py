"""Random perturbations of an image: colour, frequency content and a small affine shift.

Self-Blended Images (Shiohara & Yamasaki, CVPR 2022) turn one real image into a pseudo-fake by
blending it with a slightly altered copy of itself; these are the alterations. Each takes a
``np.random.Generator`` so a seed fixes the result, and returns uint8 ``(H, W, 3)`` (or a
``(2, 3)`` matrix).
"""

from __future__ import annotations

import cv2
import numpy as np

from acglab.synth.inputs import as_rgb_image


def jitter_colors(
    image,
    rng: np.random.Generator,
    *,
    rgb_shift: float = 20.0,
    hue_degrees: float = 6.0,
    saturation: float = 0.15,
    value: float = 0.1,
    brightness: float = 0.1,
    contrast: float = 0.1,
) -> np.ndarray:
    """Random colour change: channel shift, HSV change, brightness and contrast.

    ``x -> x + δ`` with ``δ ~ U(±rgb_shift)^3`` (applied with probability 0.3, as in SBI); hue
    rotated by ``U(±hue_degrees)``, saturation and value scaled by ``1 + U(±saturation)`` and
    ``1 + U(±value)``; then ``x -> (x - μ)·(1 + U(±contrast)) + μ + 255·U(±brightness)`` with
    ``μ`` the image mean.
    """
    img = as_rgb_image(image).astype(np.float32)
    if rng.random() < 0.3:
        img = img + rng.uniform(-rgb_shift, rgb_shift, size=3).astype(np.float32)
    hsv = cv2.cvtColor(np.clip(img, 0, 255) / 255.0, cv2.COLOR_RGB2HSV)  # H in [0, 360)
    hsv[..., 0] = np.mod(hsv[..., 0] + rng.uniform(-hue_degrees, hue_degrees), 360.0)
    hsv[..., 1] = np.clip(hsv[..., 1] * (1 + rng.uniform(-saturation, saturation)), 0, 1)
    hsv[..., 2] = np.clip(hsv[..., 2] * (1 + rng.uniform(-value, value)), 0, 1)
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0
    mean = float(img.mean())
    img = (img - mean) * (1 + rng.uniform(-contrast, contrast)) + mean + 255.0 * rng.uniform(-brightness, brightness)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def downscale(image, factor: float) -> np.ndarray:
    """Lose high frequencies: shrink by ``factor`` (area averaging) and enlarge back (bilinear)."""
    img = as_rgb_image(image)
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def sharpen(image, amount: float) -> np.ndarray:
    """Boost high frequencies (unsharp mask): ``x + amount·(x - G_1 * x)``."""
    img = as_rgb_image(image).astype(np.float32)
    blurred = cv2.GaussianBlur(img, (0, 0), 1.0)
    return np.clip(np.rint(img + amount * (img - blurred)), 0, 255).astype(np.uint8)


def jitter_frequency(
    image, rng: np.random.Generator, *, max_downscale: float = 4.0, sharpen_range=(0.2, 0.5)
) -> np.ndarray:
    """Either :func:`downscale` by ``U(1.5, max_downscale)`` or :func:`sharpen` by ``U(sharpen_range)`` (even odds)."""
    if rng.random() < 0.5:
        return downscale(image, float(rng.uniform(1.5, max_downscale)))
    return sharpen(image, float(rng.uniform(*sharpen_range)))


def random_similarity(
    size: tuple[int, int],
    rng: np.random.Generator,
    *,
    translate: tuple[float, float] = (0.03, 0.015),
    scale: tuple[float, float] = (0.95, 1 / 0.95),
    rotate_degrees: float = 0.0,
) -> np.ndarray:
    """A random similarity about the image centre, ``(2, 3)`` float64.

    Scale ``U(scale)``, rotation ``U(±rotate_degrees)``, shift ``U(±translate_x)·W`` and
    ``U(±translate_y)·H`` (SBI's defaults: 3 % and 1.5 %, scale 0.95 to 1/0.95). ``size = (H, W)``.
    """
    h, w = size
    center = ((w - 1) / 2.0, (h - 1) / 2.0)
    angle = float(rng.uniform(-rotate_degrees, rotate_degrees)) if rotate_degrees else 0.0
    matrix = cv2.getRotationMatrix2D(center, angle, float(rng.uniform(*scale)))
    matrix[0, 2] += rng.uniform(-translate[0], translate[0]) * w
    matrix[1, 2] += rng.uniform(-translate[1], translate[1]) * h
    return matrix
