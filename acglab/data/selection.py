"""Which rows of a :class:`SampleTable` a run uses: frames per video, and the checks that a part holds face images."""

from __future__ import annotations

import numpy as np

from acglab.data.samples import SampleTable
from acglab.errors import DataLayoutError


def select_frames(table: SampleTable, frames_per_video: int | None) -> SampleTable:
    """At most ``frames_per_video`` frames of each video, evenly spaced in frame order
    (positions ``round(linspace(0, m - 1, k))`` of a video's ``m`` frames); ``None`` keeps all."""
    if frames_per_video is None:
        return table
    by_video: dict[str, list] = {}
    for s in table:
        by_video.setdefault(s.video, []).append(s)
    keep = set()
    for frames in by_video.values():
        frames = sorted(frames, key=lambda s: (s.frame if s.frame is not None else -1, s.path))
        if len(frames) > frames_per_video:
            positions = np.unique(np.rint(np.linspace(0, len(frames) - 1, frames_per_video)).astype(int))
            frames = [frames[p] for p in positions]
        keep.update(id(s) for s in frames)
    return SampleTable([s for s in table if id(s) in keep])


def require_images(table: SampleTable, part: str) -> None:
    """:class:`DataLayoutError` when ``table`` is empty or lists video files instead of face images."""
    if len(table) == 0:
        raise DataLayoutError(f"the {part} part holds no samples; check the dataset folder and the split file")
    videos = [s for s in table if s.frame is None]
    if videos:
        raise DataLayoutError(
            f"the {part} part lists {len(videos)} video files (e.g. {videos[0].path}); extract face crops "
            "first with `acglab data extract` and train on the crops"
        )
