"""Checkpoints of a run in progress: `torch.save` written atomically with a sha256 sidecar, loaded
weights-only (no pickled code runs) and verified against the sidecar. A finished run's weights are
`rstlib.store.model_file`'s (safetensors, verified against its metrics.json)."""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import Callable

import torch

from rstlib.store.files import sidecar
from rstlib.store.reading import WEIGHTS_BYTES, UnreadableEntry, read_store_file
from rstlib.store.records import atomic_write_bytes


class CorruptCheckpoint(RuntimeError):
    """A weights file (checkpoint or finished model) whose bytes do not match its recorded sha256,
    or that does not load."""


def save_tensor_file(path: Path, obj: dict) -> str:
    """torch.save atomically, with a sha256 sidecar written after the file is in place; returns
    the sha256."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    atomic_write_bytes(path, data)
    atomic_write_bytes(sidecar(path), digest.encode())
    return digest


def remove_with_sidecar(path: Path):
    path.unlink(missing_ok=True)
    sidecar(path).unlink(missing_ok=True)


def load_tensor_file(path: Path, map_location="cpu") -> dict:
    """Load a file written by `save_tensor_file`, verifying its hash; weights_only (no pickled
    code runs). Raises CorruptCheckpoint when the bytes are damaged or truncated."""
    try:
        data = read_store_file(path, WEIGHTS_BYTES)
    except UnreadableEntry as e:
        raise CorruptCheckpoint(f"{path.name}: refused: {e}") from None
    problem = checksum_problem(path, lambda: hashlib.sha256(data).hexdigest())
    if problem:
        raise CorruptCheckpoint(f"{path.name}: {problem}")
    try:
        return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:  # PyTorch's advice (load it with weights_only=False) is wrong for such a file
        raise CorruptCheckpoint(
            f"{path.name}: refused: it holds Python objects besides tensors, which are never "
            "loaded (none of its code ran); `rst runs --repair` sets it aside"
        ) from None
    except Exception as e:  # PyTorch's message runs to many lines: keep its first
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CorruptCheckpoint(f"{path.name}: does not load ({first[:200]})") from None


def checksum_problem(path: Path, digest: Callable[[], str] | None = None) -> str | None:
    """Why a file written by `save_tensor_file` fails its sha256 sidecar (None: it verifies);
    `digest` computes the file's sha256 (called only when the sidecar is there; default: read the
    file in blocks)."""
    if not sidecar(path).is_file():
        return "no hash file beside it (interrupted write)"
    if (digest or (lambda: file_sha256(path)))() != sidecar(path).read_text().strip():
        return "content does not match its sha256 (truncated or damaged)"
    return None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
