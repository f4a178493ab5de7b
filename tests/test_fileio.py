"""Atomic writes: complete content or the old one, usual file mode, nothing left on failure."""

from __future__ import annotations

import os
import stat

import pytest

from acglab.fileio import atomic_write, copy_atomic, readable_mode, write_bytes_atomic, write_text_atomic


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_write_text_creates_parents_and_content(tmp_path):
    path = write_text_atomic(tmp_path / "a" / "b.txt", "x\r\ny\n")
    assert path.read_bytes() == b"x\r\ny\n"
    assert leftovers(path.parent) == []


def test_mode_is_what_open_gives(tmp_path):
    plain = tmp_path / "plain"
    with open(plain, "w") as f:
        f.write("1")
    ours = write_bytes_atomic(tmp_path / "ours", b"1")
    assert stat.S_IMODE(os.stat(ours).st_mode) == stat.S_IMODE(os.stat(plain).st_mode) == readable_mode()


def test_failed_write_keeps_old_content_and_cleans_up(tmp_path):
    target = write_text_atomic(tmp_path / "t.json", "old")

    def broken(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_copy(tmp_path):
    src = write_bytes_atomic(tmp_path / "src.bin", bytes(range(256)))
    dst = copy_atomic(src, tmp_path / "sub" / "dst.bin")
    assert dst.read_bytes() == src.read_bytes()
