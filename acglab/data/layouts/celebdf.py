"""Celeb-DF v2 (Li et al., CVPR 2020): the official video layout and extracted-frame layouts.

Accepted folders (``ROOT`` is the path given by the user):

- videos: ``ROOT/{Celeb-real,Celeb-synthesis,YouTube-real}/*.mp4`` and
  ``ROOT/List_of_testing_videos.txt`` (lines ``<label> <category>/<video>.mp4``, 1 = real);
- frames: the same category folders holding ``<video>_<k>.jpg`` (face crops or frames) or
  per-video folders ``<video>/<k>.jpg|png``;
- either of these inside ``frames/``, ``images/`` or ``videos/`` of each category folder
  (``Celeb-real/videos/id0_0000.mp4``, ``Celeb-real/frames/id0_0000/000.png``), frames preferred;
- a folder holding ``faces/`` (the face crops) and the list, such as ``celebdf-mini``: its
  ``faces/`` is used.

Names and identities: ``Celeb-real/idA_XXXX`` shows identity ``idA``; ``Celeb-synthesis/idA_idB_XXXX``
is a face swap with target ``idA`` (scene and head) and source ``idB`` (face);
``YouTube-real/000XX`` gets the pseudo-identity ``"YouTube-real/000XX"`` (its video id).
"""

from __future__ import annotations

import re
from pathlib import Path

from acglab.data.layouts.media_files import category_samples, media_folder
from acglab.data.samples import FAKE, REAL, Sample, SampleTable
from acglab.errors import DataLayoutError

DATASET = "celebdf-v2"
LIST_NAME = "List_of_testing_videos.txt"
CATEGORY_LABELS = {"Celeb-real": REAL, "Celeb-synthesis": FAKE, "YouTube-real": REAL}
FACES_DIR = "faces"

#: video-name grammar per category, with an optional frame suffix ``_<k>`` for flat frames
_NAME_PATTERNS = {
    "Celeb-real": re.compile(r"^(?P<video>(?P<a>id\d+)_\d+)(?:_(?P<frame>\d+))?$"),
    "Celeb-synthesis": re.compile(r"^(?P<video>(?P<a>id\d+)_(?P<b>id\d+)_\d+)(?:_(?P<frame>\d+))?$"),
    "YouTube-real": re.compile(r"^(?P<video>\d+)(?:_(?P<frame>\d+))?$"),
}
_EXPECTED = {"Celeb-real": "idN_XXXX", "Celeb-synthesis": "idT_idS_XXXX", "YouTube-real": "XXXXX (digits)"}


def category_root(root: Path) -> Path:
    """The folder holding the category folders: ``root/faces`` when present, else ``root``."""
    faces = root / FACES_DIR
    if any((faces / c).is_dir() for c in CATEGORY_LABELS):
        return faces
    return root


def looks_like(root: Path) -> bool:
    """True if ``root`` holds any Celeb-DF category folder (or a ``faces/`` folder with one)."""
    base = category_root(root)
    return any((base / c).is_dir() for c in CATEGORY_LABELS) or (root / LIST_NAME).is_file()


def identities_of(category: str, video_name: str) -> tuple[str, ...]:
    """Identities (target first) of a Celeb-DF video from its category and name.

    ``("Celeb-real", "id3_0007") -> ("id3",)``; ``("Celeb-synthesis", "id3_id9_0007") ->
    ("id3", "id9")``; ``("YouTube-real", "00012") -> ("YouTube-real/00012",)``.
    Raises :class:`DataLayoutError` for a name that does not follow the category's grammar.
    """
    m = _NAME_PATTERNS[category].match(video_name)
    if m is None or m.group("frame") is not None:
        raise DataLayoutError(f"unexpected Celeb-DF video name {category}/{video_name}; expected {_EXPECTED[category]}")
    if category == "Celeb-real":
        return (m.group("a"),)
    if category == "Celeb-synthesis":
        return (m.group("a"), m.group("b"))
    return (f"{category}/{video_name}",)


def _flat_name_parser(category: str):
    pattern = _NAME_PATTERNS[category]

    def parse(stem: str):
        m = pattern.match(stem)
        if m is None:
            return None
        return m.group("video"), int(m.group("frame")) if m.group("frame") is not None else 0

    return parse


def load(root: Path) -> SampleTable:
    """All videos (or frames) of a Celeb-DF v2 folder as a :class:`SampleTable`.

    Raises :class:`DataLayoutError` naming the missing category folders, an empty one, or a file
    whose name does not follow the Celeb-DF grammar.
    """
    base = category_root(root)
    missing = [f"{c}/" for c in CATEGORY_LABELS if not (base / c).is_dir()]
    if missing:
        raise DataLayoutError(
            f"Celeb-DF folder {base} lacks {', '.join(missing)} "
            f"(expected {', '.join(c + '/' for c in CATEGORY_LABELS)})"
        )
    samples: list[Sample] = []
    for category, label in CATEGORY_LABELS.items():
        folder = media_folder(base / category)
        samples += category_samples(
            folder,
            _flat_name_parser(category),
            category,
            label,
            DATASET,
            identities_of,
            empty=f"Celeb-DF folder {folder} holds no videos or frames (.mp4, .jpg, .png)",
            unnamed=f"unexpected file name {{path}}; expected {_EXPECTED[category]}_<k>.jpg in {category}/",
        )
    return SampleTable(samples)


def testing_list_path(root: Path) -> Path | None:
    """``List_of_testing_videos.txt`` in ``root`` (or beside a ``faces`` folder given as root)."""
    for cand in (root / LIST_NAME, root.parent / LIST_NAME if root.name == FACES_DIR else None):
        if cand is not None and cand.is_file():
            return cand
    return None


def read_testing_list(path: Path) -> dict[str, int]:
    """``{video id: label}`` from ``List_of_testing_videos.txt`` (``1 Celeb-real/id0_0001.mp4``).

    Raises :class:`DataLayoutError` naming the first malformed line.
    """
    listed: dict[str, int] = {}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or parts[0] not in ("0", "1") or "/" not in parts[1]:
            raise DataLayoutError(f"{path}:{n}: expected '<0|1> <category>/<video>.mp4', got {line.strip()!r}")
        category, name = parts[1].split("/", 1)
        if category not in CATEGORY_LABELS:
            raise DataLayoutError(f"{path}:{n}: unknown Celeb-DF category {category!r}")
        label = int(parts[0])
        if label != CATEGORY_LABELS[category]:
            raise DataLayoutError(f"{path}:{n}: label {label} contradicts category {category}")
        listed[f"{category}/{name.rsplit('.', 1)[0]}"] = label
    return listed


def official_partition(root: Path, table: SampleTable) -> tuple[dict[str, str], list[str]]:
    """The official Celeb-DF v2 partition: listed videos -> ``"test"``, the others -> ``"train"``.

    Returns ``(partition, notes)``; ``notes`` says how many listed videos this folder lacks.
    Raises :class:`DataLayoutError` when the list is missing.
    """
    path = testing_list_path(root)
    if path is None:
        raise DataLayoutError(f"Celeb-DF folder {root} lacks {LIST_NAME} (needed for the official split)")
    listed = read_testing_list(path)
    videos = table.videos
    partition = {v: ("test" if v in listed else "train") for v in videos}
    missing = len(set(listed) - set(videos))
    notes = [f"{missing} of the {len(listed)} videos in {LIST_NAME} are not in this folder"] if missing else []
    return partition, notes
