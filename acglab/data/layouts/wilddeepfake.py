"""WildDeepfake (Zi et al., ACM MM 2020): face sequences collected from the internet.

Official layout (``ROOT`` or ``ROOT/deepfake_in_the_wild``)::

    real_train/  real_test/  fake_train/  fake_test/

each released as ``<N>.tar.gz`` archives which extract to ``<N>/<real|fake>/<seq>/<k>.png``.
The archives must be extracted first (``tar -xzf <N>.tar.gz`` inside each folder); a folder that
still holds only archives raises :class:`DataLayoutError` saying so. Any folder of images below a
part folder is one face sequence (a "video" here), e.g. ``fake_train/12/3`` for
``fake_train/12/fake/3/*.png``.

No identities are published. Sequences extracted from the same archive come from the same
source clip, so they share the pseudo-identity ``"<part>/<N>"`` and stay on one side of a group
split; a sequence folder directly inside a part folder is its own pseudo-identity (its video id).

The official partition: ``*_train`` -> train, ``*_test`` -> test.
"""

from __future__ import annotations

import os
from pathlib import Path

from acglab.data.layouts.media_files import frame_index_of, is_archive, is_image
from acglab.data.samples import FAKE, REAL, Sample, SampleTable
from acglab.errors import DataLayoutError

DATASET = "wilddeepfake"
PART_FOLDERS = {"real_train": REAL, "real_test": REAL, "fake_train": FAKE, "fake_test": FAKE}
NESTED_ROOT = "deepfake_in_the_wild"
_LABEL_FOLDERS = ("real", "fake")


def dataset_root(root: Path) -> Path:
    """``root/deepfake_in_the_wild`` when that holds the part folders, else ``root``."""
    nested = root / NESTED_ROOT
    if any((nested / p).is_dir() for p in PART_FOLDERS):
        return nested
    return root


def looks_like(root: Path) -> bool:
    base = dataset_root(root)
    return any((base / p).is_dir() for p in PART_FOLDERS)


def _sequences(part_dir: Path):
    """``(relative folder parts, [image names])`` for every folder below ``part_dir`` with images."""
    for dirpath, dirnames, filenames in os.walk(part_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        images = sorted(f for f in filenames if not f.startswith(".") and is_image(f))
        if images:
            rel = Path(dirpath).relative_to(part_dir).parts
            yield dirpath, rel, images


def _video_and_identity(part: str, rel: tuple[str, ...]) -> tuple[str, str]:
    """``(video id, pseudo-identity)`` of the sequence folder ``part/<rel...>``.

    ``("12", "fake", "3") -> ("fake_train/12/3", "fake_train/12")``: the label folder is left out
    of the id and sequences of one archive share the archive's pseudo-identity.
    """
    if not rel:
        raise DataLayoutError(f"WildDeepfake folder {part}/ holds images directly; expected <N>/<real|fake>/<seq>/")
    name = "/".join(c for i, c in enumerate(rel) if not (i == 1 and len(rel) > 2 and c in _LABEL_FOLDERS))
    video = f"{part}/{name}"
    return video, (f"{part}/{rel[0]}" if len(rel) >= 2 else video)


def load(root: Path) -> SampleTable:
    """All face sequences of a WildDeepfake folder (frames as samples).

    Raises :class:`DataLayoutError` naming a missing part folder, or a part folder that holds
    only unextracted archives.
    """
    base = dataset_root(root)
    missing = [p for p in PART_FOLDERS if not (base / p).is_dir()]
    if missing:
        raise DataLayoutError(f"WildDeepfake layout at {root} lacks {', '.join(m + '/' for m in missing)}")
    samples: list[Sample] = []
    for part, label in PART_FOLDERS.items():
        part_dir = base / part
        found = 0
        for dirpath, rel, images in _sequences(part_dir):
            video, identity = _video_and_identity(part, rel)
            for i, name in enumerate(images):
                samples.append(
                    Sample(
                        path=os.path.join(dirpath, name),
                        label=label,
                        video=video,
                        identities=(identity,),
                        category=part,
                        dataset=DATASET,
                        frame=frame_index_of(os.path.splitext(name)[0], i),
                    )
                )
            found += 1
        if not found:
            archives = [f for f in os.listdir(part_dir) if is_archive(f)]
            if archives:
                raise DataLayoutError(
                    f"WildDeepfake folder {part_dir} holds {len(archives)} archives but no extracted frames; "
                    f'extract them first (cd {part_dir} && for f in *.tar.gz; do tar -xzf "$f"; done)'
                )
            raise DataLayoutError(
                f"WildDeepfake folder {part_dir} holds no face sequences (<N>/<real|fake>/<seq>/*.png)"
            )
    return SampleTable(samples)


def official_partition(root: Path, table: SampleTable) -> tuple[dict[str, str], list[str]]:
    """The official partition: videos of ``*_train`` folders -> train, ``*_test`` -> test."""
    partition = {s.video: ("test" if s.category.endswith("_test") else "train") for s in table}
    return partition, []
