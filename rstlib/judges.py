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
from rstlib.verdicts import FAILS, HOLDS, NOT_TESTABLE, every, judge_gap, majority, se_diff


@dataclass(frozen=True)
class Judged:
    measured: str
    verdict: str
    tested: tuple = ()  # (noise.Gap, threshold) of every comparison the verdict rests on
    test_images: int | None = None  # the test set the comparisons are drawn from, where not the facts' smallest


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
    test_images: int | None = None  # as many as the smallest test set holds (a decision cannot ask for more)


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
    return noise.largest(_binomial(float(v), float(dense[col]), f.n_robust) for v in rst[col])


def _binomial(a: float, b: float, n: int, points: int = 1) -> noise.Gap:
    """The gap a - b (points) of two accuracies measured on `n` images without per-image results
    (the paper's own numbers): two independent binomial errors in quadrature; `points`: a and
    b are means over that many (ratio) points, each on its own `n` images."""
    return noise.Gap(a - b, se_diff(a, b, n * points), 1, n)


def _band_text(g: noise.Gap) -> str:
    low, high = g.band()
    return f"{g.value:+.2f} ({low:+.2f} to {high:+.2f})"


def s3_robust_to_all(f: Facts, threshold: float) -> Judged:
    tested = []
    t, cols = _table1(f)
    parts, signs = [], []
    for net, g in t.groupby("network", sort=False):
        dense, rst = g[g.model == "dense_adv_trained"].iloc[0], g[g.model == "rst"]
        for c in cols:
            gap = _best_rst_gap(f, net, dense, rst, c)
            signs.append(judge_gap(tested, gap, threshold))
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
    tested = []
    gaps = []
    for c in cols:  # paired per image where the per-image results are there (the same test images)
        x, y = _table1_bits(f, nets[-1], 5.0, c), _table1_bits(f, nets[dense_of], 100.0, c)
        gaps.append(noise.gap(x, y) if x is not None and y is not None else
                    _binomial(float(rst5.iloc[0][c]), float(dense[c]), f.n_robust))
    signs = [judge_gap(tested, g, threshold) for g in gaps]
    return Judged(", ".join(f"{c}: {_band_text(g)}" for c, g in zip(cols, gaps)) + f" (paper: {paper})",
                  every(signs), tested=tuple(tested))


def s3_wrn_vs_dense_wrn(f: Facts, threshold: float) -> Judged:
    return _second_rst5_vs_dense(f, -1, threshold, "-0.76 / -0.21",
                                 "the profile runs one network (the paper's claim is about WideResNet)")


def s3_wrn_vs_dense_resnet(f: Facts, threshold: float) -> Judged:
    return _second_rst5_vs_dense(f, 0, threshold, "+2.51 / +3.63",
                                 "the profile runs one network: the claim compares WideResNet's RST with dense ResNet18")


def s3_not_overfit(f: Facts, threshold: float) -> Judged:
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
            signs.append(judge_gap(tested, gap, threshold))
            parts.append(f"{label(c)} {_band_text(gap)}")
    return Judged("(best RST - dense) under each attack minus the same under PGD-20 (95% band, paired per image): "
                  + ", ".join(parts), every(signs), tested=tuple(tested))


# Sec. 4 ----------------------------------------------------------------------------------------

def _s4_bits(f: Facts, fig: str, panel: str, name: str, ratio: float, metric: str | None = None):
    """Per image, whether `name`'s model at (panel, ratio) of Sec. 4's `fig` is right (natural, or
    under PGD-20 with metric="pgd20"); None where the section holds no per-image results."""
    key = (panel, name, float(ratio)) + ((metric,) if metric else ())
    return (f.per_image.get(fig) or {}).get(key)


def _point_gap(f: Facts, fig: str, panel: str, ratio: float, a: str, b: str, va: float, vb: float) -> noise.Gap:
    """a - b at one Sec. 4 point: paired per image where the per-image results are there, else
    two binomial errors on the natural images."""
    x, y = _s4_bits(f, fig, panel, a, ratio), _s4_bits(f, fig, panel, b, ratio)
    if x is not None and y is not None:
        return noise.gap(x, y)
    return _binomial(va, vb, f.n_natural)


def _beats_every(f: Facts, fig: str, panel: str, ratio: float, winner: str, values: dict, threshold: float,
                 tested: list) -> str:
    """Whether `winner` is the best at one Sec. 4 point, judged against every rival in `values`
    (name -> accuracy), not only the best-looking one: picking the rival by its measured value would
    bias the band (the selection correction). Holds when it clearly beats each, fails when it is
    clearly behind one."""
    return every([judge_gap(tested, _point_gap(f, fig, panel, ratio, winner, r, values[winner], v), threshold)
                  for r, v in values.items() if r != winner])


