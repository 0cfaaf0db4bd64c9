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
from rstlib.paper.context import Context, datasets_of, networks_of, pct
from rstlib.paper.headline import HEADLINE_SEEDS
from rstlib.train import variants as ex

NEAREST = {
    "sec3": "rst_minus_dense",
    "sec4": "rst_minus_dense",
    "sec9": "rst_minus_dense",
    "sec5": "transfer",
    "sec7": "transfer",
    "sec6": "r2s_minus_dense",
    "sec8": "r2s_minus_dense",
}


def _pgd20_record(ctx: Context) -> dict | None:
    """One seed's PGD-20 per-image results behind the headline's comparisons (the intro's dense network
    and RSTs, the RST transfer matrix): what the seed terms need, without the strong figure's attacks."""
    p = ctx.profile
    arch, d = networks_of(p, None)[0], datasets_of(p, None)[0]
    ratios = list(p.sections.sec5.ratios)
    members = {pct(r): ex.search_config(p, d, arch, r, ctx.seed) for r in ratios}
    dense = ctx.correct(ex.dense_config(p, d, arch, True, ctx.seed))
    cells = ctx.matrix_correct(members)
    if dense is None or cells is None or len(members) < 2:
        return None
    labels = list(members)
    low = [k for k, r in zip(labels, ratios) if 5 <= r <= 30]
    diag = np.mean([cells[(k, k)] for k in labels], axis=0)
    off = np.mean([cells[(s, t)] for s in labels for t in labels if s != t], axis=0)
    return {
        "dense": dense,
        "rst": {k: cells[(k, k)] for k in low},  # the diagonal: each RST's white-box PGD-20
        "c2": off - diag,
        "r2s": np.mean([cells[(s, t)] for s in labels for t in labels], axis=0),  # the paper's protocol
    }


def seed_terms(ctx: Context) -> dict[str, SeedTerm]:
    """The three seed terms from the intro's per-image PGD-20 results at `HEADLINE_SEEDS` (loaded from
    the run store like the intro's; a dry run records them in `ctx`'s plan and returns none)."""
    records = [_pgd20_record(ctx.at_seed(s)) for s in HEADLINE_SEEDS]
    if ctx.dry_run or len(records) < 2 or any(r is None for r in records):
        return {}
    seeds = len(records)
    where = f"the intro's {seeds} seeds ({', '.join(map(str, HEADLINE_SEEDS))})"

    def stack(get):
        return np.stack([get(r) for r in records]).astype(float)

    out = {}
    dense = stack(lambda r: r["dense"])
    ratios = list(records[0]["rst"])
    if ratios:
        variance = float(np.mean([seed_variance(stack(lambda r, k=k: r["rst"][k]) - dense) for k in ratios]))
        out["rst_minus_dense"] = SeedTerm(variance, seeds, f"RST minus dense (PGD-20, RSTs at {', '.join(ratios)}) over {where}")
    out["transfer"] = SeedTerm(
        seed_variance(stack(lambda r: r["c2"])), seeds, f"off-diagonal minus diagonal of the RST transfer matrix over {where}"
    )
    out["r2s_minus_dense"] = SeedTerm(
        seed_variance(stack(lambda r: r["r2s"]) - dense), seeds, f"R2S (paper protocol) minus dense over {where}"
    )
    return out
