"""The rules that judge the claims of Secs. 5-9 (transfer, R2S, across tasks); see `rstlib.judges`."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

from rstlib.judges import Facts, Judged
from rstlib import noise
from rstlib.verdicts import FAILS, HOLDS, NOT_TESTABLE, band, every, fmt_band, fmt_gap, gap_verdict, se_diff


# Sec. 5 / 7: transfer ----------------------------------------------------------------------------

def _paired(g: noise.Gap) -> str:
    low, high = g.band()
    return f"{g.value:+.2f} (95% band {low:+.2f} to {high:+.2f}, paired over {g.images} images)"


def poor_transfer(figure: str) -> Callable[[Facts], Judged]:
    """Every panel: mean off-diagonal minus mean diagonal >= 10 points, judged per image (paired:
    every cell of the matrix scores the same test images) with the one noise model."""
    def judge(f: Facts) -> Judged:
        parts, signs = [], []
        for panel, m in f.figures[figure].items():
            a = m.to_numpy(dtype=float)
            if a.shape[0] < 2:
                return Judged("fewer than two ratios: no off-diagonal", NOT_TESTABLE)
            diag, off = float(np.mean(np.diag(a))), float(np.mean(a[~np.eye(len(a), dtype=bool)]))
            cells = f.per_image.get(f"{figure}/{panel}")
            if cells is None:  # a dry run: no per-image results
                e = se_diff(diag, off, f.n_robust) / math.sqrt(len(a))
                signs.append(band(off - diag, e, 10.0))
                parts.append(f"{panel}: off-diagonal {off:.2f} minus diagonal {diag:.2f} = {fmt_band(off - diag, e)}")
                continue
            labels = list(m.index)
            d = (np.mean([cells[(s, t)] for s in labels for t in labels if s != t], axis=0)
                 - np.mean([cells[(k, k)] for k in labels], axis=0))
            g = noise.level(d)
            signs.append(gap_verdict(g, 10.0))
            parts.append(f"{panel}: off-diagonal {off:.2f} minus diagonal {diag:.2f} = {_paired(g)}")
        return Judged("; ".join(parts), every(signs))
    return judge


def table2_transfer(row: int) -> Callable[[Facts], Judged]:
    """Table 2 row `row`: RST accuracy under the transferred attack minus white-box, mean over the
    ratios, >= 10 points; paired per image where the per-image results are there."""
    def judge(f: Facts) -> Judged:
        t = f.tables["table2"]
        cols = [c for c in t.columns if c.startswith("rst_")]
        white = t.iloc[3][cols].astype(float)
        gaps = t.iloc[row][cols].astype(float) - white
        gap = float(gaps.mean())
        bits = f.per_image.get("table2")
        if bits and all(bits.get((i, c)) is not None for i in (row, 3) for c in cols):
            d = np.mean([bits[(row, c)].astype(float) - bits[(3, c)] for c in cols], axis=0)
            g = noise.level(d)
            return Judged(f"RST accuracy under the transferred attack minus white-box, mean over {len(cols)} ratios: "
                          f"{_paired(g)}", gap_verdict(g, 10.0))
        e = se_diff(float(t.iloc[row][cols].astype(float).mean()), float(white.mean()), f.n_robust) / math.sqrt(len(cols))
        return Judged(f"RST accuracy under the transferred attack minus white-box, mean over {len(cols)} ratios: "
                      f"{fmt_band(gap, e)}", band(gap, e, 10.0))
    return judge


# Sec. 6 / 8: R2S ---------------------------------------------------------------------------------

def _r2s_groups(f: Facts):
    t = f.tables["r2s"]
    for (d, net), g in t.groupby(["dataset", "network"], sort=False):
        yield f"{net} @ {d}", g[g.candidate_set == "dense"].iloc[0], g[g.candidate_set != "dense"]


def r2s_gain(threshold: float, column: str = "pgd20_protocol") -> Callable[[Facts], Judged]:
    def judge(f: Facts) -> Judged:
        parts, signs = [], []
        for label, dense, sets in _r2s_groups(f):
            for _, r in sets.iterrows():
                gap = float(r[column]) - float(dense[column])
                e = se_diff(float(r[column]), float(dense[column]), f.n_robust)
                signs.append(band(gap, e, threshold))
                parts.append(f"{label} {{{r.candidate_set}}}: {fmt_band(gap, e)}")
        return Judged("R2S minus dense: " + "; ".join(parts), every(signs))
    return judge


def s6_up_to(f: Facts) -> Judged:
    parts, signs = [], []
    for label, dense, sets in _r2s_groups(f):
        gaps = sets["pgd20_protocol"].astype(float) - float(dense["pgd20_protocol"])
        best = float(gaps.max())
        e = se_diff(float(sets["pgd20_protocol"].max()), float(dense["pgd20_protocol"]), f.n_robust)
        signs.append(band(best, e, 5.0))
        parts.append(f"{label}: largest gain {fmt_band(best, e)}")
    return Judged("; ".join(parts) + " (paper: up to +13.83 / +15.59 / +13.62 / +13.70)", every(signs))


def _widest(sets: pd.DataFrame) -> int:
    spans = [max(float(x.strip().rstrip("%")) for x in s.split(",")) - min(float(x.strip().rstrip("%"))
             for x in s.split(",")) for s in sets.candidate_set]
    return int(np.argmax(spans))


def _one_set_vs_the_rest(f: Facts, pick, column: str, n: int, what: str) -> Judged:
    """The candidate set chosen by `pick(sets)` minus the best other set on `column` (> 0, +- 2 SE)."""
    parts, signs = [], []
    for label, _, sets in _r2s_groups(f):
        if len(sets) < 2:
            return Judged("one candidate set: nothing to compare", NOT_TESTABLE)
        i = pick(sets)
        mine = float(sets.iloc[i][column])
        best_other = float(sets.drop(sets.index[i])[column].astype(float).max())
        e = se_diff(mine, best_other, n)
        signs.append(band(mine - best_other, e, 0.0))
        parts.append(f"{label}: {what} {{{sets.iloc[i].candidate_set}}} minus the best other set "
                     f"{fmt_band(mine - best_other, e)}")
    return Judged("; ".join(parts), every(signs))


def _without_the_lowest(sets: pd.DataFrame) -> int:
    """The set without the lowest ratios (the paper's recommended last row)."""
    return int(np.argmax([min(float(x.strip().rstrip("%")) for x in s.split(",")) for s in sets.candidate_set]))


def s6_wider_more_robust(f: Facts) -> Judged:
    return _one_set_vs_the_rest(f, _widest, "pgd20_protocol", f.n_robust, "PGD-20 of the widest set")


def s6_extremes_cost_natural(f: Facts) -> Judged:
    return _one_set_vs_the_rest(f, _without_the_lowest, "natural", f.n_natural, "natural accuracy of")


def s8_comparable_natural(f: Facts) -> Judged:
    parts, signs = [], []
    for label, dense, sets in _r2s_groups(f):
        best = float(sets["natural"].astype(float).max())
        gap = best - float(dense["natural"])
        e = se_diff(best, float(dense["natural"]), f.n_natural)
        signs.append(band(gap, e, -3.0))
        parts.append(f"{label}: best set's natural accuracy minus dense {fmt_band(gap, e)}")
    return Judged("; ".join(parts) + " (comparable: within 3 points)", every(signs))


# Sec. 9 ----------------------------------------------------------------------------------------

def _s9_panels(f: Facts):
    t = f.tables["fig6"]
    for panel, g in t.groupby("panel", sort=False):
        piv = g.pivot_table(index="ratio", columns="variant", values="pgd20")
        rtt = [c for c in piv.columns if c != "RST"][0]
        yield panel, piv["RST"], piv[rtt]


def s9_consistent(index: int) -> Callable[[Facts], Judged]:
    def judge(f: Facts) -> Judged:
        panels = list(_s9_panels(f))
        if index >= len(panels):
            return Judged("panel absent", NOT_TESTABLE)
        panel, rst, rtt = panels[index]
        signs = [band(a - b, se_diff(a, b, f.n_robust), 0.0) for a, b in zip(rst, rtt)]
        wins = int((rst > rtt).sum())
        return Judged(f"{panel}: RST ahead at {wins} of {len(rst)} ratios, clearly ahead at {signs.count(HOLDS)}, "
                      f"clearly behind at {signs.count(FAILS)}; gaps " +
                      ", ".join(f"{r:g}%: {fmt_gap(a - b)}" for r, a, b in zip(rst.index, rst, rtt)), every(signs))
    return judge


def s9_up_to(f: Facts) -> Judged:
    panels = list(_s9_panels(f))
    panel, rst, rtt = panels[0]  # the second task's panel comes first, as the paper's (a) SVHN-specific
    gaps = rst - rtt
    i = int(np.argmax(gaps.to_numpy()))
    e = se_diff(float(rst.iloc[i]), float(rtt.iloc[i]), f.n_robust)
    return Judged(f"{panel}: largest RST advantage {fmt_band(float(gaps.iloc[i]), e)} at {gaps.index[i]:g}% "
                  "(paper: up to +2.75 on SVHN)", band(float(gaps.iloc[i]), e, 0.0))


