"""A section's result: its tables and figures, its claims judged by the registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd

from rstlib.attacks.registry import AttackSpec
from rstlib.data.specs import dataset_spec
from rstlib.paper.claims import noise
from rstlib.paper.claims.registry import Claim, Facts, claims_table
from rstlib.paper.claims.registry import judge as judge_claims
from rstlib.paper.context import Context

CLEAN = AttackSpec("clean")


@dataclass
class SectionResult:
    """A section's tables and figures, and its claims judged by the registry (`rstlib.paper.claims.registry`)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # per test image, which images each model got right (for the paired noise model of the claims)
    per_image: dict[str, Any] = field(default_factory=dict)

    def claims_table(self) -> pd.DataFrame:
        from rstlib.paper.claims.calibration import calibrate

        return claims_table(self.claims, calibrate())


def judged(
    ctx: Context, section: str, result: SectionResult, datasets: Sequence[str], networks: int, n_robust: int | None = None
) -> SectionResult:
    """`result` with the registry's claims of `section` judged on it (a dry run measures nothing,
    so it judges nothing: its claims list stays empty)."""
    from rstlib.paper.seed_terms import NEAREST, seed_terms

    terms = seed_terms(ctx)  # a dry run records the evaluations it rests on
    if ctx.dry_run:
        return result
    p = ctx.profile
    n_nat = min(p.n_test or 10**9, *(dataset_spec(d).test_size for d in datasets))
    n_rob = n_robust or min(p.eval_n_test or 10**9, *(dataset_spec(d).test_size for d in datasets))
    facts = Facts(
        result.tables,
        result.figures,
        n_natural=n_nat,
        n_robust=n_rob,
        networks=networks,
        datasets=len(datasets),
        per_image=result.per_image,
        test_images=min(dataset_spec(d).test_size for d in datasets),
    )
    with noise.borrowed_seed_term(terms.get(NEAREST[section])):
        result.claims = judge_claims(section, facts)
    return result
