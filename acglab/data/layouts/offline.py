"""The offline face set made by :func:`acglab.data.offline.offline_faces` (a teaching stand-in).

Layout (``ROOT`` is the folder :func:`~acglab.data.offline.offline_faces` returns)::

    ROOT/OFFLINE-FACES.txt                      marker: what the set is and is not
    ROOT/manifest.json                          videos, labels, identities, landmarks, build parameters
    ROOT/offline-real/<identity>_<NNNN>_<k>.png             real faces (label 1)
    ROOT/offline-swap/<target>_<source>_<NNNN>_<k>.png      face swaps (label 0)
    ROOT/offline-sbi/<identity>_<NNNN>_<k>.png              self-blended fakes (label 0)
    ROOT/masks/<category>/<video>_<k>.png       blend mask of each fake frame

Identities come from the manifest: a real or self-blended video shows one identity, a swap
``(target, source)``. The set has no official partition: split it by target or by identity.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from acglab.data.samples import FAKE, REAL, Sample, SampleTable
from acglab.errors import DataLayoutError

DATASET = "offline-faces"
MARKER_NAME = "OFFLINE-FACES.txt"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
CATEGORY_LABELS = {"offline-real": REAL, "offline-swap": FAKE, "offline-sbi": FAKE}
REBUILD_HINT = "delete the folder and build it again with acglab.data.offline.offline_faces()"


def looks_like(root: Path) -> bool:
    """True if ``root`` holds the offline face set's marker file."""
    return (Path(root) / MARKER_NAME).is_file()


def read_manifest(root: Path) -> dict:
    """The parsed ``manifest.json`` of an offline face set.

    Raises :class:`DataLayoutError` when it is missing, unreadable, of another format version or
    lacks its ``videos`` table.
    """
    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        raise DataLayoutError(f"offline face set at {root} lacks {MANIFEST_NAME}; {REBUILD_HINT}")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataLayoutError(f"{path} is not valid JSON ({err.__class__.__name__}); {REBUILD_HINT}") from None
    well_formed = isinstance(manifest, dict) and isinstance(manifest.get("videos"), dict)
    if not well_formed or manifest.get("format") != MANIFEST_FORMAT:
        raise DataLayoutError(f"{path} is not a format-{MANIFEST_FORMAT} offline face manifest; {REBUILD_HINT}")
    return manifest


def _listed_files(root: Path) -> set[str]:
    present = set()
    for category in CATEGORY_LABELS:
        folder = root / category
        if folder.is_dir():
            present.update(f"{category}/{name}" for name in os.listdir(folder))
    return present


def load(root: Path) -> SampleTable:
    """All frames of the offline face set, one :class:`Sample` each, in manifest order.

    ``dataset = "offline-faces"``, ``video = "<category>/<video>"``, identities from the
    manifest (target first), ``frame`` the frame index. Files are listed, never opened. Raises
    :class:`DataLayoutError` for a damaged manifest or files it lists that are missing.
    """
    root = Path(root)
    manifest = read_manifest(root)
    present = _listed_files(root)
    samples: list[Sample] = []
    missing: list[str] = []
    for video, entry in manifest["videos"].items():
        try:
            category = entry["category"]
            label = CATEGORY_LABELS[category]
            identities = tuple(str(i) for i in entry["identities"])
            frames = [(int(f["frame"]), str(f["file"])) for f in entry["frames"]]
        except (KeyError, TypeError, ValueError):
            raise DataLayoutError(
                f"{root / MANIFEST_NAME}: malformed entry for video {video!r}; {REBUILD_HINT}"
            ) from None
        if int(entry.get("label", label)) != label or not video.startswith(category + "/") or not identities:
            raise DataLayoutError(f"{root / MANIFEST_NAME}: video {video!r} contradicts its category; {REBUILD_HINT}")
        for frame, rel in frames:
            if rel not in present:
                missing.append(rel)
                continue
            samples.append(Sample(str(root / rel), label, video, identities, category, DATASET, frame))
    if missing:
        raise DataLayoutError(
            f"offline face set at {root} lacks {len(missing)} files listed in {MANIFEST_NAME} "
            f"(first: {missing[0]}); {REBUILD_HINT}"
        )
    return SampleTable(samples)


def frame_landmarks(root: Path) -> dict[str, np.ndarray]:
    """``{absolute image path: (5, 2) float32 landmarks}`` for every frame of the set.

    Landmarks are ``(x, y)`` pixels in the order left eye, right eye, nose, mouth left, mouth
    right (image left/right), as :class:`acglab.synth.SelfBlendAugment` takes them.
    """
    root = Path(root)
    out = {}
    for entry in read_manifest(root)["videos"].values():
        for f in entry["frames"]:
            out[str(root / f["file"])] = np.asarray(f["landmarks"], dtype=np.float32).reshape(5, 2)
    return out


def official_partition(root: Path, table: SampleTable) -> tuple[dict[str, str], list[str]]:
    """The offline set has no published partition: always raises :class:`DataLayoutError`."""
    raise DataLayoutError("offline face set has no official partition; use --by target or --by identity")
