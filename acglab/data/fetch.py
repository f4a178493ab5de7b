"""Download the files of a checksum manifest in parallel, verifying every one.

For each entry ``(sha256, size, path)`` of a manifest (:mod:`acglab.data.manifest`) the file
``base_url + path`` is stored at ``dest/path``:

- a file already there with the right size and sha256 is kept (a re-run downloads nothing);
  one that does not match is deleted and fetched again;
- the download goes to ``dest/path.part`` and is moved into place (``os.replace``) only once
  its size and sha256 match, so ``dest`` never holds a half-written or unverified file;
- a ``.part`` left by an interrupted run is resumed with an HTTP ``Range`` request when the
  server honours it (and restarted when it does not, or when the resumed file fails to verify);
- connection errors, time-outs and 5xx answers are retried with exponential back-off;
  a 404 (or other 4xx) marks the file as missing on the server.

``base_url`` may be ``http(s)://...``, ``file://...`` or a plain folder (a local mirror).
Requests run on a thread pool with one :class:`requests.Session` per thread.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse
from urllib.request import url2pathname

import requests
from tqdm.auto import tqdm

from acglab.data.manifest import ManifestEntry, get_dataset, mismatch, select_entries
from acglab.errors import ChecksumError, FetchError, SourceMissing, SourceUnreachable

CHUNK_BYTES = 1 << 16
DEFAULT_WORKERS = 8
DEFAULT_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds
SHOWN_NAMES = 3


def _resume_offset(part: Path, size: int) -> int:
    """Bytes of ``part`` to keep: its length when shorter than ``size``; else delete it, 0."""
    if part.is_file():
        have = part.stat().st_size
        if 0 < have < size:
            return have
        part.unlink()
    return 0


def _write_chunks(chunks: Iterable[bytes], part: Path, append: bool, size: int) -> int:
    """Write ``chunks`` to ``part`` (appending or truncating); stop once past ``size`` bytes,
    which verification then reports. Returns the number of bytes written."""
    written = 0
    with open(part, "ab" if append else "wb") as fh:
        limit = size - (fh.tell() if append else 0)
        for chunk in chunks:
            fh.write(chunk)
            written += len(chunk)
            if written > limit:
                break
    return written


def _range_start(resp: requests.Response) -> int | None:
    """First byte of a ``Content-Range: bytes a-b/n`` header, ``None`` when absent or odd."""
    value = resp.headers.get("Content-Range", "")
    try:
        unit, span = value.split(None, 1)
        return int(span.split("-", 1)[0]) if unit == "bytes" else None
    except ValueError:
        return None


class HttpSource:
    """Files under an ``http(s)://`` base URL, one :class:`requests.Session` per thread."""

    def __init__(self, base_url: str, timeout=DEFAULT_TIMEOUT, retries: int = 2, backoff: float = 0.5):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self.retries = max(int(retries), 0)
        self.backoff = backoff
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            from acglab import __version__

            session = requests.Session()
            # identity encoding keeps byte ranges and sizes those of the stored file
            session.headers.update({"User-Agent": f"acglab/{__version__}", "Accept-Encoding": "identity"})
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def download(self, path: str, part: Path, size: int) -> tuple[int, bool]:
        """Fetch ``path`` into ``part``; returns (bytes received, whether it resumed a part).

        Raises :class:`SourceMissing` on 4xx, :class:`SourceUnreachable` when every attempt
        met a connection error, a time-out or a 5xx/429 answer.
        """
        url = self.base_url + quote(path)
        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            offset = _resume_offset(part, size)
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            try:
                with self._session().get(url, headers=headers, stream=True, timeout=self.timeout) as resp:
                    code = resp.status_code
                    if code >= 500 or code in (408, 429):
                        last = f"HTTP {code}"
                        continue
                    if code == 416 or (code == 206 and _range_start(resp) != offset):
                        part.unlink(missing_ok=True)  # the server disagrees about the part
                        last = f"HTTP {code} for a resumed download"
                        continue
                    if code not in (200, 206):
                        raise SourceMissing(f"HTTP {code}")
                    resumed = code == 206
                    return _write_chunks(resp.iter_content(CHUNK_BYTES), part, resumed, size), resumed
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
                last = type(err).__name__
        attempts = self.retries + 1
        raise SourceUnreachable(f"{last} after {attempts} attempt{'s' if attempts > 1 else ''}")

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


