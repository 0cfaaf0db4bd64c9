"""The four outcomes of a claim and how one comparison, an "every" claim and a "mostly" claim reach
them: a comparison holds when its whole 95% band clears its threshold, does not hold when the band
lies below it, and is inconclusive when the threshold falls inside."""

from __future__ import annotations

import math

from rstlib.paper.claims import noise

HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE = "holds", "does not hold", "inconclusive", "not testable"


def gap_verdict(g: noise.Gap, threshold: float, family: int = 1) -> str:
    """holds when the whole 95% band of `g` clears `threshold`, does not hold when its upper end lies
    below it at the family-wise level over `family` comparisons (see `every`), inconclusive when
    the threshold falls inside (or there is no band)."""
    low = g.band()[0]
    high = g.band(family=family)[1] if g.interval is None else g.band()[1]
    if math.isnan(low) or math.isnan(high):
        return INCONCLUSIVE
    if low >= threshold:
        return HOLDS
    if high < threshold:
        return FAILS
    return INCONCLUSIVE


def judge_gap(tested: list, g: noise.Gap, threshold: float) -> str:
    """`gap_verdict` of one comparison, noting (g, threshold) in `tested` for the claim's decision
    statement."""
    tested.append((g, threshold))
    return gap_verdict(g, threshold)


def every(comparisons) -> str:
    """An "every / consistently" claim over its comparisons [(Gap, threshold), ...]: holds when every
    comparison's 95% band clears its threshold (an intersection-union test: no correction is
    needed), does not hold when at least one lies clearly below at the family-wise 95% level (the
    first step of Holm's procedure, i.e. Bonferroni over the k comparisons: with k = 12, one failing
    comparison at the plain 95% level would wrongly fail about a quarter of true claims),
    inconclusive otherwise."""
    comps = list(comparisons)
    if not comps:
        return INCONCLUSIVE
    k = len(comps)
    if any(gap_verdict(g, t, family=k) == FAILS for g, t in comps):
        return FAILS
    return HOLDS if all(gap_verdict(g, t) == HOLDS for g, t in comps) else INCONCLUSIVE


def majority(signs: list[str]) -> str:
    """A 'mostly' claim over points, each judged holds / does not hold / inconclusive: holds when
    clear wins are more than half, fails when clear losses are at least half."""
    if not signs:
        return INCONCLUSIVE
    wins, losses = signs.count(HOLDS), signs.count(FAILS)
    if wins > len(signs) / 2:
        return HOLDS
    if losses >= len(signs) / 2:
        return FAILS
    return INCONCLUSIVE
