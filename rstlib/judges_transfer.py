"""The rules that judge the claims of Secs. 5-9 (transfer, R2S, across tasks); see `rstlib.judges`."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

from rstlib.judges import Facts, Judged
from rstlib import noise
from rstlib.verdicts import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE, band, every, fmt_band, judge_gap, se_diff


# Sec. 5 / 7: transfer ----------------------------------------------------------------------------

def _paired(g: noise.Gap) -> str:
    low, high = g.band()
    return f"{g.value:+.2f} (95% band {low:+.2f} to {high:+.2f}, paired over {g.images} images)"


def poor_transfer(figure: str) -> Callable[[Facts, float], Judged]:
    """Every panel: mean off-diagonal minus mean diagonal >= the threshold, judged per image
    (paired: every cell of the matrix scores the same test images) with the one noise model."""
    def judge(f: Facts, threshold: float) -> Judged:
        tested = []
        parts, signs = [], []
        for panel, m in f.figures[figure].items():
            a = m.to_numpy(dtype=float)
            if a.shape[0] < 2:
                return Judged("fewer than two ratios: no off-diagonal", NOT_TESTABLE)
            diag, off = float(np.mean(np.diag(a))), float(np.mean(a[~np.eye(len(a), dtype=bool)]))
            cells = f.per_image.get(f"{figure}/{panel}")
            if cells is None:  # a dry run: no per-image results
                e = se_diff(diag, off, f.n_robust) / math.sqrt(len(a))
                signs.append(band(off - diag, e, threshold))
                parts.append(f"{panel}: off-diagonal {off:.2f} minus diagonal {diag:.2f} = {fmt_band(off - diag, e)}")
                continue
            labels = list(m.index)
            d = (np.mean([cells[(s, t)] for s in labels for t in labels if s != t], axis=0)
                 - np.mean([cells[(k, k)] for k in labels], axis=0))
            g = noise.level(d)
            signs.append(judge_gap(tested, g, threshold))
            parts.append(f"{panel}: off-diagonal {off:.2f} minus diagonal {diag:.2f} = {_paired(g)}")
        return Judged("; ".join(parts), every(signs), tested=tuple(tested))
    return judge


def table2_transfer(row: int) -> Callable[[Facts, float], Judged]:
    """Table 2 row `row`: RST accuracy under the transferred attack minus white-box, mean over the
    ratios, >= the threshold; paired per image where the per-image results are there."""
    def judge(f: Facts, threshold: float) -> Judged:
        tested = []
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
                          f"{_paired(g)}", judge_gap(tested, g, threshold), tested=tuple(tested))
        e = se_diff(float(t.iloc[row][cols].astype(float).mean()), float(white.mean()), f.n_robust) / math.sqrt(len(cols))
        return Judged(f"RST accuracy under the transferred attack minus white-box, mean over {len(cols)} ratios: "
                      f"{fmt_band(gap, e)}", band(gap, e, threshold), tested=tuple(tested))
    return judge


def sources_alike(figure: str) -> Callable[[Facts, float], Judged]:
    """Supplement Sec. 2 (3): the average robust accuracy under each attack source is similar.
    Per panel and attack source (a row of the transfer matrix), the row's mean over every target
    minus the mean over every row >= the threshold: an adversary who picks the strongest source
    gains at most that much over a random one. Paired per image."""
    def judge(f: Facts, threshold: float) -> Judged:
        tested, parts, signs = [], [], []
        for panel, m in f.figures[figure].items():
            labels = list(m.index)
            if len(labels) < 2:
                return Judged("fewer than two ratios: one attack source", NOT_TESTABLE)
            cells = f.per_image[f"{figure}/{panel}"]
            rows = {s: np.mean([cells[(s, t)] for t in labels], axis=0) for s in labels}
            overall = np.mean(list(rows.values()), axis=0)
            gaps = {s: noise.level(r.astype(float) - overall) for s, r in rows.items()}
            signs += [judge_gap(tested, g, threshold) for g in gaps.values()]
            weakest = min(gaps, key=lambda s: gaps[s].value)
            parts.append(f"{panel}: row means {min(100 * r.mean() for r in rows.values()):.1f} to "
                         f"{max(100 * r.mean() for r in rows.values()):.1f}; the strongest source ({weakest}) minus "
                         f"the average {_paired(gaps[weakest])}")
        return Judged("; ".join(parts), every(signs), tested=tuple(tested))
    return judge


# Sec. 6 / 8: R2S ---------------------------------------------------------------------------------

def _r2s_groups(f: Facts):
    t = f.tables["r2s"]
    for (d, net), g in t.groupby(["dataset", "network"], sort=False):
        yield f"{net} @ {d}", g[g.candidate_set == "dense"].iloc[0], g[g.candidate_set != "dense"]


def _r2s_bits(f: Facts, label: str, candidate_set: str, column: str):
    """Per image, the dense row's correctness or a candidate set's expected correctness on
    `column` (natural, pgd20_protocol), or None where the section has no per-image results."""
    rec = f.per_image.get(f"r2s/{label}/{candidate_set}")
    return None if rec is None else rec.get(column)


def _paired_or_binomial(f: Facts, label, a_set, b_set, column, a_value, b_value, n):
    """The gap a - b as a noise.Gap: paired per image where the per-image results are there,
    else (a dry run) the binomial band of two independent accuracies."""
    a, b = _r2s_bits(f, label, a_set, column), _r2s_bits(f, label, b_set, column)
    if a is not None and b is not None:
        return noise.gap(a, b)
    return noise.Gap(a_value - b_value, se_diff(a_value, b_value, n), 1, n)


def _band_text(g: noise.Gap) -> str:
    low, high = g.band()
    return f"{g.value:+.2f} ({low:+.2f} to {high:+.2f})"


def r2s_gain(column: str = "pgd20_protocol") -> Callable[[Facts, float], Judged]:
    """Every candidate set's R2S accuracy minus dense >= the threshold, paired per image."""
    def judge(f: Facts, threshold: float) -> Judged:
        tested = []
        parts, signs = [], []
        for label, dense, sets in _r2s_groups(f):
            for _, r in sets.iterrows():
                g = _paired_or_binomial(f, label, r.candidate_set, "dense", column, float(r[column]),
                                        float(dense[column]), f.n_robust)
                signs.append(judge_gap(tested, g, threshold))
                parts.append(f"{label} {{{r.candidate_set}}}: {_band_text(g)}")
        return Judged("R2S minus dense (95% band, paired per image): " + "; ".join(parts), every(signs), tested=tuple(tested))
    return judge