class FolderSource:
    """Files under a local folder (a mirror), read directly."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.base_url = str(self.folder)

    def download(self, path: str, part: Path, size: int) -> tuple[int, bool]:
        """Copy ``folder/path`` into ``part`` (resuming a shorter part); see :class:`HttpSource`."""
        src = self.folder / path
        if not src.is_file():
            raise SourceMissing("not in the mirror folder")
        offset = _resume_offset(part, size)
        with open(src, "rb") as fh:
            fh.seek(offset)
            chunks: Iterator[bytes] = iter(lambda: fh.read(CHUNK_BYTES), b"")
            return _write_chunks(chunks, part, offset > 0, size), offset > 0

    def close(self) -> None:
        pass


def open_source(base_url: str, timeout=DEFAULT_TIMEOUT, retries: int = 2, backoff: float = 0.5):
    """An :class:`HttpSource` for ``http(s)://``, a :class:`FolderSource` for ``file://`` or a
    folder path; raises :class:`FetchError` for anything else."""
    parsed = urlparse(base_url)
    if parsed.scheme in ("http", "https"):
        return HttpSource(base_url, timeout=timeout, retries=retries, backoff=backoff)
    folder = Path(url2pathname(parsed.path)) if parsed.scheme == "file" else Path(base_url).expanduser()
    if folder.is_dir():
        return FolderSource(folder)
    raise FetchError(
        f"base URL {base_url!r} is neither http(s):// nor an existing folder; give a URL or the folder of a mirror"
    )


@dataclass
class FetchReport:
    """What a fetch did: files downloaded, already present, failed (path -> reason) and corrupt
    (path -> mismatch; such files were deleted)."""

    total: int
    dest: Path
    base_url: str
    downloaded: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    corrupt: dict[str, str] = field(default_factory=dict)
    bytes_downloaded: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every file is now in ``dest`` and verified."""
        return not self.failed and not self.corrupt

    def summary(self) -> str:
        """One line: counts, megabytes and time."""
        return (
            f"{len(self.downloaded)} downloaded ({self.bytes_downloaded / 1e6:.1f} MB), "
            f"{len(self.present)} already present, {len(self.failed)} could not be fetched, "
            f"{len(self.corrupt)} failed verification; {self.total} files in the manifest, destination {self.dest} "
            f"({self.seconds:.1f} s)"
        )

    def raise_for_failures(self) -> None:
        """Raise :class:`ChecksumError` if a file failed verification, else :class:`FetchError`
        if one could not be fetched; the one-line message names the first few."""
        if self.corrupt:
            path, why = next(iter(self.corrupt.items()))
            extra = f"; {len(self.failed)} more could not be fetched" if self.failed else ""
            raise ChecksumError(
                f"{len(self.corrupt)} of {self.total} files did not match the manifest and were deleted: "
                f"{_names(self.corrupt)} ({path}: {why}){extra}; {self.base_url} serves other "
                "content than the manifest lists: check --base-url"
            )
        if self.failed:
            why = next(iter(self.failed.values()))
            raise FetchError(
                f"{len(self.failed)} of {self.total} files could not be fetched: {_names(self.failed)} "
                f"({why}; source {self.base_url}); re-run to retry, or give a mirror with --base-url"
            )


def _names(paths: Sequence[str] | dict) -> str:
    paths = list(paths)
    shown = ", ".join(paths[:SHOWN_NAMES])
    return shown + (f" and {len(paths) - SHOWN_NAMES} more" if len(paths) > SHOWN_NAMES else "")


