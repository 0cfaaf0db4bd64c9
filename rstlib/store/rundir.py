"""One run directory: its paths (`rstlib.store.files`), its weights and records, its lock, and its
state (done, results-only, running, interrupted, ...), told from its files and its lock alone."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path
from typing import Callable

from filelock import FileLock

from rstlib.config.profile import RunConfig
from rstlib.store.files import (
    CHECKPOINTS,
    CONFIG,
    LOCK,
    LOG,
    METRICS,
    MODEL,
    RETRAINED,
    SPARSITY,
    STATUS,
    checkpoint_name,
    set_aside_name,
)
from rstlib.store.locks import lock_held, remove_stale_temporaries
from rstlib.store.model_file import model_bytes, read_model
from rstlib.store.records import atomic_write_bytes, atomic_write_json, read_record
from rstlib.store.weights import CorruptCheckpoint, load_tensor_file, remove_with_sidecar, save_tensor_file

KEEP_CHECKPOINTS = 2


class RunDir:
    """Paths and state of one run directory."""

    def __init__(self, root: Path, config: RunConfig):
        self.config = config
        self.path = root / config.run_id()

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS

    @property
    def model_path(self) -> Path:
        return self.path / MODEL

    @property
    def log_path(self) -> Path:
        return self.path / LOG

    def is_done(self) -> bool:
        """Finished with its weights here (evaluations can run)."""
        return self.metrics_path.is_file() and self.model_path.is_file()

    def has_results(self) -> bool:
        """Finished: its metrics are here (committed results without weights included)."""
        return self.metrics_path.is_file()

    def write_config(self):
        atomic_write_json(self.path / CONFIG, self.config.to_dict())

    def write_metrics(self, metrics: dict):
        """Written last: its presence means 'done'."""
        atomic_write_json(self.metrics_path, metrics)

    def write_sparsity(self, report: dict):
        atomic_write_json(self.path / SPARSITY, report)

    def save_model(self, state: dict, recorded: str | None = None) -> str:
        """The finished model (`rstlib.store.model_file`); returns its sha256, which metrics.json
        records: the file is verified against it, and evaluations are keyed on it. Where the run
        has recorded results (`recorded`, their sha256) and these weights are other ones, they are
        written apart (`RETRAINED`), never as the run's model: the recorded numbers stay its own."""
        data = model_bytes(state)
        digest = hashlib.sha256(data).hexdigest()
        path = self.model_path if recorded in (None, digest) else self.path / RETRAINED.format(sha12=digest[:12])
        atomic_write_bytes(path, data)
        return digest

    def clear_checkpoints(self):
        for old in self.checkpoints():
            remove_with_sidecar(old)

    def lock(self) -> FileLock:
        self.path.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.path / LOCK))

    def set_status(self, state: str, **extra):
        atomic_write_json(
            self.path / STATUS, {"state": state, "host": socket.gethostname(), "pid": os.getpid(), "time": time.time(), **extra}
        )

    def status(self) -> str:
        return run_state(self.path)

    def status_record(self) -> dict:
        """The run's status.json ({} where it is absent or damaged)."""
        try:
            return read_record(self.path / STATUS, "status")
        except (OSError, ValueError):
            return {}

    def checkpoints(self) -> list[Path]:
        return sorted(self.path.glob(CHECKPOINTS))

    def save_checkpoint(self, epoch: int, state: dict):
        save_tensor_file(self.path / checkpoint_name(epoch), state)
        for old in self.checkpoints()[:-KEEP_CHECKPOINTS]:
            remove_with_sidecar(old)

    def latest_checkpoint(self, log: Callable[[str], None] = print) -> dict | None:
        """The newest checkpoint that verifies; damaged ones are reported and set aside."""
        candidates = list(reversed(self.checkpoints()))
        for i, path in enumerate(candidates):
            try:
                return load_tensor_file(path)
            except CorruptCheckpoint as e:
                then = "falling back to the previous one" if i + 1 < len(candidates) else "no earlier one: starting afresh"
                log(f"corrupt checkpoint detected, {then}: {e}")
                path.rename(set_aside_name(path))
        return None

    def clean_stale_temporaries(self) -> list[Path]:
        """Remove half-written temporary files of this run's own files left by a killed process
        (call it holding the run's lock; evaluations' temporaries follow their own locks)."""
        return remove_stale_temporaries(self.path, recursive=False, holding=self.path / LOCK)

    def metrics(self) -> dict:
        return read_record(self.metrics_path, "metrics")

    def model_digest(self) -> str:
        """sha256 of the finished model's file, as metrics.json records it: evaluations are keyed on
        it, so a retrained model that is not bit-identical is evaluated afresh instead of matching
        stale results (the weights need not be at hand)."""
        digest = self.metrics().get("model_sha256") if self.has_results() else None
        if not digest:
            raise FileNotFoundError(f"{self.path.name}: no recorded model sha256; train it first")
        return digest

    def load_model_state(self) -> dict:
        """The finished model's state, verified against the sha256 metrics.json records (a
        damaged, truncated or altered file raises CorruptCheckpoint, in one line)."""
        return read_model(self.model_path, self.model_digest())


def run_state(run_path: Path) -> str:
    """done | results-only (committed results, weights absent: retrained when needed) | queued |
    running | failed | interrupted (its process is gone) | absent"""
    has_metrics = (run_path / METRICS).is_file()
    if has_metrics and (run_path / MODEL).is_file():
        return "done"
    state = _recorded_state(run_path)
    if has_metrics and state in ("done", "absent"):
        return "results-only"
    return "interrupted" if state == "done" else state  # its metrics were set aside: it runs again


def _recorded_state(run_path: Path) -> str:
    p = run_path / STATUS
    if not p.is_file():
        return "absent"
    try:
        s = read_record(p, "status")
    except (OSError, ValueError):
        return "damaged"
    here = s.get("host") == socket.gethostname()
    if s["state"] != "running" or (here and s.get("pid") == os.getpid()):
        return s["state"]  # (this process runs it and holds its lock: never probe our own lock)
    if not lock_held(run_path / LOCK):
        return "interrupted"  # killed (SIGKILL, power loss): the lock died with its process
    if here:
        try:
            os.kill(int(s.get("pid", -1)), 0)
        except (ProcessLookupError, ValueError):
            return "interrupted"
        except PermissionError:
            pass
    return s["state"]
