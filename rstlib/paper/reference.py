"""The supplement's numbers (Tables 1-4), from the package's own copy of the reference CSVs."""

from __future__ import annotations

import io
from importlib import resources

import pandas as pd

TABLES = {
    "table1": "table1_more_attacks.csv",
    "table2": "table2_transfer_sources.csv",
    "table3": "table3_r2s_rst.csv",
    "table4": "table4_r2s_adv_rtt.csv",
}


def table(name: str) -> pd.DataFrame:
    """One of the supplement's tables, as transcribed (accuracies in %)."""
    if name not in TABLES:
        raise KeyError(f"unknown reference table {name!r}; choose one of {sorted(TABLES)}")
    text = resources.files("rstlib").joinpath("paper", "reference_tables", TABLES[name]).read_text()
    return pd.read_csv(io.StringIO(text), dtype={"candidate_set_pct": str})


def candidate_set_key(ratios) -> str:
    """'3;5;7;10' for a candidate set, as the reference tables spell it."""
    return ";".join(f"{float(r):g}" for r in ratios)
