"""Locks of the run store, and the one rule for temporary files.

Every write is a temporary file `.<name>.tmp<pid>` renamed into place, made while the writer holds
a lock: a run's files under the run's LOCK, an evaluation under its own lock (the file name +
`.lock`, in `evals/` or `_evals/`). A temporary is removed only when its writer cannot be alive on
any host sharing the store: while this process holds the lock that guards it (then no other writer
can), or once it is older than STALE_SECONDS. A pid check would be valid only on this host (a
SLURM task on another node may be writing), so it only ever keeps a file, never removes one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from filelock import FileLock, Timeout

from rstlib.store.files import EVALS, LOCK, SHARED_EVALS, TEMPORARIES, eval_lock

STALE_SECONDS = 6 * 3600  # no write of the store takes this long: an older temporary has no writer


def lock_probe(lock_path: Path) -> str:
    """free (no lock file, or none holds it) | held (a process, on any host sharing the store) |
    unknown (it cannot be taken: a read-only store)."""
    if not lock_path.is_file():
        return "free"
    try:
        with FileLock(str(lock_path), timeout=0):
            return "free"
    except Timeout:
        return "held"
    except OSError:
        return "unknown"


def lock_held(lock_path: Path) -> bool:
    """Whether a process holds a lock (True when that cannot be told: a read-only store)."""
    return lock_probe(lock_path) != "free"


def guarding_lock(tmp: Path) -> Path:
    """The lock that the writer of temporary `tmp` holds: an evaluation's own, else its run's."""
    final = tmp.with_name(tmp.name[1:].rsplit(".tmp", 1)[0])
    return eval_lock(final) if tmp.parent.name in (EVALS, SHARED_EVALS) else tmp.parent / LOCK


def _pid_alive_here(tmp: Path) -> bool:
    pid = tmp.name.rsplit(".tmp", 1)[-1]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: Path, recursive: bool = True, holding: Path | None = None) -> list[Path]:
    """Remove the temporaries of `folder` (and its subfolders) whose writers are gone, by the rule
    above; returns the removed paths. `holding`: a lock this process holds (its temporaries are
    ours to remove: no one else can be writing them)."""
    now = time.time()
    removed = []
    found = folder.rglob(TEMPORARIES) if recursive else folder.glob(TEMPORARIES)
    for tmp in sorted(p for p in found if p.is_file()):
        lock = guarding_lock(tmp)
        if holding is not None and lock == holding:
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
            continue
        if _pid_alive_here(tmp):
            continue  # its writer runs on this host
        if now - tmp.stat().st_mtime > STALE_SECONDS:
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
            continue
        try:
            with FileLock(str(lock), timeout=0):  # under its lock: no writer can be alive anywhere
                if tmp.is_file():
                    tmp.unlink()
                    removed.append(tmp)
        except (Timeout, OSError):
            continue  # held (a writer may be alive, perhaps on another host) or a read-only store
    return removed
