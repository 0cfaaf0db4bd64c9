"""The store's records as the results table reads them: a damaged or missing record is skipped
(`rst runs` names it), never an error of the table."""

from __future__ import annotations

from pathlib import Path

from rstlib.store.files import EVALS
from rstlib.store.records import read_record


def read_or_none(path: Path, kind: str = "metrics") -> dict | None:
    """A record of the store, or None when it is absent or damaged (`rst runs` names it)."""
    try:
        return read_record(path, kind) if path.is_file() else None
    except (OSError, ValueError):
        return None


def evaluations(path: Path, folder: bool = False) -> list[dict]:
    found = (read_or_none(p, "evaluation") for p in sorted((path if folder else path / EVALS).glob("*.json")))
    return [r for r in found if r is not None]
