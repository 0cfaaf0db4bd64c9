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
import logging
import os
import pickle
import socket
import time
from pathlib import Path
from typing import Callable

import torch
from filelock import FileLock, Timeout

from rstlib.config import RunConfig, config_hash
from rstlib.records import DamagedFile, atomic_write_bytes, atomic_write_json, read_json, read_record, record_problem

log = logging.getLogger(__name__)
KEEP_CHECKPOINTS = 2
STALE_SECONDS = 6 * 3600  # a lock-free temporary older than this has no live writer on any host
QUARANTINE = "_quarantine"  # where `rst runs --repair` moves damaged entries (nothing is deleted)


def default_root() -> Path:
    return Path(os.environ.get("RST_RUNS", Path.cwd() / "runs")).expanduser()


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
    data = path.read_bytes()
    problem = _checksum_problem(path, lambda: hashlib.sha256(data).hexdigest())
    if problem:
        raise CorruptCheckpoint(f"{path.name}: {problem}")
    try:
        return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:  # PyTorch's advice (load it with weights_only=False) is wrong for such a file
        raise CorruptCheckpoint(f"{path.name}: refused: it holds Python objects besides tensors, which are never "
                                "loaded (none of its code ran); `rst runs --repair` sets it aside") from None
    except Exception as e:  # PyTorch's message runs to many lines: keep its first
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CorruptCheckpoint(f"{path.name}: does not load ({first[:200]})") from None


def _checksum_problem(path: Path, digest: Callable[[], str]) -> str | None:
    """Why a file written by `save_tensor_file` fails its sha256 sidecar (None: it verifies);
    `digest` computes the file's sha256 (called only when the sidecar is there)."""
    sidecar = path.with_name(path.name + ".sha256")
    if not sidecar.is_file():
        return "no hash file beside it (interrupted write)"
    if digest() != sidecar.read_text().strip():
        return "content does not match its sha256 (truncated or damaged)"
    return None


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
        return read_record(self.metrics_path, "metrics")

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
    if has_metrics and state in ("done", "absent"):
        return "results-only"
    return "interrupted" if state == "done" else state  # its metrics were set aside: it runs again


def _recorded_state(run_path: Path) -> str:
    p = run_path / "status.json"
    if not p.is_file():
        return "absent"
    try:
        s = read_record(p, "status")
    except (OSError, ValueError):
        return "damaged"
    here = s.get("host") == socket.gethostname()
    if s["state"] != "running" or (here and s.get("pid") == os.getpid()):
        return s["state"]  # (this process runs it and holds its lock: never probe our own lock)
    if not _lock_held(run_path / ".lock"):
        return "interrupted"  # killed (SIGKILL, power loss): the lock died with its process
    if here:
        try:
            os.kill(int(s.get("pid", -1)), 0)
        except (ProcessLookupError, ValueError):
            return "interrupted"
        except PermissionError:
            pass
    return s["state"]


def _lock_held(lock_path: Path) -> bool:
    """Whether a process holds a run's lock (True when that cannot be told: a read-only store)."""
    return _lock_probe(lock_path) != "free"


