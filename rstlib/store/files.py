"""Every file name of the run store, in one place.

A run directory `<readable>-<hash12>/` holds CONFIG, LOG, STATUS, rolling checkpoints
(`ckpt-EEEE.pt`, each with a sha256 SIDECAR), once finished MODEL and METRICS (written last: its presence means done),
SPARSITY, and its cached evaluations under EVALS; evaluations of several runs (an R2S set) live in
SHARED_EVALS at the store's root. Damaged entries are moved to QUARANTINE by `rst runs --repair`.
"""

from __future__ import annotations

from pathlib import Path

CONFIG = "config.json"
METRICS = "metrics.json"
MODEL = "model.safetensors"  # the finished weights (rstlib.store.model_file), verified against METRICS
RETRAINED = "model.retrained-{sha12}.safetensors"  # a retrain that missed the recorded sha256, kept apart
LOG = "log.txt"
STATUS = "status.json"
SPARSITY = "sparsity.json"
TIMING = ".timing.json"  # a page's wall time (book builds), never a result
EVALS = "evals"  # a run's cached evaluations
SHARED_EVALS = "_evals"  # evaluations of several runs (R2S sets), at the store's root
QUARANTINE = "_quarantine"  # where `rst runs --repair` moves damaged entries (nothing is deleted)
LOCK = ".lock"  # a run's lock; an evaluation's is its file name + EVAL_LOCK
EVAL_LOCK = ".lock"
SIDECAR = ".sha256"
CORRUPT = ".corrupt"  # a file set aside because it failed its check
CHECKPOINTS = "ckpt-*.pt"
TEMPORARY = ".{name}.tmp{pid}"  # a file being written; renamed into place when complete
TEMPORARIES = ".*.tmp*"


def checkpoint_name(epoch: int) -> str:
    return f"ckpt-{epoch:04d}.pt"


def sidecar(path: Path) -> Path:
    """The sha256 file beside a checkpoint."""
    return path.with_name(path.name + SIDECAR)


def set_aside_name(path: Path) -> Path:
    return path.with_name(path.name + CORRUPT)


def eval_lock(path: Path) -> Path:
    """The lock an evaluation's writer holds while it computes and writes `path`."""
    return path.with_name(path.name + EVAL_LOCK)
