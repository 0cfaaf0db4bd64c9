"""The run store: one directory per run config, named `<readable>-<hash12>`.

A run directory holds `config.json`, `log.txt`, `status.json`, rolling checkpoints
`ckpt-EEEE.pt` (each with a `.sha256` beside it), and once finished `model.pt` and
`metrics.json`. Evaluations of a run are cached in its `evals/` folder. Every write is atomic
(temporary file + rename); a per-run lock file keeps two processes from running one config at
once, so the second waits and then reads the first one's result.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Callable

import torch
from filelock import FileLock

from rstlib.config import RunConfig, config_hash

KEEP_CHECKPOINTS = 2


def default_root() -> Path:
    return Path(os.environ.get("RST_RUNS", Path.cwd() / "runs")).expanduser()


def atomic_write_bytes(path: Path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any):
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


class CorruptCheckpoint(RuntimeError):
    """A checkpoint whose bytes do not match its recorded hash or that does not load."""


def save_tensor_file(path: Path, obj: dict) -> str:
    """torch.save atomically, with a sha256 sidecar written after the file is in place; returns
    the sha256."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    atomic_write_bytes(path, data)
    atomic_write_bytes(path.with_name(path.name + ".sha256"), digest.encode())
    return digest


def _remove_with_sidecar(path: Path):
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".sha256").unlink(missing_ok=True)


def load_tensor_file(path: Path, map_location="cpu") -> dict:
    """Load a file written by `save_tensor_file`, verifying its hash; weights_only (no pickled
    code runs). Raises CorruptCheckpoint when the bytes are damaged or truncated."""
    sidecar = path.with_name(path.name + ".sha256")
    data = path.read_bytes()
    if not sidecar.is_file():
        raise CorruptCheckpoint(f"{path.name}: no hash file beside it (interrupted write)")
    if hashlib.sha256(data).hexdigest() != sidecar.read_text().strip():
        raise CorruptCheckpoint(f"{path.name}: content does not match its sha256 (truncated or damaged)")
    try:
        return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as e:  # PyTorch's message runs to many lines: keep its first
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CorruptCheckpoint(f"{path.name}: does not load ({first[:200]})") from None


class RunDir:
    """Paths and state of one run directory."""

    def __init__(self, root: Path, config: RunConfig):
        self.config = config
        self.path = root / config.run_id()

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.json"

    @property
    def model_path(self) -> Path:
        return self.path / "model.pt"

    @property
    def log_path(self) -> Path:
        return self.path / "log.txt"

    def is_done(self) -> bool:
        """Finished with its weights here (evaluations can run)."""
        return self.metrics_path.is_file() and self.model_path.is_file()

    def has_results(self) -> bool:
        """Finished: its metrics are here (committed results without weights included)."""
        return self.metrics_path.is_file()

    def write_config(self):
        atomic_write_json(self.path / "config.json", self.config.to_dict())

    def write_metrics(self, metrics: dict):
        """Written last: its presence means 'done'."""
        atomic_write_json(self.metrics_path, metrics)

    def write_sparsity(self, report: dict):
        atomic_write_json(self.path / "sparsity.json", report)

    def save_model(self, state: dict) -> str:
        """The finished model; returns its sha256 (recorded in metrics.json, so evaluations stay
        addressable when the weights are not at hand)."""
        return save_tensor_file(self.model_path, state)

    def clear_checkpoints(self):
        for old in self.checkpoints():
            _remove_with_sidecar(old)

    def lock(self) -> FileLock:
        self.path.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.path / ".lock"))

    def set_status(self, state: str, **extra):
        atomic_write_json(self.path / "status.json", {"state": state, "host": socket.gethostname(),
                                                      "pid": os.getpid(), "time": time.time(), **extra})

    def status(self) -> str:
        return run_state(self.path)

    def checkpoints(self) -> list[Path]:
        return sorted(self.path.glob("ckpt-*.pt"))

    def save_checkpoint(self, epoch: int, state: dict):
        save_tensor_file(self.path / f"ckpt-{epoch:04d}.pt", state)
        for old in self.checkpoints()[:-KEEP_CHECKPOINTS]:
            _remove_with_sidecar(old)

    def latest_checkpoint(self, log: Callable[[str], None] = print) -> dict | None:
        """The newest checkpoint that verifies; damaged ones are reported and set aside."""
        candidates = list(reversed(self.checkpoints()))
        for i, path in enumerate(candidates):
            try:
                return load_tensor_file(path)
            except CorruptCheckpoint as e:
                then = "falling back to the previous one" if i + 1 < len(candidates) else "no earlier one: starting afresh"
                log(f"corrupt checkpoint detected, {then}: {e}")
                path.rename(path.with_name(path.name + ".corrupt"))
        return None

    def clean_stale_temporaries(self) -> list[Path]:
        """Remove half-written temporary files left by a killed process (call it holding the lock)."""
        stale = [p for p in self.path.glob(".*.tmp*") if p.is_file()]
        for p in stale:
            p.unlink(missing_ok=True)
        return stale

    def metrics(self) -> dict:
        return read_json(self.metrics_path)

    def model_digest(self) -> str:
        """sha256 of the finished model's file: evaluations are keyed on it, so a retrained model
        that is not bit-identical is evaluated afresh instead of matching stale results. Read from
        the weights' sidecar when they are here, else from metrics.json (committed results)."""
        sidecar = self.model_path.with_name(self.model_path.name + ".sha256")
        if self.model_path.is_file() and sidecar.is_file():
            return sidecar.read_text().strip()
        digest = self.metrics().get("model_sha256") if self.has_results() else None
        if not digest:
            raise FileNotFoundError(f"{self.path.name}: no model and no recorded model sha256; train it first")
        return digest

    def load_model_state(self) -> dict:
        return load_tensor_file(self.model_path)


