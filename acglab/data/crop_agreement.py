"""Agreement of our face detection and cropping with the published crops of a Celeb-DF folder.

The comparison of one frame with its published crop is :func:`acglab.faces.agreement.compare_frame`;
this module finds the frame/crop pairs of a ``celebdf-mini`` folder and runs it over them, reading
the images from disk.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from acglab.data.images import load_image
from acglab.errors import DataLayoutError
from acglab.faces.agreement import AgreementReport, compare_frame
from acglab.faces.crop import DEFAULT_MARGIN
from acglab.faces.detect import FRAME_MIN_FACE_SIZE


def celebdf_frame_pairs(root) -> list[tuple[str, Path, Path]]:
    """``(name, full frame, published crop)`` for every ``frames/<category>/<video>_000.jpg`` of a
    ``celebdf-mini`` folder that has ``faces/<category>/<video>_000.jpg``."""
    root = Path(root)
    frames_dir, faces_dir = root / "frames", root / "faces"
    if not frames_dir.is_dir() or not faces_dir.is_dir():
        raise DataLayoutError(f"{root} lacks frames/ or faces/ (expected a celebdf-mini folder)")
    pairs = []
    for frame in sorted(frames_dir.glob("*/*.jpg")):
        rel = frame.relative_to(frames_dir)
        crop = faces_dir / rel
        if crop.is_file():
            pairs.append((rel.with_suffix("").as_posix(), frame, crop))
    if not pairs:
        raise DataLayoutError(f"{root} holds no frame with a matching face crop (frames/<category>/<video>_000.jpg)")
    return pairs


def crop_agreement(
    pairs: Sequence[tuple[str, Path, Path]],
    *,
    margin=DEFAULT_MARGIN,
    min_face_size: int = FRAME_MIN_FACE_SIZE,
    device: str = "cpu",
    progress: bool = True,
    **options,
) -> AgreementReport:
    """Run :func:`~acglab.faces.agreement.compare_frame` on ``(name, frame path, crop path)`` pairs; time the whole run.

    ``options`` go to :func:`~acglab.faces.agreement.compare_frame` (``enlargement``, ``min_iou``, ``choose``, detector
    settings). The defaults are those of ``acglab data extract``.
    """
    start = time.perf_counter()
    results = []
    for name, frame_path, crop_path in tqdm(pairs, desc="face agreement", unit="frame", disable=not progress):
        results.append(
            compare_frame(
                name,
                load_image(frame_path),
                load_image(crop_path),
                margin=margin,
                min_face_size=min_face_size,
                device=device,
                **options,
            )
        )
    return AgreementReport(results, time.perf_counter() - start)
