"""A generic real/fake folder pair, optionally inside official ``train/ val/ test/`` folders.

Accepted layouts (``ROOT`` is the path given by the user)::

    ROOT/real/  ROOT/fake/                         (no official partition)
    ROOT/{train,val,test}/{real,fake}/             (official partition = the part folders)

Inside ``real/`` and ``fake/``: video files (one sample each, ``frame=None``), per-video folders of
frames (``<video>/<k>.jpg``, any depth: every folder holding images is one video), or single
images (each its own one-frame video, ``frame=0``). No identities are known: every video is its own
pseudo-identity (its video id), so identity-level splits reduce to video-level splits; give a
``group_of`` function to :func:`acglab.data.splits.split_by_group` when you know better.
"""

from __future__ import annotations

import os
from pathlib import Path

from acglab.data.layouts.media_files import frame_index_of, is_image, is_video
from acglab.data.samples import FAKE, REAL, Sample, SampleTable
from acglab.errors import DataLayoutError

LABEL_FOLDERS = {"real": REAL, "fake": FAKE}
PART_FOLDERS = ("train", "val", "test")


def _part_folders(root: Path) -> list[str]:
    return [p for p in PART_FOLDERS if any((root / p / lab).is_dir() for lab in LABEL_FOLDERS)]


def looks_like(root: Path) -> bool:
    return any((root / lab).is_dir() for lab in LABEL_FOLDERS) or bool(_part_folders(root))


def _scan_label_folder(folder: Path) -> list[tuple[str, str, int | None]]:
    """``(video name, path, frame)`` for every video file, image folder or single image below ``folder``."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        names = sorted(f for f in filenames if not f.startswith("."))
        rel = Path(dirpath).relative_to(folder).as_posix()
        images = [f for f in names if is_image(f)]
        if rel != "." and images:
            found.extend(
                (rel, os.path.join(dirpath, f), frame_index_of(os.path.splitext(f)[0], i)) for i, f in enumerate(images)
            )
        elif images:
            found.extend((os.path.splitext(f)[0], os.path.join(dirpath, f), 0) for f in images)
        prefix = "" if rel == "." else rel + "/"
        found.extend((prefix + os.path.splitext(f)[0], os.path.join(dirpath, f), None) for f in names if is_video(f))
    return found


def load(root: Path) -> SampleTable:
    """All samples of a generic real/fake layout; the dataset name is the folder's name.

    A folder with only ``real/`` or only ``fake/`` loads (a one-class evaluation set: ACC is
    defined, AUC and EER are not); training refuses it (:func:`acglab.train.checks.check_training_table`)."""
    parts = _part_folders(root)
    bases = [(p + "/", root / p) for p in parts] if parts else [("", root)]
    samples: list[Sample] = []
    for prefix, base in bases:
        missing = [lab + "/" for lab in LABEL_FOLDERS if not (base / lab).is_dir()]
        if len(missing) == len(LABEL_FOLDERS) and not parts:
            raise DataLayoutError(f"real/fake layout at {root} lacks {' and '.join(missing)}")
        for lab, label in LABEL_FOLDERS.items():
            if not (base / lab).is_dir():
                continue
            category = prefix + lab
            entries = _scan_label_folder(base / lab)
            if not entries:
                raise DataLayoutError(f"folder {base / lab} holds no videos or images")
            for name, path, frame in entries:
                video = f"{category}/{name}"
                samples.append(Sample(path, label, video, (video,), category, root.name or "generic", frame))
    if parts and not ({s.label for s in samples} >= {REAL, FAKE}):
        raise DataLayoutError(f"real/fake layout at {root} lacks real/ or fake/ in every part folder")
    return SampleTable(samples)


def official_partition(root: Path, table: SampleTable) -> tuple[dict[str, str], list[str]]:
    """Video -> part from the ``train/ val/ test/`` folders, when the layout has them."""
    if not _part_folders(root):
        raise DataLayoutError(f"real/fake layout at {root} has no train/ val/ test/ folders (no official split)")
    partition = {}
    for s in table:
        head = s.category.split("/", 1)[0]
        if head in PART_FOLDERS:
            partition[s.video] = head
    return partition, []