def fetch_entry(entry: ManifestEntry, dest: Path, source) -> tuple[str, str, int]:
    """Make ``dest/entry.path`` a verified copy of the entry.

    Returns ``(status, detail, bytes received)`` with status ``"present"``, ``"downloaded"``,
    ``"failed"`` (detail: why) or ``"corrupt"`` (detail: the mismatch; nothing is left behind).
    A resumed download that fails verification is retried once from the start.
    """
    target = dest / entry.path
    if target.is_file():
        if mismatch(target, entry) is None:
            return "present", "", 0
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    received = 0
    while True:
        try:
            n, resumed = source.download(entry.path, part, entry.size)
        except (SourceMissing, SourceUnreachable) as err:
            return "failed", str(err), received
        received += n
        why = mismatch(part, entry)
        if why is None:
            os.replace(part, target)
            return "downloaded", "", received
        part.unlink(missing_ok=True)
        if not resumed:
            return "corrupt", why, received


def fetch_files(
    entries: Sequence[ManifestEntry],
    dest: str | Path,
    base_url: str,
    *,
    workers: int = DEFAULT_WORKERS,
    timeout=DEFAULT_TIMEOUT,
    retries: int = 2,
    backoff: float = 0.5,
    progress: bool = True,
    desc: str = "fetch",
) -> FetchReport:
    """Fetch and verify ``entries`` from ``base_url`` into ``dest`` on ``workers`` threads.

    Never raises for a single file: failures and mismatches are collected in the returned
    :class:`FetchReport` (call :meth:`FetchReport.raise_for_failures`). A tqdm bar counts files.
    """
    if workers < 1:
        raise FetchError(f"--workers must be at least 1, got {workers}")
    dest = Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise FetchError(f"destination {dest} exists and is not a folder; give another --dest")
    dest.mkdir(parents=True, exist_ok=True)
    source = open_source(base_url, timeout=timeout, retries=retries, backoff=backoff)
    report = FetchReport(total=len(entries), dest=dest, base_url=source.base_url)
    start = time.perf_counter()
    bar = tqdm(total=len(entries), unit="file", desc=desc, disable=not progress)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="acglab-fetch")
    try:
        futures = {pool.submit(fetch_entry, e, dest, source): e for e in entries}
        for future in as_completed(futures):
            path = futures[future].path
            status, detail, received = future.result()
            report.bytes_downloaded += received
            if status == "present":
                report.present.append(path)
            elif status == "downloaded":
                report.downloaded.append(path)
            elif status == "failed":
                report.failed[path] = detail
            else:
                report.corrupt[path] = detail
            bar.update(1)
            if report.failed or report.corrupt:
                bar.set_postfix(failed=len(report.failed), corrupt=len(report.corrupt), refresh=False)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
        source.close()
    order = {e.path: i for i, e in enumerate(entries)}
    for paths in (report.downloaded, report.present):
        paths.sort(key=order.__getitem__)
    report.failed = dict(sorted(report.failed.items(), key=lambda kv: order[kv[0]]))
    report.corrupt = dict(sorted(report.corrupt.items(), key=lambda kv: order[kv[0]]))
    report.seconds = time.perf_counter() - start
    return report


def fetch_dataset(
    name: str,
    dest: str | Path,
    base_url: str | None = None,
    *,
    only: str | Iterable[str] | None = None,
    limit: int | None = None,
    check: bool = True,
    **options,
) -> FetchReport:
    """Fetch the registered dataset ``name`` (see :data:`acglab.data.manifest.DATASETS`).

    Parameters
    ----------
    name : registered dataset name, e.g. ``"celebdf-5frames"``.
    dest : folder receiving ``dest/<path>`` for every manifest path.
    base_url : a mirror (``http(s)://``, ``file://`` or folder); default the dataset's own.
    only, limit : restrict to paths matching shell patterns, then to the first ``limit``.
    check : raise :class:`ChecksumError` / :class:`FetchError` when a file is not in place.
    options : passed to :func:`fetch_files` (``workers``, ``timeout``, ``retries``, ...).
    """
    dataset = get_dataset(name)
    entries = select_entries(dataset.entries(), only, limit)
    if not entries:
        raise FetchError(f"nothing to fetch: no path of {name} matches {only!r}")
    report = fetch_files(entries, dest, base_url or dataset.base_url, desc=name, **options)
    if check:
        report.raise_for_failures()
    return report
