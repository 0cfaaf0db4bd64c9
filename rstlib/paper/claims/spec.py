"""What a claim is: its spec (the supplement's words, the rule and its one threshold), a judged
claim, the four verdicts and their marks, and the table of judged claims that the pages show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from rstlib.paper.claims.facts import Facts, Judged
from rstlib.paper.claims.verdicts import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE

VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE)
MARK = {HOLDS: "✓ holds", FAILS: "✗ does not hold", INCONCLUSIVE: "? inconclusive", NOT_TESTABLE: "– not testable"}


@dataclass(frozen=True)
class Claim:
    """One judged claim: the supplement's words, our rule, what we measured, the verdict."""

    id: str
    section: str
    quote: str
    rule: str
    measured: str
    verdict: str
    decide: str = ""  # an inconclusive claim: what would decide it, at the observed gap and variance
    basis: str = ""  # the seeds and images behind the verdict (`basis`)

    def record(self) -> dict:
        return {
            "id": self.id,
            "section": self.section,
            "quote": self.quote,
            "rule": self.rule,
            "measured": self.measured,
            "verdict": self.verdict,
            "decide": self.decide,
            "basis": self.basis,
        }


def basis(tested) -> str:
    """The seeds and images a verdict rests on, from its comparisons [(Gap, threshold), ...]: the
    fewest of each, and where a one-seed comparison's seed spread was borrowed from."""
    gaps = [c for g, _ in tested for c in (g.candidates or (g,))]
    if not gaps:
        return ""
    seeds, images = min(g.seeds for g in gaps), min(g.images for g in gaps)
    text = f"{seeds} seed{'s' if seeds != 1 else ''} x {images:,} images"
    borrowed = sorted({g.parts.seed_from for g in gaps if g.parts is not None and g.parts.seed_from})
    if borrowed:
        text += "; seed spread borrowed from " + "; ".join(borrowed)
    elif seeds == 1:
        text += "; no seed-to-seed spread in the band"
    return text


def threshold_text(t: float) -> str:
    """A threshold as a rule's sentence writes it: 1/3 as a fraction, else the number."""
    thirds = t * 3
    if abs(thirds - round(thirds)) < 1e-9 and round(thirds) % 3:
        return f"{round(thirds)}/3"
    return f"{t:g}"


@dataclass(frozen=True)
class ClaimSpec:
    """A claim of the supplement (its words), the rule that judges it and the rule's one threshold:
    `rule` is written with `{t}` where the threshold goes, and `judge(facts, threshold)` compares
    against the same number (no rule holds a threshold of its own)."""

    id: str
    section: str
    quote: str
    rule: str
    judge: Callable[[Facts, float], Judged]
    threshold: float

    @property
    def rule_text(self) -> str:
        return self.rule.replace("{t}", threshold_text(self.threshold))


def claims_table(claims: list[Claim], paper: dict | None = None) -> pd.DataFrame:
    """The verdict comes first after the id, so that it stays on screen on a phone; beside it, where
    `paper` is given (`rstlib.paper.claims.calibration.calibrate()`), the same rule's verdict on the paper's own
    numbers."""

    def on_paper(c: Claim) -> str:
        v = paper[c.id].verdict if c.id in paper else None
        return MARK[v] if v else "– no numbers"

    return pd.DataFrame(
        [
            {
                "id": c.id,
                "verdict": MARK[c.verdict],
                **({"on the paper's numbers": on_paper(c)} if paper is not None else {}),
                "claim (the supplement's words)": c.quote,
                "rule": c.rule,
                "measured": c.measured,
                "seeds x images": c.basis or None,
                "what would decide it": c.decide or None,
            }
            for c in claims
        ]
    ).set_index("id")
