"""The rules of the R2S claims (Secs. 6 and 8): the gain of Random RST Switch over the dense network,
one candidate set against the others, R2S over adversarial RTTs against R2S over RSTs."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from rstlib.paper.claims import noise
from rstlib.paper.claims.facts import Facts, Judged, band_text
from rstlib.paper.claims.r2s_gains import largest_gain, r2s_bits, r2s_gain, r2s_groups, s6_up_to, set_gap
from rstlib.paper.claims.spec import ClaimSpec
from rstlib.paper.claims.verdicts import COMPARABLE, FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE, every, judge_gap, se_diff


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
    for label, _, sets in r2s_groups(f):
        if len(sets) < 2:
            return Judged("one candidate set: nothing to compare", NOT_TESTABLE)
        i = pick(sets)
        mine = sets.iloc[i]
        gaps = [
            set_gap(f, label, mine.candidate_set, other.candidate_set, column, float(mine[column]), float(other[column]), n)
            for j, (_, other) in enumerate(sets.iterrows())
            if j != i
        ]
        verdicts = [judge_gap(tested, g, threshold) for g in gaps]
        signs.append(FAILS if FAILS in verdicts else HOLDS if all(v == HOLDS for v in verdicts) else INCONCLUSIVE)
        closest = min(gaps, key=lambda g: g.value)
        parts.append(f"{label}: {what} {{{mine.candidate_set}}} minus the best other set {band_text(closest)}")
    return Judged("; ".join(parts), every(tested), tested=tuple(tested))


def _recommended(sets: pd.DataFrame) -> int:
    """The set "within a specific range" that the paper recommends (the last row of Table 3): the
    one without the lowest ratios (the highest smallest ratio), and of those the one without the
    highest ratios (the lowest largest ratio)."""
    keys = [(min(_ratios(s)), -max(_ratios(s))) for s in sets.candidate_set]
    return max(range(len(keys)), key=lambda i: keys[i])


def s6_wider_more_robust(f: Facts, threshold: float) -> Judged:
    return _one_set_vs_the_rest(f, threshold, _widest, "pgd20_protocol", f.n_robust, "PGD-20 of the widest set")


def extremes_cost_natural(half: str) -> Callable[[Facts, float], Judged]:
    """S6.4, one half: the recommended set's natural accuracy minus that of every set reaching below
    its range ("too low") or above it ("too high"), paired per image. A half with no such set
    cannot be tested (the paper's own Table 3 has none above its last row)."""

    def judge(f: Facts, threshold: float) -> Judged:
        tested, parts = [], []
        for label, _, sets in r2s_groups(f):
            mine = sets.iloc[_recommended(sets)]
            low, high = min(_ratios(mine.candidate_set)), max(_ratios(mine.candidate_set))
            reach = (lambda o: min(_ratios(o)) < low) if half == "too low" else (lambda o: max(_ratios(o)) > high)
            others = [o for _, o in sets.iterrows() if reach(o.candidate_set)]
            if not others:
                return Judged(
                    f"no candidate set reaches {'below' if half == 'too low' else 'above'} the recommended "
                    f'range {{{mine.candidate_set}}}: the "{half}" half cannot be tested with these sets',
                    NOT_TESTABLE,
                )
            for o in others:
                g = set_gap(
                    f, label, mine.candidate_set, o.candidate_set, "natural", float(mine.natural), float(o.natural), f.n_natural
                )
                judge_gap(tested, g, threshold)
                parts.append(f"{label}: {{{mine.candidate_set}}} minus {{{o.candidate_set}}} {band_text(g)}")
        return Judged("natural accuracy: " + "; ".join(parts), every(tested), tested=tuple(tested))

    return judge


def s8_quoted_set_comparable_natural(f: Facts, threshold: float) -> Judged:
    """S8.2: the natural accuracy of the set behind the quoted gains (+14.95 / +15.09 are the
    paper's second row of Table 4, its widest set) minus the dense network's >= the threshold,
    paired per image (natural accuracies of the attacked images, where the R2S sets are scored)."""
    tested, parts, signs = [], [], []
    for label, dense, sets in r2s_groups(f):
        mine = sets.iloc[_widest(sets)]
        g = set_gap(f, label, mine.candidate_set, "dense", "natural", float(mine.natural), float(dense.natural), f.n_natural)
        signs.append(judge_gap(tested, g, threshold))
        parts.append(
            f"{label}: {{{mine.candidate_set}}} natural {float(mine.natural):.2f} minus dense "
            f"{float(dense.natural):.2f} = {band_text(g)}"
        )
    return Judged(
        "; ".join(parts) + f" (comparable: not more than {-threshold:g} points below)", every(tested), tested=tuple(tested)
    )


def s7_rtt_r2s_better(f: Facts, threshold: float) -> Judged:
    """R2S over adversarial RTTs (Table 4) minus R2S over RSTs (Table 3), the k-th candidate set
    of each, paper protocol, > the threshold at every row; paired per image (the same images)."""
    if "r2s_rst" not in f.tables:
        return Judged("no R2S over RSTs beside the RTTs' at these knobs", NOT_TESTABLE)
    tested, parts, signs = [], [], []
    rst = f.tables["r2s_rst"]
    for label, _, sets in r2s_groups(f):
        net, data = label.split(" @ ")
        theirs = rst[(rst.network == net) & (rst.dataset == data) & (rst.candidate_set != "dense")]
        for (_, a), (_, b) in zip(sets.iterrows(), theirs.iterrows()):
            x = r2s_bits(f, label, a.candidate_set, "pgd20_protocol")
            rec = f.per_image.get(f"rst/r2s/{label}/{b.candidate_set}")
            y = None if rec is None else rec.get("pgd20_protocol")
            g = (
                noise.gap(x, y)
                if x is not None and y is not None
                else noise.Gap(
                    float(a.pgd20_protocol) - float(b.pgd20_protocol),
                    se_diff(float(a.pgd20_protocol), float(b.pgd20_protocol), f.n_robust),
                    1,
                    f.n_robust,
                )
            )
            signs.append(judge_gap(tested, g, threshold))
            parts.append(
                f"{label}: RTTs {{{a.candidate_set}}} {float(a.pgd20_protocol):.1f} minus RSTs "
                f"{{{b.candidate_set}}} {float(b.pgd20_protocol):.1f} = {band_text(g)}"
            )
    return Judged(
        "R2S over adversarial RTTs minus R2S over RSTs (95% band, paired per image): " + "; ".join(parts),
        every(tested),
        tested=tuple(tested),
    )


def s6_recommended_set_robust(f: Facts, threshold: float) -> Judged:
    return _one_set_vs_the_rest(f, threshold, _recommended, "pgd20_protocol", f.n_robust, "PGD-20 of the recommended set")


C = COMPARABLE  # the book's one meaning of "comparable" (rstlib.paper.claims.verdicts)

CLAIMS: tuple[ClaimSpec, ...] = (
    ClaimSpec(
        "S6.1",
        "sec6",
        "R2S consistently and aggressively improves the robust accuracy compared with the adversarially trained dense baselines",
        "every candidate set, network and dataset: R2S (paper protocol) minus dense >= {t} points (95% band, paired per image)",
        r2s_gain(),
        5.0,
    ),
    ClaimSpec(
        "S6.2",
        "sec6",
        "up to a 13.83%/15.59% and 13.62%/13.70% robust accuracy improvement on top of "
        "ResNet18/WideResNet32 on CIFAR-10 and CIFAR-100",
        "the size: the largest gain of each (network, dataset) minus the paper's figure for it >= {t} (comparable; "
        "95% band over every set, paired per image), on the paper's networks and data only",
        s6_up_to,
        C,
    ),
    ClaimSpec(
        "S6.3",
        "sec6",
        "R2S when using a candidate RST set with a wider range can generally achieve a better robust accuracy",
        "the set spanning the widest range of ratios minus every other set (paper protocol) >= {t} (95% band, paired per image)",
        s6_wider_more_robust,
        0.0,
    ),
    ClaimSpec(
        "S6.4a",
        "sec6",
        "RSTs with weight remaining ratios that are too low [...] will influence the average natural accuracy",
        "the recommended set (the paper's last row: without the lowest ratios, nor higher ones) minus every set "
        "reaching below its range, natural accuracy >= {t} (95% band, paired per image)",
        extremes_cost_natural("too low"),
        0.0,
    ),
    ClaimSpec(
        "S6.4b",
        "sec6",
        "RSTs with weight remaining ratios that are [...] too high will influence the average natural accuracy",
        "the recommended set minus every set reaching above its range, natural accuracy >= {t} (95% band, paired per image)",
        extremes_cost_natural("too high"),
        0.0,
    ),
    ClaimSpec(
        "S6.5",
        "sec6",
        "it is suggested that the candidate RST sets are constructed within a specific range, e.g., the last row in Tab. 3",
        "the recommended set (the last row) minus every other "
        "set, PGD-20 (paper protocol), >= {t}: as robust as the others (comparable) while S6.4 asks for its "
        "natural accuracy (95% band, paired per image)",
        s6_recommended_set_robust,
        C,
    ),
    ClaimSpec(
        "S7.2",
        "sec8",
        "R2S [...] can be also applied on top of adversarial RTTs [...] which can potentially achieve better performance",
        "judged where Tables 3 and 4 meet (the Sec. 8 page): at every row, R2S over "
        "adversarial RTTs minus R2S over RSTs (the k-th candidate set of each, paper protocol) > {t} (95% band, "
        "paired per image)",
        s7_rtt_r2s_better,
        0.0,
    ),
    ClaimSpec(
        "S8.1",
        "sec8",
        "it can also aggressively improve the robust accuracy, e.g., a 14.95% and 15.09% robust "
        "accuracy improvement [...] over the adversarially trained dense networks",
        'read as written ("can [...] e.g." names the best sets): the largest gain of R2S over adversarial RTTs '
        "(paper protocol) over dense, per (network, dataset), >= {t} (95% band over every set, paired per image)",
        largest_gain("+14.95 / +15.09"),
        5.0,
    ),
    ClaimSpec(
        "S8.2",
        "sec8",
        "with a comparable natural accuracy",
        "the set behind the quoted gains (the widest, "
        "the paper's second row: 65.14 - 50.19 = 14.95, 42.03 - 26.94 = 15.09): its natural accuracy minus the "
        "dense network's >= {t} (95% band, paired per image)",
        s8_quoted_set_comparable_natural,
        C,
    ),
)
