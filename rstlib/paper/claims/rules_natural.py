"""The rules of the natural-accuracy claims (Sec. 4): the best initialisation, its ranking against
robustness, fine-tuned RSTs and RTTs, and `comparable` (the book's one meaning of the word,
`rstlib.paper.claims.verdicts.COMPARABLE`)."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd

from rstlib.paper.claims import noise
from rstlib.paper.claims.facts import Facts, Judged, band_text, binomial, paired_or_binomial
from rstlib.paper.claims.spec import ClaimSpec
from rstlib.paper.claims.verdicts import COMPARABLE, FAILS, HOLDS, NOT_TESTABLE, every, judge_gap, majority


def _s4_bits(f: Facts, fig: str, panel: str, name: str, ratio: float, metric: str | None = None):
    """Per image, whether `name`'s model at (panel, ratio) of Sec. 4's `fig` is right (natural, or
    under PGD-20 with metric="pgd20"); None where the section holds no per-image results."""
    key = (panel, name, float(ratio)) + ((metric,) if metric else ())
    return (f.per_image.get(fig) or {}).get(key)


def _point_gap(f: Facts, fig: str, panel: str, ratio: float, a: str, b: str, va: float, vb: float) -> noise.Gap:
    """a - b at one Sec. 4 point, on the natural images."""
    return paired_or_binomial(_s4_bits(f, fig, panel, a, ratio), _s4_bits(f, fig, panel, b, ratio), va, vb, f.n_natural)


def _beats_every(f: Facts, fig: str, panel: str, ratio: float, winner: str, values: dict, threshold: float, tested: list) -> str:
    """Whether `winner` is the best at one Sec. 4 point, judged against every rival in `values`
    (name -> accuracy), not only the best-looking one: picking the rival by its measured value would
    bias the band (the selection correction). Holds when it clearly beats each, fails when it is
    clearly behind one."""
    here: list = []
    for r, v in values.items():
        if r != winner:
            judge_gap(here, _point_gap(f, fig, panel, ratio, winner, r, values[winner], v), threshold)
    tested += here
    return every(here)


def s4_skc_best(f: Facts, threshold: float) -> Judged:
    t = f.tables["fig1"]
    skc = "Signed Kaiming Constant"
    tested, signs, wins, points = [], [], 0, 0
    for (panel, ratio), g in t.groupby(["panel", "ratio"]):
        g = g.set_index("init")["natural"].astype(float)
        signs.append(_beats_every(f, "fig1", panel, ratio, skc, g.to_dict(), threshold, tested))
        wins += g[skc] >= g.drop(skc).max()
        points += 1
    return Judged(
        f"Signed Kaiming Constant best at {wins} of {points} (panel, ratio) points; clearly ahead of every "
        f"other initialisation (95% band, paired per image) at {signs.count(HOLDS)}, clearly behind one at "
        f"{signs.count(FAILS)}",
        every(tested),
        tested=tuple(tested),
    )


def _kendall(a: list[float], b: list[float]) -> float:
    pairs = list(combinations(range(len(a)), 2))
    s = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j]) for i, j in pairs)
    return float(s / len(pairs)) if pairs else math.nan


TAU_DRAWS = 1000  # bootstrap draws of S4.2's rank correlation (fixed generator seed 0: machine-independent)


def _tau_gap(nat: np.ndarray, rob: np.ndarray, draw_nat, draw_rob, images: int) -> noise.Gap:
    """Kendall tau of the inits' `nat` vs `rob` accuracies with the percentile band of TAU_DRAWS
    draws of both (`draw_*(rng)` -> one accuracy per init): a rank statistic lives in [-1, 1] and its
    bootstrap distribution is lopsided, so a normal band around the observed tau would leave the
    range and miss the threshold's place in the distribution. Its standard error (the draws'
    spread) only prices what more images would buy."""
    rng = np.random.default_rng(0)
    taus = np.array([_kendall(list(draw_nat(rng)), list(draw_rob(rng))) for _ in range(TAU_DRAWS)])
    low, high = (float(x) for x in np.percentile(taus, [2.5, 97.5]))
    return noise.Gap(
        _kendall(list(nat), list(rob)), float(taus.std(ddof=1)), 1, images, unit="in tau", resolution=0.05, interval=(low, high)
    )


def _tau_band(f: Facts, m: pd.DataFrame, panel: str, ratios: list[float]) -> tuple[noise.Gap, str]:
    """S4.2's Kendall tau between the inits' mean natural and mean PGD-20 accuracy (`m`, one row
    per init) and its noise: a bootstrap over the test images, the same resampled images for every
    init (paired), where the per-image results are there; else a parametric bootstrap from two
    independent binomial errors per point (the paper's own numbers, `rstlib.paper.claims.calibration`)."""
    inits = list(m.index)
    nat = [[_s4_bits(f, "fig1", panel, i, r) for r in ratios] for i in inits]
    rob = [[_s4_bits(f, "fig1", panel, i, r, "pgd20") for r in ratios] for i in inits]
    if all(b is not None for row in nat + rob for b in row):
        nat_m = np.asarray(nat, dtype=float).mean(axis=1)  # (inits, images): mean over the ratios
        rob_m = np.asarray(rob, dtype=float).mean(axis=1)

        def resample(x):
            return lambda rng: x[:, rng.integers(0, x.shape[1], x.shape[1])].mean(axis=1)

        return (
            _tau_gap(nat_m.mean(axis=1), rob_m.mean(axis=1), resample(nat_m), resample(rob_m), rob_m.shape[1]),
            "bootstrap over test images, paired",
        )
    a, b = m["natural"].to_numpy(float), m["pgd20"].to_numpy(float)
    # a mean over len(ratios) points scored on the same images: correlated, so one point's error (a bound)
    sa = np.sqrt(a * (100 - a) / f.n_natural)
    sb = np.sqrt(b * (100 - b) / f.n_robust)
    return (
        _tau_gap(
            a, b, lambda rng: a + sa * rng.standard_normal(len(a)), lambda rng: b + sb * rng.standard_normal(len(b)), f.n_robust
        ),
        "parametric bootstrap, binomial errors",
    )


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
    return Judged(
        f"natural: {order_nat}; PGD-20: {order_rob}; Kendall tau {band_text(gap)} (95% percentile band, {how})",
        verdict,
        tested=tuple(tested),
    )


def _pivot(t: pd.DataFrame) -> pd.DataFrame:
    return t.pivot_table(index=["panel", "ratio"], columns="variant", values="natural")


def _mean_gap(f: Facts, fig: str, piv: pd.DataFrame, a: str, b: str) -> noise.Gap:
    """a - b averaged over the pivot's (panel, ratio) points: per image, the mean over the points
    of the paired difference (every point scored on the same images), else binomial errors."""
    x = [_s4_bits(f, fig, panel, a, ratio) for panel, ratio in piv.index]
    y = [_s4_bits(f, fig, panel, b, ratio) for panel, ratio in piv.index]
    if all(v is not None for v in x + y) and len({len(v) for v in x + y}) == 1:
        return noise.gap(np.mean(np.asarray(x, dtype=float), axis=0), np.mean(np.asarray(y, dtype=float), axis=0))
    return binomial(float(piv[a].mean()), float(piv[b].mean()), f.n_natural)  # a mean over points on the same images


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
        parts.append(f"{a} minus {o}, mean over {len(piv)} points: {band_text(g)}")
    return Judged("; ".join(parts), every(tested), tested=tuple(tested))


def _best_at_each_point(
    f: Facts, fig: str, piv, winner: str, rivals: list[str], threshold: float, tested: list
) -> tuple[int, list[str]]:
    """At how many points (rows) `winner` is at least the best of `rivals`, and per point whether
    it is clearly above every one of them (the 95% band, paired per image; `_beats_every`)."""
    signs = [
        _beats_every(f, fig, panel, ratio, winner, {n: row[n] for n in [winner, *rivals]}, threshold, tested)
        for (panel, ratio), row in piv.iterrows()
    ]
    return int((piv[winner] >= piv[rivals].max(axis=1)).sum()), signs


def _mostly_best(f: Facts, fig: str, piv, winner: str, rivals: list[str], threshold: float, who: str, where: str = "") -> Judged:
    """`winner` ahead of every rival at most of the pivot's points (the majority of the per-point verdicts)."""
    tested: list = []
    wins, signs = _best_at_each_point(f, fig, piv, winner, rivals, threshold, tested)
    return Judged(
        f"{who} best at {wins} of {len(piv)} points{where}; clearly best at {signs.count(HOLDS)}, "
        f"clearly not at {signs.count(FAILS)}",
        majority(signs),
        tested=tuple(tested),
    )


def s4_inherit_mostly_best(f: Facts, threshold: float) -> Judged:
    piv = _pivot(f.tables["fig2"])
    low = piv[piv.index.get_level_values("ratio") <= 20]
    return _mostly_best(f, "fig2", low, "FT_RST_Inherit", ["RST", "FT_RST_Reinit"], threshold, "inherited weights", " at 1-20%")


def s4_wrn_reinit_better(f: Facts, threshold: float) -> Judged:
    if f.networks < 2:
        return Judged("the profile runs one network (the claim is about WideResNet32)", NOT_TESTABLE)
    t = f.tables["fig2"]
    last = t.panel.iloc[-1].split(" @ ")[0]
    piv = _pivot(t[t.panel.str.startswith(last)])
    tested = []
    g = _mean_gap(f, "fig2", piv, "FT_RST_Reinit", "RST")
    return Judged(
        f"{last}: re-initialised fine-tune minus RST, mean {band_text(g)}", judge_gap(tested, g, threshold), tested=tuple(tested)
    )


def s4_adv_rtt_best(f: Facts, threshold: float) -> Judged:
    return _mostly_best(f, "fig3", _pivot(f.tables["fig3"]), "Adv_RTT", ["RST", "Natural_RTT"], threshold, "adversarial RTT")


C = COMPARABLE  # the book's one meaning of "comparable" (rstlib.paper.claims.verdicts)

CLAIMS: tuple[ClaimSpec, ...] = (
    ClaimSpec(
        "S4.1",
        "sec4",
        "RSTs under Signed Kaiming Constant initialization consistently achieve the best natural accuracy",
        "at every (panel, ratio) point Signed Kaiming Constant minus each other initialisation "
        ">= {t} (95% band, paired per image)",
        s4_skc_best,
        0.0,
    ),
    ClaimSpec(
        "S4.2",
        "sec4",
        "the overall ranking between different initialization methods is generally consistent with the robust accuracy ranking",
        "Kendall tau between the four initialisations' mean natural and mean "
        "PGD-20 accuracy >= {t} (at most two of the six pairs ranked discordantly; 95% percentile band, bootstrap over "
        "test images, paired)",
        s4_rank_matches_robust,
        1 / 3,
    ),
    ClaimSpec(
        "S4.3",
        "sec4",
        "the vanilla RSTs can generally achieve a comparable natural accuracy with that of the fine-tuned RSTs",
        "RST minus each fine-tuned variant, mean over points, >= {t} (95% band, paired per image)",
        lambda f, t: comparable(f, t, "fig2", "RST", ["FT_RST_Inherit", "FT_RST_Reinit"]),
        C,
    ),
    ClaimSpec(
        "S4.4",
        "sec4",
        "under low weight remaining ratios (1%∼20%), fine-tuned RSTs with inherited weights mostly "
        "achieve the best natural accuracy among the three RST variants",
        "inherited-weight fine-tune minus each "
        "other variant >= {t}, clearly (95% band, paired per image) at more than half of the points at <= 20%",
        s4_inherit_mostly_best,
        0.0,
    ),
    ClaimSpec(
        "S4.5",
        "sec4",
        "the vanilla RSTs on ResNet18 without any training can achieve a comparable natural "
        "accuracy compared with fine-tuned RSTs with re-initialization",
        "first network: RST minus re-initialised fine-tune, mean over points, >= {t} (95% band, paired per image)",
        lambda f, t: comparable(f, t, "fig2", "RST", ["FT_RST_Reinit"], network=0),
        C,
    ),
    ClaimSpec(
        "S4.6",
        "sec4",
        "while the latter ones on WideResNet32 can achieve a slightly better natural accuracy",
        "second network: re-initialised fine-tune minus RST (mean) > {t} (95% band, paired per image)",
        s4_wrn_reinit_better,
        0.0,
    ),
    ClaimSpec(
        "S4.7",
        "sec4",
        "RSTs drawn from randomly initialized networks achieve a comparable natural accuracy with "
        "the RTTs drawn from naturally/adversarially trained networks",
        "RST minus each RTT variant, mean over points, >= {t} (95% band, paired per image)",
        lambda f, t: comparable(f, t, "fig3", "RST", ["Natural_RTT", "Adv_RTT"]),
        C,
    ),
    ClaimSpec(
        "S4.8",
        "sec4",
        "adversarial RTTs generally achieve the best natural accuracy",
        "adversarial RTT minus each other variant >= {t}, clearly (95% band, paired per image) at more than half of the points",
        s4_adv_rtt_best,
        0.0,
    ),
)
