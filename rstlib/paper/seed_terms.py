"""The seed-to-seed spread a one-seed section borrows. The sections train one seed per model (the
laptop budget); the intro measures its headline comparisons over `HEADLINE_SEEDS` on the first
network and dataset. Each section's one-seed gaps carry the seed-to-seed variance of the nearest of
those comparisons of the same kinds (`noise.borrowed_seed_term`), so that no band of the book rests
on image noise alone where the models depend on a seed:

- RST minus dense (PGD-20, the RSTs at 5-30%): Secs. 3, 4 and 9 (models against models);
- off-diagonal minus diagonal of the RST transfer matrix: Secs. 5 and 7 (transfer);
- R2S (paper protocol) minus dense: Secs. 6 and 8 (R2S sets).
"""

from __future__ import annotations

import numpy as np

from rstlib.paper.claims.noise import SeedTerm, seed_variance
from rstlib.paper.context import Context
from rstlib.paper.headline import HEADLINE_SEEDS, headline_per_image

NEAREST = {
    "sec3": "rst_minus_dense",
    "sec4": "rst_minus_dense",
    "sec9": "rst_minus_dense",
    "sec5": "transfer",
    "sec7": "transfer",
    "sec6": "r2s_minus_dense",
    "sec8": "r2s_minus_dense",
}


def seed_terms(ctx: Context) -> dict[str, SeedTerm]:
    """The three seed terms from the intro's per-image records at `HEADLINE_SEEDS` (loaded from the
    run store like the intro's; a dry run records them in `ctx`'s plan and returns none)."""
    records = [headline_per_image(ctx.at_seed(s)) for s in HEADLINE_SEEDS]
    if ctx.dry_run or len(records) < 2:
        return {}
    seeds = len(records)
    where = f"the intro's {seeds} seeds ({', '.join(map(str, HEADLINE_SEEDS))})"

    def stack(get):
        rows = [get(r) for r in records]
        return None if any(x is None for x in rows) else np.stack(rows).astype(float)

    out = {}
    dense = stack(lambda r: r["dense"])
    ratios = list(records[0]["rst"])
    rsts = [stack(lambda r, k=k: r["rst"][k]) for k in ratios]
    if dense is not None and rsts and all(x is not None for x in rsts):
        variance = float(np.mean([seed_variance(x - dense) for x in rsts]))
        out["rst_minus_dense"] = SeedTerm(variance, seeds, f"RST minus dense (PGD-20, RSTs at {', '.join(ratios)}) over {where}")
    c2 = stack(lambda r: r["c2"])
    if c2 is not None:
        out["transfer"] = SeedTerm(
            seed_variance(c2), seeds, f"off-diagonal minus diagonal of the RST transfer matrix over {where}"
        )
    r2s = stack(lambda r: r["r2s"])
    if r2s is not None and dense is not None:
        out["r2s_minus_dense"] = SeedTerm(seed_variance(r2s - dense), seeds, f"R2S (paper protocol) minus dense over {where}")
    return out
