"""The claims registry and its verdicts: three outcomes that respect noise, every claim of the
supplement listed, untestable claims kept with their reason, the paper's table layout."""
import math

import pandas as pd
import pytest

from rstlib import layout
from rstlib.claims import REGISTRY, judge
from rstlib.judges import Facts
from rstlib.verdicts import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE, band, headline_summary, se, verdict


def test_band_has_three_outcomes():
    assert band(10.0, 1.0, 5.0) == HOLDS          # 10 - 2 >= 5
    assert band(1.0, 1.0, 5.0) == FAILS           # 1 + 2 < 5
    assert band(4.0, 1.0, 5.0) == INCONCLUSIVE    # 5 inside [2, 6]
    assert band(math.nan, 1.0, 5.0) == INCONCLUSIVE


def test_binomial_standard_error():
    assert se(50.0, 100) == pytest.approx(5.0)
    assert se(50.0, 10_000) == pytest.approx(0.5)


def test_seed_verdict_flips_to_inconclusive_when_the_threshold_is_inside_the_band():
    mean, err, v = verdict([-2.8 + d for d in (-2.4, 0.1, 2.3)], -3.0)  # the -2.80 +- 2.12 case of the issue
    assert v == INCONCLUSIVE and mean == pytest.approx(-2.8)
    assert verdict([12.0, 13.0, 14.0], 10.0)[2] == HOLDS
    assert verdict([1.0, 2.0, 1.5], 5.0)[2] == FAILS
    assert verdict([20.0], 10.0)[2] == INCONCLUSIVE  # one seed gives no band


def test_headline_summary_judges_c1_and_c3_twice():
    per_seed = pd.DataFrame({"C1_best_rst_minus_dense": [1.0, 2.0, 1.5], "C1_strong": [-9.0, -8.0, -10.0],
                             "C2_offdiag_minus_diag": [15.0, 16.0, 14.0], "C3_r2s_minus_dense": [9.0, 10.0, 11.0],
                             "C3_strong": [-5.0, -6.0, -4.0]}, index=pd.Index([0, 1, 2], name="seed"))
    s = headline_summary(per_seed)
    assert list(s["judged under"]) == ["PGD-20", "strong", "PGD-20", "PGD-20", "strong"]
    assert list(s["verdict"]) == [HOLDS, FAILS, HOLDS, HOLDS, FAILS]


def test_every_section_of_the_supplement_has_claims_and_ids_are_unique():
    ids = [c.id for c in REGISTRY]
    assert len(ids) == len(set(ids)) and len(ids) >= 25
    assert {c.section for c in REGISTRY} == {f"sec{i}" for i in range(3, 10)}
    assert all(c.quote and c.rule for c in REGISTRY)


def _r2s_facts(gain: float, n: int) -> Facts:
    rows = [{"dataset": "D", "network": "N", "candidate_set": "dense", "natural": 80.0, "pgd20_protocol": 40.0}]
    for cs, g in (("3%, 5%", gain), ("3%, 5%, 30%", gain + 5), ("7%, 10%", gain - 1)):
        rows.append({"dataset": "D", "network": "N", "candidate_set": cs, "natural": 79.0, "pgd20_protocol": 40.0 + g})
    return Facts({"r2s": pd.DataFrame(rows)}, {}, n_natural=n, n_robust=n, networks=1, datasets=1)


def test_r2s_gain_claim_holds_fails_or_is_inconclusive_with_the_evidence():
    by_id = lambda f: {c.id: c for c in judge("sec6", f)}  # noqa: E731
    assert by_id(_r2s_facts(12.0, 10_000))["S6.1"].verdict == HOLDS
    assert by_id(_r2s_facts(-3.0, 10_000))["S6.1"].verdict == FAILS
    assert by_id(_r2s_facts(6.0, 100))["S6.1"].verdict == INCONCLUSIVE  # 100 images: a band of ~14 points
    wider = by_id(_r2s_facts(12.0, 10_000))["S6.3"]
    assert wider.verdict == HOLDS and "3%, 5%, 30%" in wider.measured


def test_a_two_network_claim_at_one_network_is_listed_as_not_testable_with_the_reason():
    t = pd.DataFrame([{"network": "SmallCNN", "model": "dense_adv_trained", "remaining_ratio_pct": 100.0,
                       "natural": 70.0, "pgd20": 40.0, "autoattack_eps24": 35.0},
                      {"network": "SmallCNN", "model": "rst", "remaining_ratio_pct": 10.0,
                       "natural": 65.0, "pgd20": 41.0, "autoattack_eps24": 34.0}])
    claims = {c.id: c for c in judge("sec3", Facts({"table1": t}, {}, 1000, 100, networks=1, datasets=1))}
    assert claims["S3.3"].verdict == NOT_TESTABLE and "one network" in claims["S3.3"].measured
    assert claims["S3.1"].verdict in (HOLDS, INCONCLUSIVE)


def test_tables_3_and_4_in_the_paper_layout_with_our_columns_to_the_right():
    rows = [{"dataset": "Fashion-MNIST", "network": "SmallCNN", "candidate_set": "dense", "natural": 80.0,
             "pgd20_protocol": 40.0, "strong": 35.0}]
    rows.append({"dataset": "Fashion-MNIST", "network": "SmallCNN", "candidate_set": "7%, 10%", "natural": 78.0,
                 "pgd20_protocol": 50.0, "pgd20_eot_loss": 38.0, "pgd20_eot_logits": 39.0, "pgd20_eot_loss_margin": 36.0,
                 "pgd20_eot_logits_margin": 37.0, "autoattack_rand": 40.0, "strong": 33.0})
    wide = layout.r2s_table(pd.DataFrame(rows))
    assert list(wide.index) == ["dense", "7%, 10%"]
    metrics = [m for _, _, m in wide.columns]
    assert metrics[:2] == ["natural", "PGD-20"] and all("(ours)" in m for m in metrics[2:])
    assert layout.cell(41.2, 46.39) == "41.20 (46.39, -5.19)"