def s4_skc_best(f: Facts, threshold: float) -> Judged:
    t = f.tables["fig1"]
    skc = "Signed Kaiming Constant"
    tested, signs, wins, points = [], [], 0, 0
    for (panel, ratio), g in t.groupby(["panel", "ratio"]):
        g = g.set_index("init")["natural"].astype(float)
        signs.append(_beats_every(f, "fig1", panel, ratio, skc, g.to_dict(), threshold, tested))
        wins += g[skc] >= g.drop(skc).max()
        points += 1
    return Judged(f"Signed Kaiming Constant best at {wins} of {points} (panel, ratio) points; clearly ahead of every "
                  f"other initialisation (95% band, paired per image) at {signs.count(HOLDS)}, clearly behind one at "
                  f"{signs.count(FAILS)}", every(signs), tested=tuple(tested))


def _kendall(a: list[float], b: list[float]) -> float:
    pairs = list(combinations(range(len(a)), 2))
    s = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j]) for i, j in pairs)
    return float(s / len(pairs)) if pairs else math.nan


TAU_DRAWS = 1000  # bootstrap draws of S4.2's rank correlation (fixed generator seed 0: machine-independent)


def _tau_gap(nat: np.ndarray, rob: np.ndarray, draw_nat, draw_rob, images: int) -> noise.Gap:
    """Kendall tau of the inits' `nat` vs `rob` accuracies, with the spread of TAU_DRAWS draws of
    both (`draw_*(rng)` -> one accuracy per init) as its standard error."""
    rng = np.random.default_rng(0)
    taus = [_kendall(list(draw_nat(rng)), list(draw_rob(rng))) for _ in range(TAU_DRAWS)]
    return noise.Gap(_kendall(list(nat), list(rob)), float(np.std(taus, ddof=1)), 1, images, unit="in tau",
                     resolution=0.05)


def _tau_band(f: Facts, m: pd.DataFrame, panel: str, ratios: list[float]) -> tuple[noise.Gap, str]:
    """S4.2's Kendall tau between the inits' mean natural and mean PGD-20 accuracy (`m`, one row
    per init) and its noise: a bootstrap over the test images, the same resampled images for every
    init (paired), where the per-image results are there; else a parametric bootstrap from two
    independent binomial errors per point (the paper's own numbers, `rstlib.calibration`)."""
    inits = list(m.index)
    nat = [[_s4_bits(f, "fig1", panel, i, r) for r in ratios] for i in inits]
    rob = [[_s4_bits(f, "fig1", panel, i, r, "pgd20") for r in ratios] for i in inits]
    if all(b is not None for row in nat + rob for b in row):
        nat_m = np.asarray(nat, dtype=float).mean(axis=1)  # (inits, images): mean over the ratios
        rob_m = np.asarray(rob, dtype=float).mean(axis=1)

        def resample(x):
            return lambda rng: x[:, rng.integers(0, x.shape[1], x.shape[1])].mean(axis=1)
        return (_tau_gap(nat_m.mean(axis=1), rob_m.mean(axis=1), resample(nat_m), resample(rob_m), rob_m.shape[1]),
                "bootstrap over test images, paired")
    a, b = m["natural"].to_numpy(float), m["pgd20"].to_numpy(float)
    sa = np.sqrt(a * (100 - a) / (f.n_natural * len(ratios)))  # a mean over len(ratios) points
    sb = np.sqrt(b * (100 - b) / (f.n_robust * len(ratios)))
    return (_tau_gap(a, b, lambda rng: a + sa * rng.standard_normal(len(a)), lambda rng: b + sb * rng.standard_normal(len(b)),
                     f.n_robust), "parametric bootstrap, binomial errors")


def s4_rank_matches_robust(f: Facts, threshold: float) -> Judged:
    t = f.tables["fig1"]
    if "pgd20" not in t:
        return Judged("no robust evaluation of the initialisation variants", NOT_TESTABLE)
    m = t.groupby("init")[["natural", "pgd20"]].mean()
    order_nat = " > ".join(m["natural"].sort_values(ascending=False).index)
    order_rob = " > ".join(m["pgd20"].sort_values(ascending=False).index)
    gap, how = _tau_band(f, m, t.panel.iloc[0], sorted(float(r) for r in t.ratio.unique()))
    tested = []
    verdict = judge_gap(tested, gap, threshold)
    return Judged(f"natural: {order_nat}; PGD-20: {order_rob}; Kendall tau {_band_text(gap)} (95% band, {how})",
                  verdict, tested=tuple(tested))


