"""The rules of the claims about more attacks (Sec. 3): RSTs against every attack of Table 1, the
wide RST against dense networks, and no overfitting to PGD. Every rule of the registry
(`rstlib.paper.claims.registry`) is one function of a section's Facts and the claim's threshold,
returning what was measured and the verdict; the rules are grouped by idea: attacks (here), natural
accuracy (`rules_natural`), transfer across models and tasks (`rules_transfer`), R2S (`rules_r2s`)."""

from __future__ import annotations

import pandas as pd

from rstlib.paper.claims import noise
from rstlib.paper.claims.facts import Facts, Judged, band_text, binomial
from rstlib.paper.claims.spec import ClaimSpec
from rstlib.paper.claims.verdicts import COMPARABLE, NOT_TESTABLE, every, judge_gap, se_diff
from rstlib.paper.words import label

# Sec. 3 ----------------------------------------------------------------------------------------


def _table1(f: Facts):
    t = f.tables["table1"]
    attack_cols = [
        c for c in t.columns if c not in ("network", "model", "remaining_ratio_pct", "natural", "pgd20", "strong (ours)")
    ]
    return t, attack_cols


def _table1_bits(f: Facts, net: str, ratio: float, col: str):
    bits = f.per_image.get("table1")
    return None if not bits else bits.get((net, float(ratio), col))


def _best_rst_gap(f: Facts, net: str, dense, rst: pd.DataFrame, col: str) -> noise.Gap:
    """Best RST minus dense under `col`, judged over every RST (Bonferroni), paired per image
    where the per-image results are there (else, in a dry run, the binomial band)."""
    base = _table1_bits(f, net, 100.0, col)
    cands = [_table1_bits(f, net, r, col) for r in rst.remaining_ratio_pct]
    if base is not None and cands and all(c is not None for c in cands):
        return noise.max_gap(cands, base)
    return noise.largest(binomial(float(v), float(dense[col]), f.n_robust) for v in rst[col])


def every_rst_cells(t: pd.DataFrame, cols: list[str], threshold: float) -> tuple[int, int]:
    """S3.1's other reading ("the RSTs", every RST): of the (RST, attack) cells of a Table 1, how many
    lie within the threshold of their network's dense model (point estimates)."""
    ok = total = 0
    for _, g in t.groupby("network", sort=False):
        dense, rst = g[g.model == "dense_adv_trained"].iloc[0], g[g.model == "rst"]
        for c in cols:
            gaps = rst[c].astype(float) - float(dense[c])
            ok += int((gaps >= threshold).sum())
            total += len(gaps)
    return ok, total


def _paper_every_rst(threshold: float) -> str:
    from rstlib.paper.reference import table

    t = table("table1")
    ok, total = every_rst_cells(t, [c for c in t.columns if c not in ("network", "model", "remaining_ratio_pct")], threshold)
    return f"{total - ok} of its {total} RST cells"


def s3_robust_to_all(f: Facts, threshold: float) -> Judged:
    tested = []
    t, cols = _table1(f)
    parts = []
    for net, g in t.groupby("network", sort=False):
        dense, rst = g[g.model == "dense_adv_trained"].iloc[0], g[g.model == "rst"]
        for c in cols:
            gap = _best_rst_gap(f, net, dense, rst, c)
            judge_gap(tested, gap, threshold)
            parts.append(f"{net}, {label(c)}: {band_text(gap)}")
    ok, total = every_rst_cells(t, cols, threshold)
    return Judged(
        "best RST minus dense (95% band over every RST, paired per image): "
        + "; ".join(parts)
        + f". Under the every-RST reading, {ok} of {total} (RST, attack) cells are within {-threshold:g} points of dense "
        "(point estimates)",
        every(tested),
        tested=tuple(tested),
    )


def _second_rst5_vs_dense(f: Facts, dense_of: int, threshold: float, paper: str, one_network: str) -> Judged:
    """AutoAttack: the second network's RST at 5% minus the dense model of network `dense_of`
    (-1: the same second network, 0: the first), judged against `threshold` at every budget."""
    t, _ = _table1(f)
    nets = list(t.network.unique())
    if len(nets) < 2:
        return Judged(one_network, NOT_TESTABLE)
    big = t[t.network == nets[-1]]
    rst5 = big[(big.model == "rst") & (big.remaining_ratio_pct == 5)]
    if rst5.empty:
        return Judged("no RST at 5% in this profile's Table 1", NOT_TESTABLE)
    base = t[t.network == nets[dense_of]]
    dense = base[base.model == "dense_adv_trained"].iloc[0]
    cols = [c for c in t.columns if c.startswith("autoattack")]
    tested = []
    gaps = []
    for c in cols:  # paired per image where the per-image results are there (the same test images)
        x, y = _table1_bits(f, nets[-1], 5.0, c), _table1_bits(f, nets[dense_of], 100.0, c)
        gaps.append(
            noise.gap(x, y) if x is not None and y is not None else binomial(float(rst5.iloc[0][c]), float(dense[c]), f.n_robust)
        )
    for g in gaps:
        judge_gap(tested, g, threshold)
    return Judged(
        "; ".join(f"{label(c)}: {band_text(g)}" for c, g in zip(cols, gaps)) + f" (paper: {paper})",
        every(tested),
        tested=tuple(tested),
    )


def s3_wrn_vs_dense_wrn(f: Facts, threshold: float) -> Judged:
    return _second_rst5_vs_dense(
        f, -1, threshold, "-0.76 / -0.21", "the profile runs one network (the paper's claim is about WideResNet)"
    )


