"""A tiny learnable face folder for training tests (imported by the test modules)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from acglab.data.images import save_image


def make_generic(root: Path, videos: int = 8, frames: int = 3, seed: int = 0) -> Path:
    """A generic real/fake folder: 40x36 noise faces, fakes with a bright square (learnable)."""
    rng = np.random.default_rng(seed)
    for label in ("real", "fake"):
        for v in range(videos):
            for k in range(frames):
                img = rng.integers(60, 200, (40, 36, 3)).astype(np.uint8)
                if label == "fake":
                    img[10:20, 10:20] = 250
                save_image(root / label / f"v{v}" / f"{k}.png", img)
    return root


def make_brighter_fakes(root: Path, videos: int = 3, frames: int = 2, side: int = 40, seed: int = 0) -> Path:
    """A generic real/fake folder ``root/{real,fake}/v<k>/<j>.png`` of random side x side images,
    fakes 40 grey levels brighter (so scores vary with the label)."""
    rng = np.random.default_rng(seed)
    for label, shift in (("real", 0), ("fake", 40)):
        for v in range(videos):
            for j in range(frames):
                img = np.clip(rng.integers(0, 200, (side, side, 3)) + shift, 0, 255).astype(np.uint8)
                save_image(root / label / f"v{v}" / f"{j:03d}.png", img)
    return root


def synthetic68(cx: float = 96.0, cy: float = 90.0) -> np.ndarray:
    """68 iBUG-ordered points of a drawn upright face (jaw, brows, nose, eyes, mouth), ``(68, 2)``."""
    t = np.linspace(np.pi, 0, 17)
    jaw = np.c_[cx + 30 * np.cos(t), cy + 38 * np.sin(t)]
    brow = np.linspace(-25, -5, 5)
    brows = np.r_[
        np.c_[cx + brow, cy - 22 - 2 * np.cos(np.linspace(-1, 1, 5))],
        np.c_[cx - brow[::-1], cy - 22 - 2 * np.cos(np.linspace(-1, 1, 5))],
    ]
    nose = np.r_[
        np.c_[np.full(4, cx), np.linspace(cy - 18, cy, 4)], np.c_[cx + np.linspace(-6, 6, 5), np.full(5, cy + 4)]
    ]
    e = np.linspace(np.pi, 3 * np.pi, 6, endpoint=False)
    eyes = np.r_[
        np.c_[cx - 13 + 5 * np.cos(e), cy - 12 + 2.5 * np.sin(e)],
        np.c_[cx + 13 + 5 * np.cos(e), cy - 12 + 2.5 * np.sin(e)],
    ]
    m_out, m_in = np.linspace(np.pi, 3 * np.pi, 12, endpoint=False), np.linspace(np.pi, 3 * np.pi, 8, endpoint=False)
    mouth = np.r_[
        np.c_[cx + 11 * np.cos(m_out), cy + 17 + 4 * np.sin(m_out)],
        np.c_[cx + 7 * np.cos(m_in), cy + 17 + 2 * np.sin(m_in)],
    ]
    pts = np.r_[jaw, brows, nose, eyes, mouth]
    assert pts.shape == (68, 2)
    return pts


def smooth_image(seed: int, shape=(192, 192)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    blurred = cv2.GaussianBlur(rng.random((*shape, 3)).astype(np.float32), (0, 0), 4)
    blurred = (blurred - blurred.min()) / (blurred.max() - blurred.min())
    return np.rint(40 + 175 * blurred).astype(np.uint8)


def hull_pixels(points: np.ndarray, shape) -> np.ndarray:
    """Pixels inside the convex hull of ``points`` (scipy's hull + matplotlib's point-in-polygon)."""
    from matplotlib.path import Path as PolyPath
    from scipy.spatial import ConvexHull

    hull = points[ConvexHull(points).vertices]
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    return PolyPath(hull).contains_points(np.c_[xs.ravel(), ys.ravel()]).reshape(shape[:2])