def _lock_probe(lock_path: Path) -> str:
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
        """The cached result, or None when it is not there (or is damaged: then it is recomputed)."""
        path = self._eval_path(run, key)
        try:
            return read_record(path, "evaluation")["result"] if path.is_file() else None
        except DamagedFile:
            return None

    def cached_eval(self, run: RunDir | None, key: dict, compute: Callable[[], dict]) -> dict:
        """Cached evaluation result of `run` for `key` (attack, budget, test subset, ...); with
        run=None the result belongs to several runs (an R2S set) and lives in `_evals/`. Reading a
        cached result needs no write access; a damaged cache file is set aside (`.corrupt`) and
        the evaluation computed again."""
        path = self._eval_path(run, key)
        cached = self.lookup_eval(run, key)
        if cached is not None:
            return cached
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):
            if path.is_file():
                try:
                    return read_record(path, "evaluation")["result"]
                except DamagedFile as e:
                    log.warning("%s; computing it again", e.args[0].split(";")[0])
                    path.rename(path.with_name(path.name + ".corrupt"))
            started = time.time()
            result = compute()
            atomic_write_json(path, {"key": key, "result": result, "seconds": time.time() - started})
        return result

    def eval_seconds(self, run: RunDir | None, key: dict) -> float | None:
        """Wall time the cached evaluation took when it was computed (None: not cached, or cached
        before evaluations recorded their time)."""
        path = self._eval_path(run, key)
        try:
            seconds = read_record(path, "evaluation").get("seconds") if path.is_file() else None
        except DamagedFile:
            return None
        return float(seconds) if isinstance(seconds, (int, float)) else None

    def all_runs(self) -> list[tuple[Path, dict, str]]:
        """(directory, config dict, status) of every run in the store. A run with a damaged file
        (see `problems`) is listed as `damaged`, with an empty config when its config.json is the
        damaged one, instead of hiding the others."""
        out = []
        for d in sorted(self.root.glob("*/config.json")):
            run_path = d.parent
            try:
                config = read_record(d, "config")
            except (OSError, ValueError):
                out.append((run_path, {}, "damaged"))
                continue
            out.append((run_path, config, "damaged" if self.problems(run_path) else run_state(run_path)))
        return out

    def problems(self, run_path: Path, verify_weights: bool = False) -> list[tuple[Path, str]]:
        """Every damaged file of a run folder with the reason (empty: nothing is damaged): a JSON
        file that does not parse or lacks its fields, a config.json that is not this folder's
        (its hash differs from the folder's name: a foreign entry), and with `verify_weights`
        a model or checkpoint whose bytes do not match its sha256 (reads every weight file)."""
        found: list[tuple[Path, str]] = []

        def note(path: Path, why: str | None):
            if why:
                found.append((path, why))
        config = run_path / "config.json"
        note(config, record_problem(config, "config"))
        if not found:
            written = config_hash(read_json(config))
            note(config, None if run_path.name.endswith(written) else f"describes run {written}, not this folder")
        records = [(run_path / "status.json", "status"), (run_path / "metrics.json", "metrics")]
        records += [(path, "evaluation") for path in sorted((run_path / "evals").glob("*.json"))]
        for path, kind in records:
            if path.is_file():
                note(path, record_problem(path, kind))
        if verify_weights:
            for path in sorted([*run_path.glob("ckpt-*.pt"), *run_path.glob("model.pt")]):
                note(path, _checksum_problem(path, lambda: _file_sha256(path)))
        return found

    def repair(self, verify_weights: bool = True) -> list[str]:
        """Set damaged entries aside and clean up after killed processes; returns what was done,
        one line each. Nothing is deleted except temporary files of writers that are gone:
        - a run folder whose config.json is damaged or foreign moves to `_quarantine/<time>/`;
        - a damaged file of a run (status, metrics, an evaluation, a model or checkpoint that
          fails its sha256) moves there alone, so the run resumes or recomputes just that part;
        - `.corrupt` files (checkpoints and evaluations set aside earlier) move there too;
        - a temporary file `.<name>.tmp<pid>` is removed when its process no longer runs on this
          host and no process holds the run's lock (in `_evals/`: when older than STALE_SECONDS);
        - a run whose lock is held (running, perhaps on another host) and a run folder that is a
          link out of the store are skipped, untouched (said in a `skipped` line)."""
        done: list[str] = []
        quarantine = self.root / QUARANTINE / time.strftime("%Y%m%d-%H%M%S")

        def set_aside(path: Path, reason: str):
            target = quarantine / path.relative_to(self.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            done.append(f"moved {path.relative_to(self.root)} to {target.relative_to(self.root)} ({reason})")

        for d in sorted(p.parent for p in self.root.glob("*/config.json")):
            if d.is_symlink() and self.root.resolve() not in d.resolve().parents:
                done.append(f"skipped {d.name}: a link to {d.resolve()}, outside the store (never followed)")
                continue
            lock = _lock_probe(d / ".lock")
            if lock != "free":
                done.append(f"skipped {d.name}: " + ("a process holds its lock (running here or on another host); "
                                                     "repair it once it has stopped" if lock == "held" else
                                                     "its lock cannot be taken (a read-only store?)"))
                continue
            problems = self.problems(d, verify_weights)
            if any(p.name == "config.json" for p, _ in problems):
                set_aside(d, next(r for p, r in problems if p.name == "config.json"))
                continue
            for path, reason in problems:
                set_aside(path, reason)
                sidecar = path.with_name(path.name + ".sha256")
                if path.suffix == ".pt" and sidecar.is_file():
                    set_aside(sidecar, "the sidecar of a damaged file")
            for path in sorted(d.rglob("*.corrupt")):
                set_aside(path, "set aside earlier")
            done += self._remove_stale_temporaries(d)
        evals = self.root / "_evals"
        for path in sorted(evals.glob("*.json")):
            why = record_problem(path, "evaluation")
            if why:
                set_aside(path, why)
        for path in sorted(evals.glob("*.corrupt")):
            set_aside(path, "set aside earlier")
        if evals.is_dir():
            done += self._remove_stale_temporaries(evals, lock=None)
        return done

    def _remove_stale_temporaries(self, folder: Path, lock: str | None = ".lock") -> list[str]:
        """Temporaries of writers that are gone: under a run's lock (free), or, in a folder without
        one (`_evals/`, written by processes on any host), only once older than STALE_SECONDS."""
        now = time.time()
        stale = [p for p in folder.rglob(".*.tmp*") if p.is_file() and not _writer_alive(p)
                 and (lock is not None or now - p.stat().st_mtime > STALE_SECONDS)]
        if not stale:
            return []
        if lock is not None and _lock_held(folder / lock):
            return []  # a process works on this run (perhaps on another host): leave it
        for p in stale:
            p.unlink(missing_ok=True)
        return [f"removed {p.relative_to(self.root)} (temporary file of a process that is gone)" for p in stale]


def _writer_alive(tmp: Path) -> bool:
    """Whether the process that writes temporary file `.<name>.tmp<pid>` still runs here."""
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
