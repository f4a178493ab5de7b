"""Atomic file writes: a reader sees a file's old content or its complete new content, never a
half-written one, and an interrupted write leaves nothing behind.

Every writer goes through :func:`atomic_write`: the content is written to a temporary file in
the destination folder (same file system), given the mode a plain ``open(path, "w")`` would
give it (``0o666`` less the umask), and moved into place with ``os.replace``. On any error,
``KeyboardInterrupt`` included, the temporary file is removed and the destination is untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def readable_mode() -> int:
    """``0o666`` less the process umask: what ``open(path, "w")`` gives a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path, write: Callable[[Path], object], make_parents: bool = True) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then ``os.replace`` it onto ``path``.

    ``write`` must create or overwrite the file at ``tmp`` (it exists, empty, when called).
    Parent folders are created unless ``make_parents`` is false. Returns ``path`` as a Path.
    """
    path = Path(path).expanduser()
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, readable_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    return atomic_write(path, write)


def write_bytes_atomic(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def copy_atomic(src, dst) -> Path:
    """Copy the content of ``src`` to ``dst`` atomically."""
    return atomic_write(dst, lambda tmp: shutil.copyfile(src, tmp))