def s3_wrn_vs_dense_resnet(f: Facts, threshold: float) -> Judged:
    return _second_rst5_vs_dense(
        f, 0, threshold, "+2.51 / +3.63", "the profile runs one network: the claim compares WideResNet's RST with dense ResNet18"
    )


def s3_not_overfit(f: Facts, threshold: float) -> Judged:
    """The RST-vs-dense ordering under PGD-20 (the search attack) carries over to every other
    attack: (best RST - dense) under the attack minus the same under PGD-20 >= the threshold. Both
    bests are selections, so the statistic max_i a_i - max_j b_j gets a band from simultaneous 95%
    bands of every pair difference d_ij = a_i - b_j (over every RST pair and every attack,
    Bonferroni): its low is max_i min_j of the lows, its high max_i min_j of the highs."""
    tested = []
    t, cols = _table1(f)
    parts = []
    for net, g in t.groupby("network", sort=False):
        dense, rst = g[g.model == "dense_adv_trained"].iloc[0], g[g.model == "rst"]
        ratios = [float(r) for r in rst.remaining_ratio_pct]
        by_ratio = rst.set_index("remaining_ratio_pct")
        family = len(ratios) ** 2 * len(cols)
        for c in cols:
            pairs = {}
            for i in ratios:
                for j in ratios:
                    bits = [_table1_bits(f, net, r, col) for r, col in ((i, c), (100.0, c), (j, "pgd20"), (100.0, "pgd20"))]
                    if all(b is not None for b in bits):
                        pairs[i, j] = noise.level((bits[0].astype(float) - bits[1]) - (bits[2].astype(float) - bits[3]))
                    else:
                        a_i, b_j = (
                            float(by_ratio.loc[i, c]) - float(dense[c]),
                            float(by_ratio.loc[j, "pgd20"]) - float(dense["pgd20"]),
                        )
                        pairs[i, j] = noise.one_seed(
                            noise.Gap(a_i - b_j, se_diff(float(by_ratio.loc[i, c]), float(dense[c]), f.n_robust), 1, f.n_robust)
                        )
            bands = {k: gp.band(family=family) for k, gp in pairs.items()}
            value = max(float(by_ratio.loc[i, c]) for i in ratios) - max(float(by_ratio.loc[j, "pgd20"]) for j in ratios)
            value -= float(dense[c]) - float(dense["pgd20"])
            low = max(min(bands[i, j][0] for j in ratios) for i in ratios)
            high = max(min(bands[i, j][1] for j in ratios) for i in ratios)
            any_pair = next(iter(pairs.values()))
            gap = noise.Gap(
                value,
                max(gp.se for gp in pairs.values()),
                any_pair.seeds,
                any_pair.images,
                min(gp.dof for gp in pairs.values()),
                parts=any_pair.parts,
                interval=(low, high),
                interval_how=f"simultaneous over the {family} RST pairs and attacks",
            )
            judge_gap(tested, gap, threshold)
            parts.append(f"{label(c)}: {band_text(gap)}")
    return Judged(
        "(best RST - dense) under each attack minus the same under PGD-20 (95% band simultaneous over every pair of "
        "RSTs and every attack, paired per image): " + "; ".join(parts),
        every(tested),
        tested=tuple(tested),
    )


# Sec. 4 ----------------------------------------------------------------------------------------


C = COMPARABLE  # the book's one meaning of "comparable" (rstlib.paper.claims.verdicts)

CLAIMS: tuple[ClaimSpec, ...] = (
    ClaimSpec(
        "S3.1",
        "sec3",
        "the RSTs searched by PGD-7 training are also robust against other attacks",
        'reading "the RSTs [...] are also robust" as: for each network, under every attack of Table 1, the best RST '
        "is comparable with the adversarially trained dense network (gap >= {t}, 95% band over every RST, paired per "
        "image). The every-RST reading is not used: under it the paper's own Table 1 fails "
        + _paper_every_rst(C)
        + " (point estimates), so it cannot be what the authors meant",
        s3_robust_to_all,
        C,
    ),
    ClaimSpec(
        "S3.2",
        "sec3",
        "under the Auto-Attack with n=8/12, the RST with a remaining ratio of 5% in WideResNet32 "
        "achieves (1) only a 0.76%/0.21% drop in robust accuracy [...] as compared to the adversarially trained "
        "dense WideResNet32",
        "AutoAttack: the second network's RST at 5% minus its dense network >= {t} (95% band, paired per image) at both budgets",
        s3_wrn_vs_dense_wrn,
        C,
    ),
    ClaimSpec(
        "S3.3",
        "sec3",
        "(2) a 2.51%/3.63% higher robust accuracy and a 80% reduction in the model size, compared "
        "with the adversarially trained dense ResNet18",
        "AutoAttack: the second network's RST at 5% minus the "
        "first network's dense model > {t} (95% band, paired per image) at both budgets",
        s3_wrn_vs_dense_resnet,
        0.0,
    ),
    ClaimSpec(
        "S3.4",
        "sec3",
        "the identified RSTs are generally robust without overfitting to one specific type of attacks",
        "the best RST's gap to the dense network under each other attack minus its gap under "
        "PGD-20, the attack it was searched with, >= {t} (95% band simultaneous over every pair of RSTs and "
        "attacks: both 'best' are selections; paired per image)",
        s3_not_overfit,
        C,
    ),
)