def s6_up_to(f: Facts, threshold: float) -> Judged:
    """The largest gain over the candidate sets, judged over every set (Bonferroni)."""
    tested = []
    parts, signs = [], []
    for label, dense, sets in _r2s_groups(f):
        base = _r2s_bits(f, label, "dense", "pgd20_protocol")
        cands = [_r2s_bits(f, label, s, "pgd20_protocol") for s in sets.candidate_set]
        if base is not None and all(c is not None for c in cands):
            g = noise.max_gap(cands, base)
        else:  # no per-image results (the paper's own numbers): two binomial errors per set
            dense_pgd = float(dense["pgd20_protocol"])
            g = noise.largest(noise.Gap(float(v) - dense_pgd, se_diff(float(v), dense_pgd, f.n_robust), 1, f.n_robust)
                              for v in sets["pgd20_protocol"])
        signs.append(judge_gap(tested, g, threshold))
        parts.append(f"{label}: largest gain {_band_text(g)}")
    return Judged("; ".join(parts) + " (95% band over every set; paper: up to +13.83 / +15.59 / +13.62 / +13.70)",
                  every(signs), tested=tuple(tested))


def _ratios(candidate_set: str) -> list[float]:
    """[3.0, 5.0, ...] from a table's "3%, 5%, ..." label."""
    return [float(x.strip().rstrip("%")) for x in candidate_set.split(",")]


def _widest(sets: pd.DataFrame) -> int:
    spans = [max(_ratios(s)) - min(_ratios(s)) for s in sets.candidate_set]
    return int(np.argmax(spans))


def _one_set_vs_the_rest(f: Facts, threshold: float, pick, column: str, n: int, what: str) -> Judged:
    """The candidate set chosen by `pick(sets)` against every other set on `column`, paired per
    image: holds when it is clearly ahead of every other set, does not hold when it is clearly
    behind one of them, else inconclusive."""
    tested = []
    parts, signs = [], []
    for label, _, sets in _r2s_groups(f):
        if len(sets) < 2:
            return Judged("one candidate set: nothing to compare", NOT_TESTABLE)
        i = pick(sets)
        mine = sets.iloc[i]
        gaps = [_paired_or_binomial(f, label, mine.candidate_set, other.candidate_set, column, float(mine[column]),
                                    float(other[column]), n)
                for j, (_, other) in enumerate(sets.iterrows()) if j != i]
        verdicts = [judge_gap(tested, g, threshold) for g in gaps]
        signs.append(FAILS if FAILS in verdicts else HOLDS if all(v == HOLDS for v in verdicts) else INCONCLUSIVE)
        closest = min(gaps, key=lambda g: g.value)
        parts.append(f"{label}: {what} {{{mine.candidate_set}}} minus the best other set {_band_text(closest)}")
    return Judged("; ".join(parts), every(signs), tested=tuple(tested))


