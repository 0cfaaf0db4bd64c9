"""Every claim's threshold is the book's reading of a word of the supplement, not a number the paper
gives: this module says, for each claim, which word it reads and why the number (the intro shows the
table; every claims table links to it)."""

from __future__ import annotations

import pandas as pd

from rstlib.paper.claims.registry import REGISTRY
from rstlib.paper.claims.spec import ClaimSpec, threshold_text
from rstlib.paper.claims.verdicts import COMPARABLE, COMPARABLE_WHY

POOR_TRANSFER = (
    '"poor" transfer means that an attack crafted on another model leaves at least 10 points more accuracy '
    "than a white-box one; the supplement prints no white-box figure beside its transfer numbers, so the "
    "size is the book's choice (the gaps of Figs. 4-5's diagonals against their off-diagonals)"
)
READINGS = {
    5.0: '"aggressively improves" read as a gain of at least 5 points (the supplement\'s own gains are 11 to 16 points)',
    0.0: '"best", "better", "outperform", "higher": a positive gap, the ordering itself',
    1 / 3: (
        '"generally consistent" ranking read as Kendall tau of at least 1/3 between the four initialisations\' '
        "natural and robust orders (at most two of the six pairs discordant)"
    ),
}
SIMILAR = '"similar" read as: no attack source more than 3 points stronger than the average source'

NOTE = (
    "Every threshold is the book's reading of a word of the supplement, not a number the paper gives; "
    "the table *The book's thresholds* in the [introduction](intro.ipynb) says which word each reads and why."
)


def reason(spec: ClaimSpec) -> str:
    """Which word of the claim the threshold reads, and why this number."""
    if spec.threshold == COMPARABLE:
        return COMPARABLE_WHY
    if spec.id == "S2.1":
        return SIMILAR
    if spec.threshold == 10.0:
        return POOR_TRANSFER
    for value, why in READINGS.items():
        if abs(spec.threshold - value) < 1e-12:
            return why
    raise ValueError(f"claim {spec.id}: no stated reading for its threshold {spec.threshold}")


def table() -> pd.DataFrame:
    """One row per registered claim: its threshold and the reading behind it."""
    return pd.DataFrame(
        [{"id": s.id, "threshold": threshold_text(s.threshold), "the book's reading": reason(s)} for s in REGISTRY]
    ).set_index("id")
