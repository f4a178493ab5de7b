"""Checksum manifests and the registry of datasets that can be fetched by name.

A manifest lists the files of a dataset, one per line::

    <sha256 hex>  <size in bytes>  <relative/path>

(the format of ``acglab/manifests/*.sha256``). A :class:`RemoteDataset` ties a manifest to
the base URL its files are served from, so ``acglab data fetch NAME`` can download and verify
them; :func:`register_dataset` adds more.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from acglab.errors import AcglabError, ChecksumError

_HEX64 = re.compile(r"[0-9a-f]{64}")
HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a manifest: its sha256 (lower-case hex), size in bytes and relative path."""

    sha256: str
    size: int
    path: str


@dataclass(frozen=True)
class RemoteDataset:
    """A dataset whose files are listed in a packaged manifest and served under ``base_url``.

    ``base_url`` + ``path`` is the address of each manifest entry; ``manifest`` names a file in
    ``acglab/manifests``.
    """

    name: str
    manifest: str
    base_url: str
    description: str
    licence: str

    def entries(self) -> list[ManifestEntry]:
        """The manifest's entries, in file order."""
        return load_manifest(self.manifest)


DATASETS: dict[str, RemoteDataset] = {}


def register_dataset(dataset: RemoteDataset) -> RemoteDataset:
    """Make ``dataset`` fetchable by its name (replaces an earlier one of the same name)."""
    DATASETS[dataset.name] = dataset
    return dataset


def get_dataset(name: str) -> RemoteDataset:
    """The registered dataset called ``name``; raises :class:`AcglabError` listing the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS)) or "none"
        raise AcglabError(f"no fetchable dataset named {name!r}; known: {known}") from None


register_dataset(
    RemoteDataset(
        name="celebdf-5frames",
        manifest="acg-celebdf-v2-faces.sha256",
        base_url="https://raw.githubusercontent.com/j2kevin18/ACG/"
        "44c71a8012989b811b4da88dfceaa5620a0ff4d7/Celeb-DF-v2-imgface/",
        description="Celeb-DF v2 test set: face crops of 5 frames for each of its 518 videos "
        "(2,592 files, about 29 MB), with List_of_testing_videos.txt",
        licence="Celeb-DF v2 terms of use: research and education only, no redistribution",
    )
)


def parse_manifest(text: str, source: str = "manifest") -> list[ManifestEntry]:
    """Parse manifest text (``sha256  size  path`` per line; blank and ``#`` lines skipped).

    Raises
    ------
    ChecksumError
        On a malformed line, a duplicate path, or a path that is absolute or leaves the
        destination folder (``..``); the message names ``source`` and the line number.
    """
    entries: list[ManifestEntry] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        where = f"{source} line {number}"
        if len(parts) != 3 or not _HEX64.fullmatch(parts[0].lower()) or not parts[1].isdigit():
            raise ChecksumError(f"{where} is not '<sha256>  <size>  <path>': {line[:80]!r}")
        path = parts[2].strip()
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or "\\" in path:
            raise ChecksumError(f"{where} has a path outside the destination folder: {path!r}")
        if path in seen:
            raise ChecksumError(f"{where} lists {path!r} twice")
        seen.add(path)
        entries.append(ManifestEntry(sha256=parts[0].lower(), size=int(parts[1]), path=path))
    return entries


def load_manifest(name: str) -> list[ManifestEntry]:
    """Entries of the manifest ``acglab/manifests/<name>`` shipped with the package, or of a
    manifest file given by path."""
    if Path(name).is_file():
        return parse_manifest(Path(name).read_text(encoding="utf-8"), source=str(name))
    resource = resources.files("acglab").joinpath("manifests", name)
    if not resource.is_file():
        raise ChecksumError(f"no manifest {name!r} in acglab/manifests; reinstall acglab")
    return parse_manifest(resource.read_text(encoding="utf-8"), source=name)


def select_entries(
    entries: Sequence[ManifestEntry], patterns: str | Iterable[str] | None = None, limit: int | None = None
) -> list[ManifestEntry]:
    """Entries whose path matches any of the shell ``patterns`` (``fnmatch``; all when
    ``None``), then at most the first ``limit`` of them."""
    if isinstance(patterns, str):
        patterns = [patterns]
    patterns = list(patterns or [])
    chosen = [e for e in entries if not patterns or any(fnmatch.fnmatchcase(e.path, p) for p in patterns)]
    return chosen if limit is None else chosen[: max(limit, 0)]


def file_sha256(path: str | Path) -> str:
    """Lower-case hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mismatch(path: str | Path, entry: ManifestEntry) -> str | None:
    """Why the file at ``path`` does not match ``entry`` (missing, size, sha256), else ``None``.

    The size is checked first, so a file of the wrong size is never hashed.
    """
    path = Path(path)
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size != entry.size:
        return f"size {size} instead of {entry.size}"
    digest = file_sha256(path)
    if digest != entry.sha256:
        return f"sha256 {digest[:12]}... instead of {entry.sha256[:12]}..."
    return None
