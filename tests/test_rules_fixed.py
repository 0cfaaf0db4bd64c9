"""The rules that no committed laptop table can test (they need two networks, or a candidate set
beyond Table 3's), judged on small fixed tables made here and on the paper's own numbers: each
outcome the rule allows is reached, and the numbers in its sentence are the hand computation."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from rstlib.paper.claims.calibration import paper_facts
from rstlib.paper.claims.facts import Facts
from rstlib.paper.claims.registry import REGISTRY
from rstlib.paper.claims.verdicts import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE

SPEC = {s.id: s for s in REGISTRY}
N = 1000  # images behind every number of the fixed tables


def _se(p: float, n: int = N) -> float:
    return 100 * math.sqrt(p / 100 * (1 - p / 100) / n)


def _r2s_facts(recommended: float, below: float, above: float) -> Facts:
    """One panel, Table 3's layout: dense, a set reaching below the recommended range, the
    recommended set and one reaching above it, with these natural accuracies."""
    rows = [("dense", 82.0), ("3%, 5%, 7%", below), ("7%, 10%, 15%", recommended), ("7%, 10%, 15%, 50%", above)]
    t = pd.DataFrame(
        [{"dataset": "D", "network": "N", "candidate_set": s, "natural": nat, "pgd20_protocol": 50.0} for s, nat in rows]
    )
    return Facts({"r2s": t}, {}, N, N, networks=1, datasets=1)


@pytest.mark.parametrize(
    ("recommended", "below", "above", "low_verdict", "high_verdict"),
    [(80.0, 70.0, 72.0, HOLDS, HOLDS), (70.0, 80.0, 72.0, FAILS, INCONCLUSIVE), (80.0, 79.9, 72.0, INCONCLUSIVE, HOLDS)],
)
def test_s6_4_judges_each_half_against_the_recommended_set(recommended, below, above, low_verdict, high_verdict):
    facts = _r2s_facts(recommended, below, above)
    low, high = SPEC["S6.4a"].judge(facts, 0.0), SPEC["S6.4b"].judge(facts, 0.0)
    assert (low.verdict, high.verdict) == (low_verdict, high_verdict)
    assert [round(g.value, 6) for g, _ in low.tested] == [round(recommended - below, 6)]
    assert [round(g.value, 6) for g, _ in high.tested] == [round(recommended - above, 6)]
    se = low.tested[0][0].se
    assert se == pytest.approx(math.hypot(_se(recommended), _se(below)))  # two binomial errors, no per-image results


def test_s6_4_too_high_is_not_testable_without_a_set_above_the_recommended_range():
    facts = _r2s_facts(80.0, 70.0, 72.0)
    facts.tables["r2s"] = facts.tables["r2s"].iloc[:3]
    j = SPEC["S6.4b"].judge(facts, 0.0)
    assert j.verdict == NOT_TESTABLE and "above the recommended" in j.measured
    assert SPEC["S6.4a"].judge(facts, 0.0).verdict == HOLDS


def _fig2(reinit_minus_rst: float) -> Facts:
    """Sec. 4's Fig. 2 for two networks at three ratios; on the second (WideResNet32) the
    re-initialised fine-tune sits `reinit_minus_rst` points above the RST at every ratio."""
    rows = []
    for net, shift in (("ResNet18", -5.0), ("WideResNet32", reinit_minus_rst)):
        for ratio in (5.0, 10.0, 30.0):
            base = 60.0 + ratio / 10
            for variant, nat in (("RST", base), ("FT_RST_Inherit", base + 1), ("FT_RST_Reinit", base + shift)):
                rows.append({"panel": f"{net} @ CIFAR-10", "ratio": ratio, "variant": variant, "natural": nat})
    return Facts({"fig2": pd.DataFrame(rows)}, {}, N, N, networks=2, datasets=1)


@pytest.mark.parametrize(("shift", "verdict"), [(6.0, HOLDS), (-6.0, FAILS), (0.5, INCONCLUSIVE)])
def test_s4_6_judges_the_wider_networks_reinitialised_fine_tune_against_its_rst(shift, verdict):
    spec = SPEC["S4.6"]
    j = spec.judge(_fig2(shift), spec.threshold)
    assert j.verdict == verdict
    ((g, _),) = j.tested
    assert g.value == pytest.approx(shift)  # the second network's panel only: the first's -5 is not in it
    assert "WideResNet32" in j.measured


def test_s4_6_is_not_testable_at_one_network():
    spec = SPEC["S4.6"]
    facts = _fig2(6.0)
    j = spec.judge(Facts(facts.tables, {}, N, N, networks=1, datasets=1), spec.threshold)
    assert j.verdict == NOT_TESTABLE


@pytest.mark.parametrize("claim", ["S3.2", "S3.3"])
def test_the_two_network_attack_claims_reach_every_outcome_on_the_papers_table_1(claim):
    """On the supplement's Table 1 (10,000 images, binomial errors): the registry's threshold, one
    far below, one far above and one moved onto a comparison give the three outcomes."""
    spec = SPEC[claim]
    facts = paper_facts("sec3")
    j = spec.judge(facts, spec.threshold)
    assert j.verdict == HOLDS  # the paper's own numbers pass its claim
    assert spec.judge(facts, -1e6).verdict == HOLDS and spec.judge(facts, 1e6).verdict == FAILS
    onto = {spec.judge(facts, spec.threshold + (g.value - t)).verdict for g, t in j.tested}
    assert INCONCLUSIVE in onto
