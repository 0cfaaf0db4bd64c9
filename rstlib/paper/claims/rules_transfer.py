"""The rules of the transfer claims: adversarial transferability between RSTs and between adversarial
RTTs (Secs. 5 and 7), and RSTs against transferred RTTs across tasks (Sec. 9)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from rstlib.paper.claims import noise
from rstlib.paper.claims.facts import Facts, Judged, band_text, paired_text
from rstlib.paper.claims.spec import ClaimSpec
from rstlib.paper.claims.verdicts import COMPARABLE, FAILS, HOLDS, NOT_TESTABLE, every, judge_gap, se_diff

# Sec. 5 / 7: transfer ----------------------------------------------------------------------------


def _off_minus_diag(f: Facts, key: str, m: pd.DataFrame) -> tuple[noise.Gap, float, float]:
    """A transfer matrix's mean off-diagonal minus mean diagonal, per image (paired: every cell scores
    the same test images) where `f.per_image[key]` holds its cells, else (a dry run) one cell's
    binomial error, which bounds the means' (no 1 / sqrt(cells): the cells share their images)."""
    a = m.to_numpy(dtype=float)
    diag, off = float(np.mean(np.diag(a))), float(np.mean(a[~np.eye(len(a), dtype=bool)]))
    cells = f.per_image.get(key)
    if cells is None:
        return noise.Gap(off - diag, se_diff(diag, off, f.n_robust), 1, f.n_robust), diag, off
    labels = list(m.index)
    d = np.mean([cells[(s, t)] for s in labels for t in labels if s != t], axis=0) - np.mean(
        [cells[(k, k)] for k in labels], axis=0
    )
    return noise.level(d), diag, off


def poor_transfer(figure: str) -> Callable[[Facts, float], Judged]:
    """Every panel: mean off-diagonal minus mean diagonal >= the threshold, paired per image, on the
    authors' transfer examples (PGD-20 stopped at the first iterate that fools the source) and, where
    the profile measures it, on the last iterate too (`pgd20-last`): the claim holds only where
    transfer is poor under both, and the difference between the two is shown."""

    def judge(f: Facts, threshold: float) -> Judged:
        tested, parts = [], []
        last = f.figures.get(f"{figure}_last") or {}
        for panel, m in f.figures[figure].items():
            if m.shape[0] < 2:
                return Judged("fewer than two ratios: no off-diagonal", NOT_TESTABLE)
            g, diag, off = _off_minus_diag(f, f"{figure}/{panel}", m)
            judge_gap(tested, g, threshold)
            text = f"{panel}: off-diagonal {off:.2f} minus diagonal {diag:.2f} = {paired_text(g)}"
            if panel in last:
                g_last, diag_l, off_l = _off_minus_diag(f, f"{figure}_last/{panel}", last[panel])
                judge_gap(tested, g_last, threshold)
                text += (
                    f"; on the last iterate: off-diagonal {off_l:.2f} minus diagonal {diag_l:.2f} = {paired_text(g_last)} "
                    f"(last minus early-stopped: {g_last.value - g.value:+.2f})"
                )
            parts.append(text)
        if not last:
            parts.append("the last-iterate transfer is not yet measured at this profile (early-stopped examples only)")
        return Judged("; ".join(parts), every(tested), tested=tuple(tested))

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
            return Judged(
                f"RST accuracy under the transferred attack minus white-box, mean over {len(cols)} ratios: {paired_text(g)}",
                judge_gap(tested, g, threshold),
                tested=tuple(tested),
            )
        e = se_diff(float(t.iloc[row][cols].astype(float).mean()), float(white.mean()), f.n_robust)  # same images: no 1/sqrt
        g = noise.Gap(gap, e, 1, f.n_robust)
        return Judged(
            f"RST accuracy under the transferred attack minus white-box, mean over {len(cols)} ratios: {band_text(g)}",
            judge_gap(tested, g, threshold),
            tested=tuple(tested),
        )

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
            parts.append(
                f"{panel}: row means {min(100 * r.mean() for r in rows.values()):.1f} to "
                f"{max(100 * r.mean() for r in rows.values()):.1f}; the strongest source ({weakest}) minus "
                f"the average {paired_text(gaps[weakest])}"
            )
        return Judged("; ".join(parts), every(tested), tested=tuple(tested))

    return judge


# Sec. 6 / 8: R2S ---------------------------------------------------------------------------------


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
        return Judged(
            f"{panel}: RST ahead at {wins} of {len(rst)} ratios, clearly ahead at {signs.count(HOLDS)}, "
            f"clearly behind at {signs.count(FAILS)} (95% band, paired per image); gaps "
            + ", ".join(f"{r:g}%: {band_text(g)}" for r, g in zip(rst.index, gaps)),
            every(tested),
            tested=tuple(tested),
            test_images=_s9_test_images(f, panel),
        )

    return judge


