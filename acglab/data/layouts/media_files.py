"""Finding the videos and frames inside one folder of a dataset, without opening any file.

Three forms are recognised inside a folder (a dataset "category" such as ``Celeb-real/``):

- video files: ``<video>.mp4`` (``.avi``, ``.mov``, ``.mkv``, ``.webm``) -> one sample, ``frame=None``;
- flat frames: ``<video>_<k>.jpg`` (``.jpeg``, ``.png``, ``.bmp``, ``.webp``) -> frame ``k`` of ``<video>``;
- per-video folders: ``<video>/<k>.jpg`` -> frame ``k`` of ``<video>`` (any trailing digits of the
  stem give ``k``; names without digits are numbered in sorted order).

Where a folder holds frames (flat or per-video) its video files are ignored: extracted frames are
what a detector reads. Hidden files and files of other types are skipped. A category folder that
holds ``frames/``, ``images/`` or ``videos/`` (as many preprocessing scripts write) is read
through that folder, extracted frames first (:func:`media_folder`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from acglab.data.samples import Sample
from acglab.errors import DataLayoutError

VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
#: sub-folders of a category folder that hold its media, in order of preference
MEDIA_FOLDERS = ("frames", "images", "videos")

_TRAILING_DIGITS = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class MediaEntry:
    """One file found in a folder: the video name it belongs to, its path and frame index."""

    video: str
    path: str
    frame: int | None


def _visible(entries):
    return [e for e in entries if not e.name.startswith(".")]


def list_dir(folder: Path) -> tuple[list[os.DirEntry], list[os.DirEntry]]:
    """``(files, sub_folders)`` of ``folder`` (hidden entries skipped), each sorted by name."""
    with os.scandir(folder) as it:
        entries = sorted(_visible(it), key=lambda e: e.name)
    files = [e for e in entries if e.is_file()]
    dirs = [e for e in entries if e.is_dir()]
    return files, dirs


def extension(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def is_image(name: str) -> bool:
    return extension(name) in IMAGE_EXTENSIONS


def is_video(name: str) -> bool:
    return extension(name) in VIDEO_EXTENSIONS


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def frame_index_of(stem: str, position: int) -> int:
    """Frame index from a frame file's stem: its trailing digits, else its sorted ``position``."""
    m = _TRAILING_DIGITS.search(stem)
    return int(m.group(1)) if m else position


def frames_in_folder(folder: str, video: str) -> list[MediaEntry]:
    """The image files directly inside ``folder``, as frames of ``video``."""
    with os.scandir(folder) as it:
        names = sorted(e.name for e in _visible(it) if e.is_file() and is_image(e.name))
    return [
        MediaEntry(video, os.path.join(folder, n), frame_index_of(os.path.splitext(n)[0], i))
        for i, n in enumerate(names)
    ]


def media_folder(folder: Path) -> Path:
    """``folder/frames``, ``folder/images`` or ``folder/videos`` (the first present), else ``folder``."""
    return next((folder / m for m in MEDIA_FOLDERS if (folder / m).is_dir()), folder)


def scan_category(folder: Path, split_flat_name) -> list[MediaEntry]:
    """All samples of one category folder (see the module docstring for the three forms).

    ``split_flat_name(stem) -> (video, frame | None)`` parses a flat frame's file stem, e.g.
    ``"id0_0001_003" -> ("id0_0001", 3)``; it returns ``None`` for a stem it does not accept.
    Flat images whose stem it rejects are returned with ``video=""`` so the caller can name them.
    """
    files, dirs = list_dir(folder)
    found: list[MediaEntry] = []
    for d in dirs:
        found.extend(frames_in_folder(d.path, d.name))
    for f in files:
        if is_image(f.name):
            parsed = split_flat_name(os.path.splitext(f.name)[0])
            video, frame = parsed if parsed is not None else ("", None)
            found.append(MediaEntry(video, f.path, frame))
    if found:
        return found
    return [MediaEntry(os.path.splitext(f.name)[0], f.path, None) for f in files if is_video(f.name)]


def category_samples(
    folder: Path, split_flat_name, category: str, label: int, dataset: str, identities_of, empty: str, unnamed: str
) -> list[Sample]:
    """The :class:`Sample` of every video or frame of one category folder (:func:`scan_category`).

    Each gets video id ``"<category>/<video>"`` and identities ``identities_of(category, video)``.
    :class:`DataLayoutError` with message ``empty`` when the folder holds no media, and with
    ``unnamed.format(path=...)`` for a flat frame whose name ``split_flat_name`` rejects.
    """
    entries = scan_category(folder, split_flat_name)
    if not entries:
        raise DataLayoutError(empty)
    samples = []
    for e in entries:
        if not e.video:
            raise DataLayoutError(unnamed.format(path=e.path))
        samples.append(
            Sample(
                path=e.path,
                label=label,
                video=f"{category}/{e.video}",
                identities=identities_of(category, e.video),
                category=category,
                dataset=dataset,
                frame=e.frame,
            )
        )
    return samples
