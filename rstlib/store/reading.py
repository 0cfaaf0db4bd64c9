"""Reading a file of the store: only a regular file that is itself in the store (no link
followed, no device or FIFO opened) and no more bytes than a cap, so that a hostile or damaged
folder is named as damaged, never read as the store's own, and never exhausts memory."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from rstlib.store.files import EVALS, SHARED_EVALS

RECORD_BYTES = 16 << 20  # a JSON record (an evaluation of all 10,000 test images holds ~3 KB)
WEIGHTS_BYTES = 4 << 30  # a model or checkpoint (the paper's WRN-34-10 with its scores: ~0.5 GB)


class UnreadableEntry(ValueError):
    """A store entry that is not a regular file of the store, or is over its size cap."""


def read_store_file(path: Path, limit: int) -> bytes:
    """The bytes of `path`, a regular file of the store of at most `limit` bytes; UnreadableEntry
    (with the reason) for a link (the file, or the evaluations folder holding it), a device, a
    FIFO, a folder, or a file over the cap. A missing file raises FileNotFoundError as usual."""
    if path.parent.name in (EVALS, SHARED_EVALS) and path.parent.is_symlink():
        raise UnreadableEntry(f"its folder {path.parent.name}/ is a link, not the store's")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP or path.is_symlink():
            raise UnreadableEntry("a link, not a file of the store (links are never followed)") from None
        if e.errno == errno.EISDIR:
            raise UnreadableEntry("a folder where a file belongs") from None
        raise
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(f.fileno())
        if not stat.S_ISREG(mode.st_mode):
            raise UnreadableEntry("not a regular file (a device, FIFO or folder)")
        if mode.st_size > limit:
            raise UnreadableEntry(f"{mode.st_size:,} bytes, over the {limit:,}-byte cap for this file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise UnreadableEntry(f"over the {limit:,}-byte cap for this file")
    return data


def entry_problem(path: Path) -> str | None:
    """Why an entry of the store at `path` is not a regular file of its own (a link, a device, a FIFO,
    a folder where a file belongs); None where it is one or where nothing is there."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "a link, not a file of the store (links are never followed)"
    if stat.S_ISDIR(mode):
        return "a folder where a file belongs"
    return None if stat.S_ISREG(mode) else "not a regular file (a device or FIFO)"
