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


def save_tensor_file(path: Path, obj: dict):
    """torch.save atomically, with a sha256 sidecar written after the file is in place."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    atomic_write_bytes(path, data)
    atomic_write_bytes(path.with_name(path.name + ".sha256"), hashlib.sha256(data).hexdigest().encode())


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
    except Exception as e:
        raise CorruptCheckpoint(f"{path.name}: does not load ({e})") from None


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
        return self.metrics_path.is_file() and self.model_path.is_file()

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
            old.unlink(missing_ok=True)
            old.with_name(old.name + ".sha256").unlink(missing_ok=True)

    def latest_checkpoint(self, log: Callable[[str], None] = print) -> dict | None:
        """The newest checkpoint that verifies; damaged ones are reported and set aside."""
        for path in reversed(self.checkpoints()):
            try:
                return load_tensor_file(path)
            except CorruptCheckpoint as e:
                log(f"corrupt checkpoint detected, falling back to the previous one: {e}")
                path.rename(path.with_name(path.name + ".corrupt"))
        return None

    def metrics(self) -> dict:
        return read_json(self.metrics_path)

    def model_digest(self) -> str:
        """sha256 of the finished model's file: evaluations are keyed on it, so a retrained model
        that is not bit-identical is evaluated afresh instead of matching stale results."""
        return self.model_path.with_name(self.model_path.name + ".sha256").read_text().strip()

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
    s = read_json(p)
    if s["state"] == "running" and s.get("host") == socket.gethostname():
        try:
            os.kill(int(s["pid"]), 0)
        except ProcessLookupError:
            return "interrupted"
        except PermissionError:
            pass
    return s["state"]


class RunStore:
    """Maps run configs to directories; runs what is missing, returns what is there."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_root()

    def dir(self, config: RunConfig) -> RunDir:
        return RunDir(self.root, config)

    def get_or_run(self, config: RunConfig, device: torch.device | str = "auto",
                   progress: bool = True, channels_last: bool = False, compile: bool = False) -> RunDir:
        """The finished run for `config`: loaded if it is done, resumed if it was interrupted,
        trained otherwise. Parents (the RST of a fine-tune, the dense net of an RTT) first."""
        from rstlib.train import execute
        run = self.dir(config)
        if run.is_done():
            return run
        if config.parent is not None:
            self.get_or_run(config.parent, device, progress, channels_last, compile)
        with run.lock():
            if run.is_done():  # another process finished it while we waited
                return run
            execute(config, run, self, device=device, progress=progress,
                    channels_last=channels_last, compile=compile)
        return run

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
        """(directory, config dict, status) of every run in the store."""
        return [(d.parent, read_json(d), run_state(d.parent)) for d in sorted(self.root.glob("*/config.json"))]