def _recommended(sets: pd.DataFrame) -> int:
    """The set "within a specific range" that the paper recommends (the last row of Table 3): the
    one without the lowest ratios (the highest smallest ratio), and of those the one without the
    highest ratios (the lowest largest ratio)."""
    keys = [(min(_ratios(s)), -max(_ratios(s))) for s in sets.candidate_set]
    return max(range(len(keys)), key=lambda i: keys[i])


def s6_wider_more_robust(f: Facts, threshold: float) -> Judged:
    return _one_set_vs_the_rest(f, threshold, _widest, "pgd20_protocol", f.n_robust, "PGD-20 of the widest set")


def s6_extremes_cost_natural(f: Facts, threshold: float) -> Judged:
    """S6.4, both halves: the recommended set's natural accuracy minus that of every set reaching
    below its range ("too low") and of every set reaching above it ("too high"), paired per image.
    A half with no such set cannot be tested (the paper's own Table 3 has none above its last row)."""
    tested, parts, signs = [], [], []
    for label, _, sets in _r2s_groups(f):
        mine = sets.iloc[_recommended(sets)]
        low, high = min(_ratios(mine.candidate_set)), max(_ratios(mine.candidate_set))
        halves = {"too low": [o for _, o in sets.iterrows() if min(_ratios(o.candidate_set)) < low],
                  "too high": [o for _, o in sets.iterrows() if max(_ratios(o.candidate_set)) > high]}
        for half, others in halves.items():
            if not others:
                return Judged(f"no candidate set reaches {'below' if half == 'too low' else 'above'} the recommended "
                              f"range {{{mine.candidate_set}}}: the \"{half}\" half cannot be tested with these sets",
                              NOT_TESTABLE)
            for o in others:
                g = _paired_or_binomial(f, label, mine.candidate_set, o.candidate_set, "natural", float(mine.natural),
                                        float(o.natural), f.n_natural)
                signs.append(judge_gap(tested, g, threshold))
                parts.append(f"{label} ({half}): {{{mine.candidate_set}}} minus {{{o.candidate_set}}} {_band_text(g)}")
    return Judged("natural accuracy: " + "; ".join(parts), every(signs), tested=tuple(tested))


def s8_quoted_set_comparable_natural(f: Facts, threshold: float) -> Judged:
    """S8.2: the natural accuracy of the set behind the quoted gains (+14.95 / +15.09 are the
    paper's second row of Table 4, its widest set) minus the dense network's >= the threshold,
    paired per image (natural accuracies of the attacked images, where the R2S sets are scored)."""
    tested, parts, signs = [], [], []
    for label, dense, sets in _r2s_groups(f):
        mine = sets.iloc[_widest(sets)]
        g = _paired_or_binomial(f, label, mine.candidate_set, "dense", "natural", float(mine.natural),
                                float(dense.natural), f.n_natural)
        signs.append(judge_gap(tested, g, threshold))
        parts.append(f"{label}: {{{mine.candidate_set}}} natural {float(mine.natural):.2f} minus dense "
                     f"{float(dense.natural):.2f} = {_band_text(g)}")
    return Judged("; ".join(parts) + f" (comparable: not more than {-threshold:g} points below)", every(signs),
                  tested=tuple(tested))


