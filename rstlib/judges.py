"""The rules that judge each claim of the registry (`rstlib.claims`) from a section's tables:
one function per claim, returning what was measured and the verdict (see `rstlib.verdicts` for
the noise band). Secs. 3-4 here; Secs. 5-9 (transfer, R2S, tasks) in `rstlib.judges_transfer`."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from rstlib import noise
from rstlib.tables import label
from rstlib.verdicts import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE, band, every, fmt_gap, fmt_band, gap_verdict, judge_gap, majority, se_diff


@dataclass(frozen=True)
class Judged:
    measured: str
    verdict: str
    tested: tuple = ()  # (noise.Gap, threshold) of every comparison the verdict rests on


@dataclass(frozen=True)
class Facts:
    """What a section measured: its tables and the image counts behind them."""
    tables: dict
    figures: dict
    n_natural: int
    n_robust: int
    networks: int  # networks the profile compared
    datasets: int
    per_image: dict = field(default_factory=dict)  # see SectionResult.per_image


# Sec. 3 ----------------------------------------------------------------------------------------

def _table1(f: Facts):
    t = f.tables["table1"]
    attack_cols = [c for c in t.columns if c not in ("network", "model", "remaining_ratio_pct", "natural", "pgd20",
                                                     "strong (ours)")]
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
    best = rst[col].astype(float).max()
    return noise.Gap(best - float(dense[col]), se_diff(best, float(dense[col]), f.n_robust), 1, f.n_robust)


def _band_text(g: noise.Gap) -> str:
    low, high = g.band()
    return f"{g.value:+.2f} ({low:+.2f} to {high:+.2f})"


def s3_robust_to_all(f: Facts) -> Judged:
    tested = []
    t, cols = _table1(f)
    parts, signs = [], []
    for net, g in t.groupby("network", sort=False):
        dense, rst = g[g.model == "dense_adv_trained"].iloc[0], g[g.model == "rst"]
        for c in cols:
            gap = _best_rst_gap(f, net, dense, rst, c)
            signs.append(judge_gap(tested, gap, -3.0))
            parts.append(f"{net}, {label(c)}: {_band_text(gap)}")
    return Judged("best RST minus dense (95% band over every RST, paired per image): " + "; ".join(parts),
                  every(signs), tested=tuple(tested))


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
    gaps = [(float(rst5.iloc[0][c]) - float(dense[c]), se_diff(float(rst5.iloc[0][c]), float(dense[c]), f.n_robust))
            for c in cols]
    return Judged(", ".join(f"{c}: {fmt_band(g_, e)}" for c, (g_, e) in zip(cols, gaps)) + f" (paper: {paper})",
                  every([band(g_, e, threshold) for g_, e in gaps]))


def s3_wrn_vs_dense_wrn(f: Facts) -> Judged:
    return _second_rst5_vs_dense(f, -1, -3.0, "-0.76 / -0.21",
                                 "the profile runs one network (the paper's claim is about WideResNet)")


def s3_wrn_vs_dense_resnet(f: Facts) -> Judged:
    return _second_rst5_vs_dense(f, 0, 0.0, "+2.51 / +3.63",
                                 "the profile runs one network: the claim compares WideResNet's RST with dense ResNet18")


def s3_not_overfit(f: Facts) -> Judged:
    """The RST-vs-dense ordering under PGD-20 (the search attack) carries over to every other
    attack: (best RST - dense) under the attack minus the same under PGD-20 >= -3, per image
    (each best RST chosen by its point estimate)."""
    tested = []
    t, cols = _table1(f)
    parts, signs = [], []
    for net, g in t.groupby("network", sort=False):
        dense, rst = g[g.model == "dense_adv_trained"].iloc[0], g[g.model == "rst"]
        best_pgd = float(rst.set_index("remaining_ratio_pct")["pgd20"].astype(float).idxmax())
        pgd_gap = float(rst["pgd20"].max()) - float(dense["pgd20"])
        for c in cols:
            best_c = float(rst.set_index("remaining_ratio_pct")[c].astype(float).idxmax())
            bits = [_table1_bits(f, net, r, col) for r, col in ((best_c, c), (100.0, c), (best_pgd, "pgd20"),
                                                                 (100.0, "pgd20"))]
            if all(b is not None for b in bits):
                d = (bits[0].astype(float) - bits[1]) - (bits[2].astype(float) - bits[3])
                gap = noise.level(d)
            else:
                value = float(rst[c].max()) - float(dense[c]) - pgd_gap
                gap = noise.Gap(value, se_diff(float(rst[c].max()), float(dense[c]), f.n_robust), 1, f.n_robust)
            signs.append(judge_gap(tested, gap, -3.0))
            parts.append(f"{label(c)} {_band_text(gap)}")
    return Judged("(best RST - dense) under each attack minus the same under PGD-20 (95% band, paired per image): "
                  + ", ".join(parts), every(signs), tested=tuple(tested))


# Sec. 4 ----------------------------------------------------------------------------------------

def s4_skc_best(f: Facts) -> Judged:
    t = f.tables["fig1"]
    signs, wins, points = [], 0, 0
    for (panel, ratio), g in t.groupby(["panel", "ratio"]):
        g = g.set_index("init")["natural"].astype(float)
        skc = g.get("Signed Kaiming Constant")
        other = g.drop("Signed Kaiming Constant").max()
        e = se_diff(skc, other, f.n_natural)
        signs.append(band(skc - other, e, 0.0))
        wins += skc >= other
        points += 1
    return Judged(f"Signed Kaiming Constant best at {wins} of {points} (panel, ratio) points; clearly ahead "
                  f"(beyond +- 2 SE) at {signs.count(HOLDS)}, clearly behind at {signs.count(FAILS)}", every(signs))


def _kendall(a: list[float], b: list[float]) -> float:
    pairs = list(combinations(range(len(a)), 2))
    s = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j]) for i, j in pairs)
    return float(s / len(pairs)) if pairs else math.nan


def s4_rank_matches_robust(f: Facts) -> Judged:
    t = f.tables["fig1"]
    if "pgd20" not in t:
        return Judged("no robust evaluation of the initialisation variants", NOT_TESTABLE)
    m = t.groupby("init")[["natural", "pgd20"]].mean()
    tau = _kendall(list(m["natural"]), list(m["pgd20"]))
    order_nat = " > ".join(m["natural"].sort_values(ascending=False).index)
    order_rob = " > ".join(m["pgd20"].sort_values(ascending=False).index)
    verdict = HOLDS if tau >= 1 / 3 else FAILS if tau <= 0 else INCONCLUSIVE
    return Judged(f"natural: {order_nat}; PGD-20: {order_rob}; Kendall tau {tau:+.2f}", verdict)


def _pivot(t: pd.DataFrame) -> pd.DataFrame:
    return t.pivot_table(index=["panel", "ratio"], columns="variant", values="natural")


def comparable(f: Facts, table: str, a: str, others: list[str], threshold: float = -3.0) -> Judged:
    piv = _pivot(f.tables[table])
    parts, signs = [], []
    for o in others:
        gap = float((piv[a] - piv[o]).mean())
        e = se_diff(float(piv[a].mean()), float(piv[o].mean()), f.n_natural) / math.sqrt(len(piv))
        signs.append(band(gap, e, threshold))
        parts.append(f"{a} minus {o}, mean over {len(piv)} points: {fmt_band(gap, e)}")
    return Judged("; ".join(parts), every(signs))


def _best_at_each_point(piv, winner: str, rivals: list[str], n: int) -> tuple[int, list[str]]:
    """At how many points (rows) `winner` is at least the best of `rivals`, and per point whether
    it is clearly above it (+- 2 SE of test-sample noise on `n` images)."""
    signs = []
    for _, row in piv.iterrows():
        other = max(row[r] for r in rivals)
        signs.append(band(row[winner] - other, se_diff(row[winner], other, n), 0.0))
    return int((piv[winner] >= piv[rivals].max(axis=1)).sum()), signs


def s4_inherit_mostly_best(f: Facts) -> Judged:
    piv = _pivot(f.tables["fig2"])
    low = piv[piv.index.get_level_values("ratio") <= 20]
    wins, signs = _best_at_each_point(low, "FT_RST_Inherit", ["RST", "FT_RST_Reinit"], f.n_natural)
    return Judged(f"inherited weights best at {wins} of {len(low)} points at 1-20%; clearly best at "
                  f"{signs.count(HOLDS)}, clearly not at {signs.count(FAILS)}", majority(signs))


def s4_resnet_rst_vs_reinit(f: Facts) -> Judged:
    t = f.tables["fig2"]
    first = t.panel.iloc[0].split(" @ ")[0]
    sub = t[t.panel.str.startswith(first)]
    piv = _pivot(sub)
    gap = float((piv["RST"] - piv["FT_RST_Reinit"]).mean())
    e = se_diff(float(piv["RST"].mean()), float(piv["FT_RST_Reinit"].mean()), f.n_natural) / math.sqrt(len(piv))
    inside = abs(gap) - 2 * e
    verdict = HOLDS if abs(gap) + 2 * e <= 3 else FAILS if inside > 3 else INCONCLUSIVE
    return Judged(f"{first}: RST minus re-initialised fine-tune, mean {fmt_band(gap, e)} (comparable: within 3 points)", verdict)


def s4_wrn_reinit_better(f: Facts) -> Judged:
    if f.networks < 2:
        return Judged("the profile runs one network (the claim is about WideResNet32)", NOT_TESTABLE)
    t = f.tables["fig2"]
    last = t.panel.iloc[-1].split(" @ ")[0]
    piv = _pivot(t[t.panel.str.startswith(last)])
    gap = float((piv["FT_RST_Reinit"] - piv["RST"]).mean())
    e = se_diff(float(piv["RST"].mean()), float(piv["FT_RST_Reinit"].mean()), f.n_natural) / math.sqrt(len(piv))
    return Judged(f"{last}: re-initialised fine-tune minus RST, mean {fmt_band(gap, e)}", band(gap, e, 0.0))


def s4_adv_rtt_best(f: Facts) -> Judged:
    piv = _pivot(f.tables["fig3"])
    wins, signs = _best_at_each_point(piv, "Adv_RTT", ["RST", "Natural_RTT"], f.n_natural)
    return Judged(f"adversarial RTT best at {wins} of {len(piv)} points; clearly best at {signs.count(HOLDS)}, "
                  f"clearly not at {signs.count(FAILS)}", majority(signs))
