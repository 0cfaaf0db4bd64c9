"""Checks and repair of a run store: every damaged file of a run folder with its reason, and
`rst runs --repair`, which sets damaged entries aside (nothing is deleted but temporaries of
writers that are gone)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rstlib.config.profile import config_hash
from rstlib.store.files import (
    CHECKPOINTS,
    CONFIG,
    CORRUPT,
    EVALS,
    LOCK,
    METRICS,
    MODEL,
    QUARANTINE,
    SHARED_EVALS,
    STATUS,
    sidecar,
)
from rstlib.store.locks import lock_probe, remove_stale_temporaries
from rstlib.store.reading import entry_problem
from rstlib.store.records import read_json, record_problem
from rstlib.store.weights import checksum_problem, file_sha256


def problems(run_path: Path, verify_weights: bool = False) -> list[tuple[Path, str]]:
    """Every damaged file of a run folder with the reason (empty: nothing is damaged): a JSON
    file that does not parse or lacks its fields, a config.json that is not this folder's
    (its hash differs from the folder's name: a foreign entry), and with `verify_weights`
    a model or checkpoint whose bytes do not match its sha256 (reads every weight file)."""
    found: list[tuple[Path, str]] = []

    def note(path: Path, why: str | None):
        if why:
            found.append((path, why))

    config = run_path / CONFIG
    note(config, record_problem(config, "config"))
    if not found:
        written = config_hash(read_json(config))
        note(config, None if run_path.name.endswith(written) else f"describes run {written}, not this folder")
    records = [(run_path / STATUS, "status"), (run_path / METRICS, "metrics")]
    evals = run_path / EVALS
    if evals.is_symlink():  # the link itself is set aside; nothing it leads to is read or moved
        note(evals, "a link, not the store's own evaluations folder (links are never followed)")
    else:
        records += [(path, "evaluation") for path in sorted(evals.glob("*.json"))]
    for path, kind in records:
        if os.path.lexists(path):  # each check only once the one before it passed
            why = entry_problem(path) or record_problem(path, kind)
            note(path, why or (eval_name_problem(path) if kind == "evaluation" else None))
    model, checkpoints = run_path / MODEL, sorted(run_path.glob(CHECKPOINTS))
    for path in (model, *checkpoints):
        why = entry_problem(path)
        note(path, why)
        if verify_weights and not why:  # a link or device is named, never read
            note(path, model_problem(run_path) if path == model else checksum_problem(path))
    return found


def eval_name_problem(path: Path) -> str | None:
    """An evaluation's file is named by its key's hash (`RunStore`): one whose stored key hashes to
    another name was copied or renamed from another evaluation."""
    key = read_json(path)["key"]
    if path.name != f"{key.get('name', 'eval')}-{config_hash(key)}.json":
        return "it records another evaluation than the one its name stands for"
    return None


def model_problem(run_path: Path) -> str | None:
    """Why a run's finished weights fail the sha256 its metrics.json records (None: they verify, or
    there are no finished weights with readable metrics to check)."""
    model, metrics = run_path / MODEL, run_path / METRICS
    if not model.is_file() or record_problem(metrics, "metrics"):
        return None
    recorded = read_json(metrics).get("model_sha256")
    if recorded and file_sha256(model) != recorded:
        return "content does not match the sha256 its metrics.json records (truncated, damaged or altered)"
    return None


def repair(root: Path, verify_weights: bool = True) -> list[str]:
    """Set damaged entries aside and clean up after killed processes; returns what was done,
    one line each. Nothing is deleted except temporary files of writers that are gone:
    - a run folder whose config.json is damaged or foreign moves to `_quarantine/<time>/`;
    - a damaged file of a run (status, metrics, an evaluation, a model or checkpoint that
      fails its sha256) moves there alone, so the run resumes or recomputes just that part;
    - `.corrupt` files (checkpoints and evaluations set aside earlier) move there too;
    - a temporary file `.<name>.tmp<pid>` is removed by the store's one rule
      (`rstlib.store.locks`): never while its pid runs on this host, else once the lock that
      guards it (the run's, or the evaluation's own) can be taken, or once it is older than
      STALE_SECONDS;
    - a run whose lock is held (running, perhaps on another host) and a run folder that is a
      link out of the store are skipped, untouched (said in a `skipped` line)."""
    done: list[str] = []
    quarantine = root / QUARANTINE / time.strftime("%Y%m%d-%H%M%S")

    def set_aside(path: Path, reason: str):
        target = quarantine / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        done.append(f"moved {path.relative_to(root)} to {target.relative_to(root)} ({reason})")

    for d in sorted(p.parent for p in root.glob(f"*/{CONFIG}")):
        if d.is_symlink() and root.resolve() not in d.resolve().parents:
            done.append(f"skipped {d.name}: a link to {d.resolve()}, outside the store (never followed)")
            continue
        lock = lock_probe(d / LOCK)
        if lock != "free":
            done.append(
                f"skipped {d.name}: "
                + (
                    "a process holds its lock (running here or on another host); repair it once it has stopped"
                    if lock == "held"
                    else "its lock cannot be taken (a read-only store?)"
                )
            )
            continue
        damaged = problems(d, verify_weights)
        if any(p.name == CONFIG for p, _ in damaged):
            set_aside(d, next(r for p, r in damaged if p.name == CONFIG))
            continue
        for path, reason in damaged:
            set_aside(path, reason)
            if sidecar(path).is_file():
                set_aside(sidecar(path), "the sidecar of a damaged file")
        for path in sorted(d.rglob(f"*{CORRUPT}")):
            set_aside(path, "set aside earlier")
        done += _removed(root, remove_stale_temporaries(d))
    evals = root / SHARED_EVALS
    for path in sorted(evals.glob("*.json")):
        why = record_problem(path, "evaluation") or eval_name_problem(path)
        if why:
            set_aside(path, why)
    for path in sorted(evals.glob(f"*{CORRUPT}")):
        set_aside(path, "set aside earlier")
    if evals.is_dir():
        done += _removed(root, remove_stale_temporaries(evals))
    return done


def _removed(root: Path, paths: list[Path]) -> list[str]:
    return [f"removed {p.relative_to(root)} (temporary file of a process that is gone)" for p in paths]
