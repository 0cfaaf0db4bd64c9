"""The run store: one directory per run config, named `<readable>-<hash12>` (`rstlib.store.rundir`),
and the evaluation cache: a run's evaluations in its `evals/` folder, those of several runs (an R2S
set) in `_evals/`, each a JSON file named by its key's hash and written under its own lock, so that
two processes asking for one evaluation compute it once. Every write is atomic (temporary file +
rename); file names are `rstlib.store.files`'s, checks and repair `rstlib.store.repair`'s.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Callable

from filelock import FileLock

from rstlib.config.profile import RunConfig, config_hash
from rstlib.store.files import CONFIG, EVALS, SHARED_EVALS, eval_lock, set_aside_name
from rstlib.store.records import DamagedFile, atomic_write_json, read_record
from rstlib.store.repair import problems, repair
from rstlib.store.rundir import RunDir, run_state

log = logging.getLogger(__name__)


def default_root() -> Path:
    return Path(os.environ.get("RST_RUNS", Path.cwd() / "runs")).expanduser()


class RunStore:
    """Maps run configs to directories and caches evaluations; persists only (training is
    `rstlib.train.runner`'s job)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_root()

    def dir(self, config: RunConfig) -> RunDir:
        return RunDir(self.root, config)

    def _eval_path(self, run: RunDir | None, key: dict) -> Path:
        folder = run.path / EVALS if run is not None else self.root / SHARED_EVALS
        return folder / f"{key.get('name', 'eval')}-{config_hash(key)}.json"

    def lookup_eval(self, run: RunDir | None, key: dict) -> dict | None:
        """The cached result, or None when it is not there (or is damaged: then it is recomputed)."""
        path = self._eval_path(run, key)
        try:
            return _read_eval(path, key) if path.is_file() else None
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
        with FileLock(str(eval_lock(path))):
            if path.is_file():
                try:
                    return _read_eval(path, key)
                except DamagedFile as e:
                    log.warning("%s; computing it again", e.args[0].split(";")[0])
                    path.rename(set_aside_name(path))
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
        out: list[tuple[Path, dict, str]] = []
        for d in sorted(self.root.glob(f"*/{CONFIG}")):
            run_path = d.parent
            try:
                config = read_record(d, "config")
            except (OSError, ValueError):
                out.append((run_path, {}, "damaged"))
                continue
            out.append((run_path, config, "damaged" if problems(run_path) else run_state(run_path)))
        return out

    def problems(self, run_path: Path, verify_weights: bool = False) -> list[tuple[Path, str]]:
        """Every damaged file of a run folder with the reason (`rstlib.store.repair.problems`)."""
        return problems(run_path, verify_weights)

    def repair(self, verify_weights: bool = True) -> list[str]:
        """`rst runs --repair` (`rstlib.store.repair.repair`): damaged entries set aside, temporaries
        of writers that are gone removed; one line per action."""
        return repair(self.root, verify_weights)


def _read_eval(path: Path, key: dict) -> dict:
    """A cached evaluation's result, once its record is whole (`read_record`) and the key it stores
    is the one asked for (a record copied under another evaluation's name is damaged, not served)."""
    record = read_record(path, "evaluation")
    if record["key"] != json.loads(json.dumps(key, sort_keys=True, default=str)):
        raise DamagedFile(path, "it records another evaluation than the one its name stands for")
    return record["result"]