def _pivot(t: pd.DataFrame) -> pd.DataFrame:
    return t.pivot_table(index=["panel", "ratio"], columns="variant", values="natural")


def _mean_gap(f: Facts, fig: str, piv: pd.DataFrame, a: str, b: str) -> noise.Gap:
    """a - b averaged over the pivot's (panel, ratio) points: per image, the mean over the points
    of the paired difference (every point scored on the same images), else binomial errors."""
    x = [_s4_bits(f, fig, panel, a, ratio) for panel, ratio in piv.index]
    y = [_s4_bits(f, fig, panel, b, ratio) for panel, ratio in piv.index]
    if all(v is not None for v in x + y) and len({len(v) for v in x + y}) == 1:
        return noise.gap(np.mean(np.asarray(x, dtype=float), axis=0), np.mean(np.asarray(y, dtype=float), axis=0))
    return _binomial(float(piv[a].mean()), float(piv[b].mean()), f.n_natural, len(piv))


def comparable(f: Facts, threshold: float, table: str, a: str, others: list[str], network: int | None = None) -> Judged:
    """`a` is comparable with each of `others` (the book's one meaning, `verdicts.COMPARABLE`): its
    mean natural accuracy over the table's points is not more than -`threshold` points below,
    on every panel (`network`: only that network's panels, by position)."""
    t = f.tables[table]
    if network is not None:
        name = list(dict.fromkeys(p.split(" @ ")[0] for p in t.panel))[network]
        t = t[t.panel.str.startswith(name + " @ ")]
    piv = _pivot(t)
    tested, parts, signs = [], [], []
    for o in others:
        g = _mean_gap(f, table, piv, a, o)
        signs.append(judge_gap(tested, g, threshold))
        parts.append(f"{a} minus {o}, mean over {len(piv)} points: {_band_text(g)}")
    return Judged("; ".join(parts), every(signs), tested=tuple(tested))


def _best_at_each_point(f: Facts, fig: str, piv, winner: str, rivals: list[str], threshold: float,
                        tested: list) -> tuple[int, list[str]]:
    """At how many points (rows) `winner` is at least the best of `rivals`, and per point whether
    it is clearly above every one of them (the 95% band, paired per image; `_beats_every`)."""
    signs = [_beats_every(f, fig, panel, ratio, winner, {n: row[n] for n in [winner, *rivals]}, threshold, tested)
             for (panel, ratio), row in piv.iterrows()]
    return int((piv[winner] >= piv[rivals].max(axis=1)).sum()), signs


def s4_inherit_mostly_best(f: Facts, threshold: float) -> Judged:
    piv = _pivot(f.tables["fig2"])
    low = piv[piv.index.get_level_values("ratio") <= 20]
    tested = []
    wins, signs = _best_at_each_point(f, "fig2", low, "FT_RST_Inherit", ["RST", "FT_RST_Reinit"], threshold, tested)
    return Judged(f"inherited weights best at {wins} of {len(low)} points at 1-20%; clearly best at "
                  f"{signs.count(HOLDS)}, clearly not at {signs.count(FAILS)}", majority(signs), tested=tuple(tested))


def s4_wrn_reinit_better(f: Facts, threshold: float) -> Judged:
    if f.networks < 2:
        return Judged("the profile runs one network (the claim is about WideResNet32)", NOT_TESTABLE)
    t = f.tables["fig2"]
    last = t.panel.iloc[-1].split(" @ ")[0]
    piv = _pivot(t[t.panel.str.startswith(last)])
    tested = []
    g = _mean_gap(f, "fig2", piv, "FT_RST_Reinit", "RST")
    return Judged(f"{last}: re-initialised fine-tune minus RST, mean {_band_text(g)}", judge_gap(tested, g, threshold),
                  tested=tuple(tested))


def s4_adv_rtt_best(f: Facts, threshold: float) -> Judged:
    piv = _pivot(f.tables["fig3"])
    tested = []
    wins, signs = _best_at_each_point(f, "fig3", piv, "Adv_RTT", ["RST", "Natural_RTT"], threshold, tested)
    return Judged(f"adversarial RTT best at {wins} of {len(piv)} points; clearly best at {signs.count(HOLDS)}, "
                  f"clearly not at {signs.count(FAILS)}", majority(signs), tested=tuple(tested))
