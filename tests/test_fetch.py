"""The checksummed fetcher end to end against HTTP servers on 127.0.0.1 (port 0).

The full 2,592-file manifest is fetched once from a server over the real celebdf-mini faces,
which hold only some of the files: exactly the absent ones must fail. The rest of the
behaviour (re-runs, tampering, corrupt servers, Range resume, retries, mirrors) is checked on
small sets of files, with sha256 digests computed here by hashlib.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import shutil
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from acglab.cli import main
from acglab.data.fetch import FetchError, fetch_dataset, fetch_files
from acglab.data.manifest import ManifestEntry, load_manifest, parse_manifest, select_entries
from acglab.errors import ChecksumError

MANIFEST = "acg-celebdf-v2-faces.sha256"
ROOT = Path(__file__).resolve().parents[1]
SUBSET = "Celeb-real/id0_0001_*"  # five face crops present in celebdf-mini


# --- servers -----------------------------------------------------------------------------
class QuietHandler(SimpleHTTPRequestHandler):
    """Static files; records (path, Range header) of every GET; no Range support."""

    log: list = []

    def do_GET(self):
        type(self).log.append((self.path.lstrip("/"), self.headers.get("Range")))
        super().do_GET()

    def log_message(self, *args):
        pass


class RangeHandler(QuietHandler):
    """Also answers ``Range: bytes=a-`` with 206 Partial Content."""

    def do_GET(self):
        spec = self.headers.get("Range")
        file = Path(self.directory) / self.path.lstrip("/")
        if not spec or not file.is_file():
            return super().do_GET()
        type(self).log.append((self.path.lstrip("/"), spec))
        data = file.read_bytes()
        start = int(spec.split("=")[1].split("-")[0])
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


class FlakyHandler(QuietHandler):
    """Answers 503 to the first request for each path, then serves it."""

    seen: set = set()

    def do_GET(self):
        path = self.path.lstrip("/")
        if path not in type(self).seen:
            type(self).seen.add(path)
            type(self).log.append((path, "503"))
            self.send_error(503)
            return
        super().do_GET()


@contextlib.contextmanager
def serve(root: Path, handler=QuietHandler):
    """Serve ``root`` on 127.0.0.1:<free port>; yields (base URL, request log)."""
    cls = type("Handler", (handler,), {"log": [], "seen": set()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(cls, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", cls.log
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_lines() -> list[tuple[str, int, str]]:
    """The packaged manifest read here with plain string splitting."""
    text = (ROOT / "acglab" / "manifests" / MANIFEST).read_text()
    return [(h, int(s), p) for h, s, p in (line.split() for line in text.splitlines() if line.strip())]


@pytest.fixture
def small_source(tmp_path):
    """Six files of assorted sizes in a folder, and their manifest entries."""
    src = tmp_path / "src"
    entries = []
    for i, size in enumerate([0, 1, 700, 5000, 70_000, 200_001]):
        path = f"d{i % 2}/f{i}.bin"
        data = hashlib.sha256(str(i).encode()).digest() * (size // 32 + 1)
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_bytes(data[:size])
        entries.append(ManifestEntry(sha256(src / path), size, path))
    return src, entries


def no_parts(folder: Path) -> bool:
    return not list(folder.rglob("*.part"))


# --- the full manifest against the real data ----------------------------------------------
def test_packaged_manifest_is_the_published_one(celebdf_mini):
    entries = load_manifest(MANIFEST)
    assert len(entries) == 2592 == len({e.path for e in entries})
    shipped = [(e.sha256, e.size, e.path) for e in entries]
    assert shipped == manifest_lines()
    published = (celebdf_mini / "acg-celebdf-v2-faces.sha256").read_text().split()
    assert [x for line in shipped for x in (line[0], str(line[1]), line[2])] == published


def test_full_fetch_fails_exactly_the_absent_files_then_rerun_downloads_nothing(celebdf_mini, tmp_path, capsys):
    faces = celebdf_mini / "faces"
    lines = manifest_lines()
    absent = [p for _, _, p in lines if not (faces / p).is_file()]
    assert 0 < len(absent) < len(lines)
    dest = tmp_path / "celebdf"
    with serve(faces) as (url, log):
        argv = ["data", "fetch", "celebdf-5frames", "--dest", str(dest), "--base-url", url, "--workers", "8", "--quiet"]
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert len(err.strip().splitlines()) == 1
        assert err.startswith(f"acglab: error: {len(absent)} of {len(lines)} files could not be fetched: ")
        assert absent[0] in err and "HTTP 404" in err
        assert f"{len(lines) - len(absent)} downloaded" in out and "0 already present" in out
        for digest, size, path in lines:
            target = dest / path
            if path in absent:
                assert not target.exists()
            else:
                assert target.stat().st_size == size and sha256(target) == digest
        assert no_parts(dest)

        n_requests = len(log)
        assert main(argv) == 2  # the absent files are still absent
        out, err = capsys.readouterr()
        assert f"0 downloaded (0.0 MB), {len(lines) - len(absent)} already present" in out
        assert sorted(p for p, _ in log[n_requests:]) == sorted(absent)


# --- small sets -----------------------------------------------------------------------------
def test_tampered_file_is_fetched_again(celebdf_mini, tmp_path, capsys):
    dest = tmp_path / "d"
    with serve(celebdf_mini / "faces") as (url, log):
        argv = ["data", "fetch", "celebdf-5frames", "--dest", str(dest), "--base-url", url, "--only", SUBSET, "--quiet"]
        assert main(argv) == 0
        assert "5 downloaded" in capsys.readouterr().out
        victim = dest / "Celeb-real/id0_0001_002.jpg"
        data = bytearray(victim.read_bytes())
        data[100] ^= 0xFF
        victim.write_bytes(bytes(data))
        before = len(log)
        assert main(argv) == 0
        assert "1 downloaded" in capsys.readouterr().out
        assert [p for p, _ in log[before:]] == ["Celeb-real/id0_0001_002.jpg"]
    assert victim.read_bytes() == (celebdf_mini / "faces" / "Celeb-real/id0_0001_002.jpg").read_bytes()


def test_server_with_a_corrupt_file_gives_checksum_error(celebdf_mini, tmp_path, capsys):
    entries = select_entries(load_manifest(MANIFEST), SUBSET)
    mirror = tmp_path / "mirror"
    for e in entries:
        (mirror / e.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(celebdf_mini / "faces" / e.path, mirror / e.path)
    bad = entries[3].path
    data = bytearray((mirror / bad).read_bytes())
    data[len(data) // 2] ^= 0x01
    (mirror / bad).write_bytes(bytes(data))
    dest = tmp_path / "d"
    with serve(mirror) as (url, _):
        argv = ["data", "fetch", "celebdf-5frames", "--dest", str(dest), "--base-url", url, "--only", SUBSET, "--quiet"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and bad in err and "did not match the manifest" in err
        assert not (dest / bad).exists() and no_parts(dest)
        assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.jpg")) == sorted(
            e.path for e in entries if e.path != bad
        )
        with pytest.raises(ChecksumError, match=bad):
            fetch_dataset("celebdf-5frames", dest, url, only=SUBSET, progress=False)


def test_small_fetch_rerun_and_tamper_without_data(small_source, tmp_path):
    src, entries = small_source
    dest = tmp_path / "d"
    with serve(src) as (url, log):
        report = fetch_files(entries, dest, url, workers=3, progress=False)
        assert report.ok and sorted(report.downloaded) == sorted(e.path for e in entries)
        assert report.bytes_downloaded == sum(e.size for e in entries)
        for e in entries:
            assert (dest / e.path).read_bytes() == (src / e.path).read_bytes()
        (dest / entries[4].path).write_bytes(b"x" * 10)  # wrong size
        report = fetch_files(entries, dest, url, workers=3, progress=False)
        assert report.downloaded == [entries[4].path] and len(report.present) == 5
        assert sha256(dest / entries[4].path) == entries[4].sha256


def test_missing_files_are_named(small_source, tmp_path):
    src, entries = small_source
    (src / entries[2].path).unlink()
    with serve(src) as (url, _):
        report = fetch_files(entries, tmp_path / "d", url, progress=False)
    assert list(report.failed) == [entries[2].path] and "404" in report.failed[entries[2].path]
    with pytest.raises(FetchError, match=rf"^1 of 6 files could not be fetched: {entries[2].path} "):
        report.raise_for_failures()


def test_stale_part_is_resumed_with_range(small_source, tmp_path):
    src, entries = small_source
    e = entries[5]
    dest = tmp_path / "d"
    part = dest / (e.path + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes((src / e.path).read_bytes()[:80_000])
    with serve(src, RangeHandler) as (url, log):
        report = fetch_files([e], dest, url, progress=False)
    assert report.ok and report.bytes_downloaded == e.size - 80_000
    assert log == [(e.path, "bytes=80000-")]
    assert sha256(dest / e.path) == e.sha256 and not part.exists()


def test_wrong_part_is_restarted_after_failed_resume(small_source, tmp_path):
    src, entries = small_source
    e = entries[5]
    dest = tmp_path / "d"
    part = dest / (e.path + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 1000)
    with serve(src, RangeHandler) as (url, log):
        report = fetch_files([e], dest, url, progress=False)
    assert report.ok and log == [(e.path, "bytes=1000-"), (e.path, None)]
    assert sha256(dest / e.path) == e.sha256


def test_part_is_restarted_when_server_ignores_range(small_source, tmp_path):
    src, entries = small_source
    e = entries[4]
    dest = tmp_path / "d"
    part = dest / (e.path + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"junk")
    with serve(src) as (url, log):
        report = fetch_files([e], dest, url, progress=False)
    assert report.ok and report.bytes_downloaded == e.size and log == [(e.path, "bytes=4-")]
    assert sha256(dest / e.path) == e.sha256


def test_5xx_answers_are_retried(small_source, tmp_path):
    src, entries = small_source
    with serve(src, FlakyHandler) as (url, log):
        report = fetch_files(entries, tmp_path / "d", url, retries=1, backoff=0, progress=False)
    assert report.ok and len(report.downloaded) == 6
    assert sorted(p for p, _ in log) == sorted(e.path for e in entries for _ in range(2))
    with serve(src, FlakyHandler) as (url, _):
        report = fetch_files(entries, tmp_path / "d2", url, retries=0, progress=False)
    assert len(report.failed) == 6 and set(report.failed.values()) == {"HTTP 503 after 1 attempt"}


def test_unreachable_server(small_source, tmp_path):
    _, entries = small_source
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = fetch_files(
        entries[:2], tmp_path / "d", f"http://127.0.0.1:{port}/", retries=1, backoff=0, timeout=2, progress=False
    )
    assert len(report.failed) == 2 and all("ConnectionError after 2 attempts" in r for r in report.failed.values())
    with pytest.raises(FetchError, match="2 of 2 files could not be fetched"):
        report.raise_for_failures()


@pytest.mark.parametrize("as_url", [False, True])
def test_folder_and_file_url_mirrors(small_source, tmp_path, as_url):
    src, entries = small_source
    base = src.as_uri() if as_url else str(src)
    dest = tmp_path / "d"
    part = dest / (entries[5].path + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes((src / entries[5].path).read_bytes()[:1234])
    report = fetch_files(entries, dest, base, progress=False)
    assert report.ok and report.bytes_downloaded == sum(e.size for e in entries) - 1234
    for e in entries:
        assert sha256(dest / e.path) == e.sha256
    assert fetch_files(entries, dest, base, progress=False).present == [e.path for e in entries]


def test_bad_arguments(small_source, tmp_path):
    src, entries = small_source
    with pytest.raises(FetchError, match="neither http"):
        fetch_files(entries, tmp_path / "d", str(tmp_path / "nowhere"), progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FetchError, match="not a folder"):
        fetch_files(entries, tmp_path / "file", str(src), progress=False)
    with pytest.raises(FetchError, match="nothing to fetch"):
        fetch_dataset("celebdf-5frames", tmp_path / "d", str(src), only="no/such/*")
    assert (
        main(
            [
                "data",
                "fetch",
                "celebdf-5frames",
                "--dest",
                str(tmp_path / "d"),
                "--base-url",
                str(tmp_path / "nowhere"),
                "--quiet",
            ]
        )
        == 2
    )


# --- manifest parsing -----------------------------------------------------------------------
def test_parse_manifest_and_select():
    h = "ab" * 32
    entries = parse_manifest(f"# comment\n{h}  12  a/b c.jpg\n\n{h.upper()}  0  x.txt\n")
    assert entries == [ManifestEntry(h, 12, "a/b c.jpg"), ManifestEntry(h, 0, "x.txt")]
    assert select_entries(entries, "a/*") == entries[:1]
    assert select_entries(entries, ["x*", "a/*"], limit=1) == entries[:1]
    assert select_entries(entries) == entries
    for bad, why in [
        (f"{h}  12", "not '<sha256>"),
        (f"{h[:-1]}  12  a", "not '<sha256>"),
        (f"{h}  -1  a", "not '<sha256>"),
        (f"{h}  1  ../a", "outside"),
        (f"{h}  1  /etc/a", "outside"),
        (f"{h}  1  a\n{h}  1  a", "twice"),
    ]:
        with pytest.raises(ChecksumError, match=why):
            parse_manifest(bad, source="m")
