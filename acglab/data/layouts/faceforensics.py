"""FaceForensics++ (Rössler et al., ICCV 2019), with the DeepFakeDetection (DFD) videos.

Layout of the official download script (``ROOT`` is the path given by the user)::

    original_sequences/{youtube,actors}/<comp>/{videos/*.mp4 | images/<video>/<k>.png}
    manipulated_sequences/<Method>/<comp>/{videos/*.mp4 | images/<video>/<k>.png}
    train.json  val.json  test.json      (or splits/*.json: lists of pairs ["TTT", "SSS"])

``<comp>`` is ``raw`` (or ``c0``), ``c23`` or ``c40``; ``frames/`` is accepted beside ``images/``
and extracted frames are preferred over videos. One compression is loaded: the one asked for,
else the first of c23, c40, raw, c0 present in every sequence folder.

Names and identities: the YouTube original ``000`` shows ``"youtube/000"``; a fake ``TTT_SSS``
has target ``"youtube/TTT"`` (scene and head) and source ``"youtube/SSS"``; a DFD original
``01__scene`` shows ``"actors/01"`` and a DFD fake ``01_02__scene__HASH`` has target ``"actors/01"``
and source ``"actors/02"``. Video ids are ``"<category>/<name>"`` with category ``youtube``,
``actors`` or the method name (``Deepfakes/000_003``).

Official partition: a pair ``["TTT", "SSS"]`` in ``<part>.json`` puts the originals TTT and SSS and
the fakes ``TTT_SSS`` and ``SSS_TTT`` of every method in that part; DFD videos are not covered.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from acglab.data.layouts.media_files import MEDIA_FOLDERS, category_samples
from acglab.data.samples import FAKE, REAL, Sample, SampleTable
from acglab.errors import DataLayoutError

DATASET = "ffpp"
ORIGINALS = "original_sequences"
MANIPULATED = "manipulated_sequences"
COMPRESSION_PREFERENCE = ("c23", "c40", "raw", "c0")
SPLIT_FILES = ("train", "val", "test")
DFD_METHOD = "DeepFakeDetection"

_YOUTUBE_REAL = re.compile(r"^(?P<video>(?P<a>\d+))(?:_(?P<frame>\d+))?$")
_YOUTUBE_FAKE = re.compile(r"^(?P<video>(?P<a>\d+)_(?P<b>\d+))(?:_(?P<frame>\d+))?$")
_ACTOR_REAL = re.compile(r"^(?P<a>\d+)__[^_].*$")
_ACTOR_FAKE = re.compile(r"^(?P<a>\d+)_(?P<b>\d+)__.+$")


def looks_like(root: Path) -> bool:
    return (root / ORIGINALS).is_dir() or (root / MANIPULATED).is_dir()


def identities_of(category: str, name: str) -> tuple[str, ...]:
    """Identities (target first) of an FF++/DFD video from its category and file stem."""
    if category == "actors":
        m = _ACTOR_REAL.match(name)
        ids = (m.group("a"),) if m else None
        prefix = "actors"
    elif category == DFD_METHOD:
        m = _ACTOR_FAKE.match(name)
        ids = (m.group("a"), m.group("b")) if m else None
        prefix = "actors"
    elif category == "youtube":
        m = _YOUTUBE_REAL.match(name)
        ids = (m.group("a"),) if m and m.group("frame") is None else None
        prefix = "youtube"
    else:
        m = _YOUTUBE_FAKE.match(name)
        ids = (m.group("a"), m.group("b")) if m and m.group("frame") is None else None
        prefix = "youtube"
    if ids is None:
        raise DataLayoutError(f"unexpected FaceForensics++ video name {category}/{name}")
    return tuple(f"{prefix}/{i}" for i in ids)


def _sequence_folders(root: Path) -> list[tuple[str, int, Path]]:
    """``(category, label, folder)`` for every ``original_sequences/*`` and ``manipulated_sequences/*``."""
    for needed in (ORIGINALS, MANIPULATED):
        if not (root / needed).is_dir():
            raise DataLayoutError(f"FaceForensics++ layout at {root} lacks {needed}/")
    found = []
    for group, label in ((ORIGINALS, REAL), (MANIPULATED, FAKE)):
        subs = sorted(p for p in (root / group).iterdir() if p.is_dir() and not p.name.startswith("."))
        if not subs:
            raise DataLayoutError(
                f"FaceForensics++ folder {root / group} is empty (expected e.g. youtube/ or Deepfakes/)"
            )
        found.extend((p.name, label, p) for p in subs)
    return found


def choose_compression(folders: list[Path], compression: str | None) -> str:
    """The compression to load: ``compression`` if given, else the preferred one all folders have."""
    available = [{c for c in COMPRESSION_PREFERENCE if (f / c).is_dir()} for f in folders]
    if compression is not None:
        lacking = [f for f, a in zip(folders, available) if compression not in a]
        if lacking:
            raise DataLayoutError(f"FaceForensics++ folder {lacking[0]} lacks {compression}/")
        return compression
    for c in COMPRESSION_PREFERENCE:
        if all(c in a for a in available):
            return c
    desc = "; ".join(f"{f.name}: {', '.join(sorted(a)) or 'none'}" for f, a in zip(folders, available))
    raise DataLayoutError(f"FaceForensics++ folders share no compression (raw, c23, c40): {desc}")


def _flat_parser(category: str):
    pattern = _YOUTUBE_REAL if category == "youtube" else _YOUTUBE_FAKE

    def parse(stem: str):
        m = pattern.match(stem)
        if m is None or m.group("frame") is None:
            return None
        return m.group("video"), int(m.group("frame"))

    return parse


def load(root: Path, compression: str | None = None) -> SampleTable:
    """All videos (or extracted frames) of one compression of a FaceForensics++ folder."""
    folders = _sequence_folders(root)
    comp = choose_compression([f for _, _, f in folders], compression)
    samples: list[Sample] = []
    for category, label, folder in folders:
        media = next((folder / comp / m for m in MEDIA_FOLDERS if (folder / comp / m).is_dir()), None)
        if media is None:
            raise DataLayoutError(f"FaceForensics++ folder {folder / comp} lacks videos/ (or frames/, images/)")
        samples += category_samples(
            media,
            _flat_parser(category),
            category,
            label,
            DATASET,
            identities_of,
            empty=f"FaceForensics++ folder {media} holds no videos or frames",
            unnamed="unexpected FaceForensics++ frame name {path}; use <video>/<k>.png folders",
        )
    return SampleTable(samples)


def split_file(root: Path, part: str) -> Path | None:
    for cand in (root / f"{part}.json", root / "splits" / f"{part}.json"):
        if cand.is_file():
            return cand
    return None


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """The ``[["TTT", "SSS"], ...]`` pairs of an official split file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataLayoutError(f"cannot read FaceForensics++ split file {path}: {err}") from None
    ok = isinstance(data, list) and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in data
    )
    if not ok:
        raise DataLayoutError(f'FaceForensics++ split file {path} is not a list of ["TTT", "SSS"] pairs')
    return [(a, b) for a, b in data]


def official_partition(root: Path, table: SampleTable) -> tuple[dict[str, str], list[str]]:
    """Video -> part from ``train.json``/``val.json``/``test.json``; DFD videos are left out."""
    paths = {part: split_file(root, part) for part in SPLIT_FILES}
    missing = [f"{p}.json" for p, path in paths.items() if path is None]
    if missing:
        raise DataLayoutError(
            f"FaceForensics++ folder {root} lacks {', '.join(missing)} (the official splits of the "
            "FaceForensics repository, dataset/splits/)"
        )
    part_of_pair: dict[frozenset[str], str] = {}
    part_of_original: dict[str, str] = {}
    for part, path in paths.items():
        for a, b in read_pairs(path):
            part_of_pair[frozenset((a, b))] = part
            part_of_original[a] = part_of_original[b] = part
    partition: dict[str, str] = {}
    for s in table:
        if s.category == "youtube":
            part = part_of_original.get(s.video.split("/", 1)[1])
        elif s.category not in ("actors", DFD_METHOD):
            a, b = (i.split("/", 1)[1] for i in s.identities)
            part = part_of_pair.get(frozenset((a, b)))
        else:
            part = None
        if part is not None:
            partition[s.video] = part
    left_out = len(set(table.videos) - set(partition))
    notes = [f"{left_out} videos are in no official split file (DFD or unlisted)"] if left_out else []
    return partition, notes