def s7_rtt_r2s_better(f: Facts, threshold: float) -> Judged:
    """R2S over adversarial RTTs (Table 4) minus R2S over RSTs (Table 3), the k-th candidate set
    of each, paper protocol, > the threshold at every row; paired per image (the same images)."""
    if "r2s_rst" not in f.tables:
        return Judged("no R2S over RSTs beside the RTTs' at these knobs", NOT_TESTABLE)
    tested, parts, signs = [], [], []
    rst = f.tables["r2s_rst"]
    for label, _, sets in _r2s_groups(f):
        net, data = label.split(" @ ")
        theirs = rst[(rst.network == net) & (rst.dataset == data) & (rst.candidate_set != "dense")]
        for (_, a), (_, b) in zip(sets.iterrows(), theirs.iterrows()):
            x = _r2s_bits(f, label, a.candidate_set, "pgd20_protocol")
            rec = f.per_image.get(f"rst/r2s/{label}/{b.candidate_set}")
            y = None if rec is None else rec.get("pgd20_protocol")
            g = (noise.gap(x, y) if x is not None and y is not None else
                 noise.Gap(float(a.pgd20_protocol) - float(b.pgd20_protocol),
                           se_diff(float(a.pgd20_protocol), float(b.pgd20_protocol), f.n_robust), 1, f.n_robust))
            signs.append(judge_gap(tested, g, threshold))
            parts.append(f"{label}: RTTs {{{a.candidate_set}}} {float(a.pgd20_protocol):.1f} minus RSTs "
                         f"{{{b.candidate_set}}} {float(b.pgd20_protocol):.1f} = {_band_text(g)}")
    return Judged("R2S over adversarial RTTs minus R2S over RSTs (95% band, paired per image): " + "; ".join(parts),
                  every(signs), tested=tuple(tested))


def s6_recommended_set_robust(f: Facts, threshold: float) -> Judged:
    return _one_set_vs_the_rest(f, threshold, _recommended, "pgd20_protocol", f.n_robust,
                                "PGD-20 of the recommended set")


# Sec. 9 ----------------------------------------------------------------------------------------

def _s9_panels(f: Facts):
    t = f.tables["fig6"]
    for panel, g in t.groupby("panel", sort=False):
        piv = g.pivot_table(index="ratio", columns="variant", values="pgd20")
        rtt = [c for c in piv.columns if c != "RST"][0]
        yield panel, piv["RST"], piv[rtt]


def _s9_gaps(f: Facts, panel: str, rst: pd.Series, rtt: pd.Series) -> list[noise.Gap]:
    """RST minus transferred RTT at each ratio, paired per image where the results are there."""
    bits = f.per_image.get("fig6") or {}
    out = []
    for r, a, b in zip(rst.index, rst, rtt):
        pair = bits.get((panel, r))
        if pair is not None and all(x is not None for x in pair):
            out.append(noise.gap(*pair))
        else:
            out.append(noise.Gap(float(a) - float(b), se_diff(float(a), float(b), f.n_robust), 1, f.n_robust))
    return out


def _s9_test_images(f: Facts, panel: str) -> int | None:
    """As many images as the panel's task's test set holds (the two tasks' test sets differ)."""
    return (f.per_image.get("fig6/test_images") or {}).get(panel)


def s9_consistent(index: int) -> Callable[[Facts, float], Judged]:
    def judge(f: Facts, threshold: float) -> Judged:
        tested = []
        panels = list(_s9_panels(f))
        if index >= len(panels):
            return Judged("panel absent", NOT_TESTABLE)
        panel, rst, rtt = panels[index]
        gaps = _s9_gaps(f, panel, rst, rtt)
        signs = [judge_gap(tested, g, threshold) for g in gaps]
        wins = int((rst > rtt).sum())
        return Judged(f"{panel}: RST ahead at {wins} of {len(rst)} ratios, clearly ahead at {signs.count(HOLDS)}, "
                      f"clearly behind at {signs.count(FAILS)} (95% band, paired per image); gaps " +
                      ", ".join(f"{r:g}%: {_band_text(g)}" for r, g in zip(rst.index, gaps)), every(signs), tested=tuple(tested),
                      test_images=_s9_test_images(f, panel))
    return judge


def s9_up_to(f: Facts, threshold: float) -> Judged:
    """The largest RST advantage over the ratios, judged over every ratio (Bonferroni)."""
    tested = []
    panels = list(_s9_panels(f))
    panel, rst, rtt = panels[0]  # the second task's panel comes first, as the paper's (a) SVHN-specific
    gaps = _s9_gaps(f, panel, rst, rtt)
    i = int(np.argmax([g.value for g in gaps]))
    g = noise.largest(gaps)
    return Judged(f"{panel}: largest RST advantage {_band_text(g)} at {rst.index[i]:g}% (95% band over every "
                  "ratio; paper: up to +2.75 on SVHN)", judge_gap(tested, g, threshold), tested=tuple(tested),
                  test_images=_s9_test_images(f, panel))
