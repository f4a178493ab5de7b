"""A tiny learnable face folder for training tests (imported by the test modules)."""
from __future__ import annotations

from pathlib import Path

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
