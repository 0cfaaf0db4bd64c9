"""Compare two run stores: does a re-run reproduce the committed results?

Every JSON file of the reference store (metrics, evaluations, sparsity, book records) is matched by
its path in the candidate store and compared field by field. Fields that record when, where or how
fast something ran (wall times, host, pid, git commit) are ignored; numbers may differ by `tolerance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rstlib.config.params import check_number
from rstlib.store.files import QUARANTINE, STATUS, TIMING
from rstlib.store.records import read_json

VOLATILE_KEYS = frozenset(
    {"epoch_seconds", "seconds", "seconds_crafting", "seconds_per_epoch", "time", "host", "pid", "git_commit"}
)


@dataclass(frozen=True)
class FieldDifference:
    file: str
    field: str
    reference: Any
    candidate: Any

    def __str__(self) -> str:
        return f"{self.file} :: {self.field}: {self.reference!r} -> {self.candidate!r}"


@dataclass
class StoreComparison:
    reference: Path
    candidate: Path
    tolerance: float
    matched: int = 0
    identical: int = 0
    differences: list[FieldDifference] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return not self.differences and not self.missing

    def max_abs_difference(self) -> float:
        """Largest numeric difference among the differing fields (0 when none is numeric)."""
        gaps = [abs(d.candidate - d.reference) for d in self.differences if _is_number(d.reference) and _is_number(d.candidate)]
        return max(gaps, default=0.0)

    def summary(self) -> str:
        lines = [
            f"reference {self.reference}: {self.matched + len(self.missing)} result files; "
            f"candidate {self.candidate}: {self.matched} of them present, {len(self.extra)} others",
            f"{self.identical} of {self.matched} identical (timings, hosts and commits ignored"
            + (f", numbers within {self.tolerance:g})" if self.tolerance else ")"),
            f"{len(self.differences)} differing fields in {len({d.file for d in self.differences})} files"
            f" (largest numeric difference {self.max_abs_difference():.4g})",
            f"{len(self.missing)} reference files missing from the candidate",
        ]
        lines.append("reproduced" if self.reproduced else "NOT reproduced")
        return "\n".join(lines)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _compare(ref: Any, cand: Any, where: str, tolerance: float, out: list[tuple[str, Any, Any]]):
    if isinstance(ref, dict) and isinstance(cand, dict):
        for key in sorted(set(ref) | set(cand)):
            if key in VOLATILE_KEYS:
                continue
            _compare(ref.get(key), cand.get(key), f"{where}.{key}" if where else key, tolerance, out)
    elif isinstance(ref, list) and isinstance(cand, list) and len(ref) == len(cand):
        for i, (r, c) in enumerate(zip(ref, cand)):
            _compare(r, c, f"{where}[{i}]", tolerance, out)
    elif _is_number(ref) and _is_number(cand):
        if not math.isclose(ref, cand, rel_tol=0.0, abs_tol=tolerance) and not (ref != ref and cand != cand):
            out.append((where, ref, cand))
    elif ref != cand:
        out.append((where, ref, cand))


VOLATILE_FILES = (STATUS, TIMING)  # run state and page wall times, never results


def _result_files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*.json")
        if p.is_file() and not p.name.endswith(VOLATILE_FILES) and "_sweep_logs" not in p.parts and QUARANTINE not in p.parts
    }


def compare_stores(reference: Path | str, candidate: Path | str, tolerance: float = 0.0) -> StoreComparison:
    """Field-by-field comparison of every JSON result of `reference` with the same file in `candidate`."""
    reference, candidate = Path(reference), Path(candidate)
    for root in (reference, candidate):
        if not root.is_dir():
            raise FileNotFoundError(f"run store {root} does not exist")
    check_number(tolerance, "tolerance", minimum=0)
    ref_files, cand_files = _result_files(reference), _result_files(candidate)
    report = StoreComparison(
        reference, candidate, tolerance, missing=sorted(ref_files - cand_files), extra=sorted(cand_files - ref_files)
    )
    for name in sorted(ref_files & cand_files):
        found: list[tuple[str, Any, Any]] = []
        ref_obj, cand_obj = (read_json(root / name) for root in (reference, candidate))  # DamagedFile names it
        _compare(ref_obj, cand_obj, "", tolerance, found)
        report.matched += 1
        report.identical += not found
        report.differences += [FieldDifference(name, *f) for f in found]
    return report