def s9_up_to(f: Facts, threshold: float) -> Judged:
    """The largest RST advantage over the ratios, judged over every ratio (Bonferroni)."""
    tested = []
    panels = list(_s9_panels(f))
    panel, rst, rtt = panels[0]  # the second task's panel comes first, as the paper's (a) SVHN-specific
    gaps = _s9_gaps(f, panel, rst, rtt)
    i = int(np.argmax([g.value for g in gaps]))
    g = noise.largest(gaps)
    return Judged(
        f"{panel}: largest RST advantage {band_text(g)} at {rst.index[i]:g}% (95% band over every "
        "ratio; paper: up to +2.75 on SVHN)",
        judge_gap(tested, g, threshold),
        tested=tuple(tested),
        test_images=_s9_test_images(f, panel),
    )


C = COMPARABLE  # the book's one meaning of "comparable" (rstlib.paper.claims.verdicts)

CLAIMS: tuple[ClaimSpec, ...] = (
    ClaimSpec(
        "S5.1",
        "sec5",
        "the adversarial transferability between RSTs with different weight remaining ratios is "
        "consistently poor among all the considered networks and datasets",
        "every panel of Fig. 4: mean off-diagonal minus mean diagonal >= {t} points (95% band, paired per image), on the "
        "authors' examples (PGD-20 stopped where it fools the source) and, where measured, on the last iterate too",
        poor_transfer("fig4"),
        10.0,
    ),
    ClaimSpec(
        "S5.2",
        "sec5",
        "the adversarial transferability from the naturally [...] trained dense models to RSTs is still poor",
        "Table 2: RST accuracy under attacks from the naturally trained dense net minus white-box, "
        "mean over ratios, >= {t} (95% band, paired per image)",
        table2_transfer(0),
        10.0,
    ),
    ClaimSpec(
        "S5.3",
        "sec5",
        "the adversarial transferability from the [...] adversarially trained dense models to RSTs is still poor",
        "the same for the adversarially trained dense net (>= {t})",
        table2_transfer(1),
        10.0,
    ),
    ClaimSpec(
        "S5.4",
        "sec5",
        "the robust accuracy against the attacks from RSTs of the same remaining ratio still "
        "transfer poorly, indicating that the adversaries cannot train or search another subnetwork of the "
        "same remaining ratio as an effective proxy",
        "the same for the same-ratio RST of another seed (>= {t})",
        table2_transfer(2),
        10.0,
    ),
    ClaimSpec(
        "S2.1",
        "sec5",
        "the average robust accuracy under each attack RST (i.e., the RST with a specific weight "
        "remaining ratio for generating adversarial examples) is similar",
        "every panel of Fig. 4: each attack "
        "source's mean accuracy over the targets minus the mean over every source >= {t} (an adversary gains "
        "at most 3 points by choosing the source; 95% band, paired per image)",
        sources_alike("fig4"),
        -3.0,
    ),
    ClaimSpec(
        "S7.1",
        "sec7",
        "the adversarial transferability between adversarial RTTs with different weight remaining ratios is also poor",
        "every panel of Fig. 5: mean off-diagonal minus mean diagonal >= {t} (95% band, paired per image), on the authors' "
        "examples and, where measured, on the last iterate too",
        poor_transfer("fig5"),
        10.0,
    ),
    ClaimSpec(
        "S9.1",
        "sec9",
        "RSTs consistently outperform the transferred adversarial RTTs drawn from the "
        "adversarially trained network on another task",
        "second-task panel (Fig. 6a): at every ratio, RST PGD-20 accuracy minus the transferred adversarial RTT's > {t} "
        "(95% band, paired per image)",
        s9_consistent(0),
        0.0,
    ),
    ClaimSpec(
        "S9.2",
        "sec9",
        "RSTs consistently outperform the transferred adversarial RTTs drawn from the "
        "adversarially trained network on another task",
        "first-task panel (Fig. 6b): the same on the first task (> {t})",
        s9_consistent(1),
        0.0,
    ),
    ClaimSpec(
        "S9.3",
        "sec9",
        "RSTs achieve up to a 2.75% higher robust accuracy than transferred adversarial RTTs on "
        "SVHN under the same weight remaining ratio",
        "second task: the largest RST advantage > {t} (95% band, paired per image); the paper's figure printed beside",
        s9_up_to,
        0.0,
    ),
)