def run_state(run_path: Path) -> str:
    """done | results-only (committed results, weights absent: retrained when needed) | queued |
    running | failed | interrupted (its process is gone) | absent"""
    has_metrics = (run_path / "metrics.json").is_file()
    if has_metrics and (run_path / "model.pt").is_file():
        return "done"
    state = _recorded_state(run_path)
    return "results-only" if has_metrics and state in ("done", "absent") else state


def _recorded_state(run_path: Path) -> str:
    p = run_path / "status.json"
    if not p.is_file():
        return "absent"
    try:
        s = read_json(p)
    except (OSError, ValueError):
        return "damaged"
    if not isinstance(s, dict) or "state" not in s:
        return "damaged"
    if s["state"] == "running" and s.get("host") == socket.gethostname():
        try:
            os.kill(int(s["pid"]), 0)
        except ProcessLookupError:
            return "interrupted"
        except PermissionError:
            pass
    return s["state"]


class RunStore:
    """Maps run configs to directories and caches evaluations; persists only (training is
    `rstlib.runner`'s job)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_root()

    def dir(self, config: RunConfig) -> RunDir:
        return RunDir(self.root, config)

    def _eval_path(self, run: RunDir | None, key: dict) -> Path:
        folder = run.path / "evals" if run is not None else self.root / "_evals"
        return folder / f"{key.get('name', 'eval')}-{config_hash(key)}.json"

    def lookup_eval(self, run: RunDir | None, key: dict) -> dict | None:
        path = self._eval_path(run, key)
        return read_json(path)["result"] if path.is_file() else None

    def cached_eval(self, run: RunDir | None, key: dict, compute: Callable[[], dict]) -> dict:
        """Cached evaluation result of `run` for `key` (attack, budget, test subset, ...); with
        run=None the result belongs to several runs (an R2S set) and lives in `_evals/`."""
        path = self._eval_path(run, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            return read_json(path)["result"]
        with FileLock(str(path) + ".lock"):
            if path.is_file():
                return read_json(path)["result"]
            result = compute()
            atomic_write_json(path, {"key": key, "result": result})
        return result

    def all_runs(self) -> list[tuple[Path, dict, str]]:
        """(directory, config dict, status) of every run in the store; a run whose config.json does
        not parse is listed as `damaged` with an empty config instead of hiding the others."""
        out = []
        for d in sorted(self.root.glob("*/config.json")):
            try:
                config = read_json(d)
            except (OSError, ValueError):
                out.append((d.parent, {}, "damaged"))
                continue
            out.append((d.parent, config, run_state(d.parent)))
        return out
