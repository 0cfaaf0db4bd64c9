"""Sec. 4's rules on small fixed tables: natural accuracies paired per image, "best" judged
against every rival (no selection bias), S4.2's rank correlation with a band and all three
outcomes reachable, and the binomial fallback for a table without per-image results."""

import numpy as np
import pandas as pd
import pytest

from rstlib.paper.claims.facts import Facts
from rstlib.paper.claims.rules_natural import s4_adv_rtt_best, s4_rank_matches_robust, s4_skc_best
from rstlib.paper.claims.verdicts import FAILS, HOLDS, INCONCLUSIVE

PANEL = "SmallCNN @ Fashion-MNIST"
INITS = ["Signed Kaiming Constant", "Kaiming Normal", "Kaiming Uniform", "Xavier Normal"]
RATIOS = [10.0, 30.0]


def _draw(rng, p: float, n: int) -> np.ndarray:
    return rng.random(n) < p


def _fig1(natural: dict, robust: dict, n_nat=4000, n_rob=1000, seed=0):
    """A Fig. 1 table and its per-image results: `natural[init]` / `robust[init]` are each init's
    true accuracy (the same at both ratios); every init meets the same images."""
    rng = np.random.default_rng(seed)
    rows, bits = [], {}
    for r in RATIOS:
        for init in INITS:
            nat, rob = _draw(rng, natural[init], n_nat), _draw(rng, robust[init], n_rob)
            bits[(PANEL, init, r)], bits[(PANEL, init, r, "pgd20")] = nat, rob
            rows.append({"panel": PANEL, "init": init, "ratio": r, "natural": 100 * nat.mean(), "pgd20": 100 * rob.mean()})
    table = pd.DataFrame(rows)
    return Facts({"fig1": table}, {"fig1": table}, n_nat, n_rob, 1, 1, per_image={"fig1": bits}, test_images=10_000)


def test_init_ranking_reaches_all_three_outcomes():
    """Kendall tau >= 1/3 with a bootstrap band over images: the same order under both
    measures holds, the reversed order fails, four indistinguishable inits stay open."""
    acc = dict(zip(INITS, (0.80, 0.75, 0.70, 0.65)))
    same = s4_rank_matches_robust(_fig1(acc, {k: v - 0.3 for k, v in acc.items()}), 1 / 3)
    assert same.verdict == HOLDS and "Kendall tau +1.00" in same.measured and "paired" in same.measured
    reversed_ = s4_rank_matches_robust(_fig1(acc, {k: 1.15 - v for k, v in acc.items()}), 1 / 3)
    assert reversed_.verdict == FAILS and "Kendall tau -1.00" in reversed_.measured
    flat = s4_rank_matches_robust(_fig1(dict.fromkeys(INITS, 0.7), dict.fromkeys(INITS, 0.4), n_nat=300, n_rob=300), 1 / 3)
    assert flat.verdict == INCONCLUSIVE
    ((gap, _),) = flat.tested
    assert gap.se > 0.2 and gap.unit == "in tau"
    from rstlib.paper.claims.verdicts import deciding

    assert "points" not in deciding(flat.tested, 10_000)  # what would decide it, in the unit of tau


def test_init_ranking_band_does_not_depend_on_the_run():
    """The bootstrap has a fixed generator: the same facts give the same band, byte for byte."""
    facts = _fig1(dict.fromkeys(INITS, 0.7), dict.fromkeys(INITS, 0.4), n_nat=300, n_rob=300)
    assert s4_rank_matches_robust(facts, 1 / 3).measured == s4_rank_matches_robust(facts, 1 / 3).measured


def test_init_ranking_without_per_image_results_uses_binomial_errors():
    """The paper's own numbers have no per-image results: a parametric bootstrap from binomial
    errors still gives all the outcomes (clear orders at 10,000 images decide)."""
    acc = dict(zip(INITS, (0.80, 0.75, 0.70, 0.65)))
    f = _fig1(acc, {k: v - 0.3 for k, v in acc.items()})
    bare = Facts(f.tables, f.figures, 10_000, 10_000, 1, 1)
    judged = s4_rank_matches_robust(bare, 1 / 3)
    assert judged.verdict == HOLDS and "binomial" in judged.measured


def test_best_initialisation_is_judged_against_every_rival_not_the_best_looking_one():
    """SKC leads the best-looking rival clearly (the two agree on almost every image, so the
    paired band is narrow), but a rival a little further behind disagrees with it on many images:
    judged against every rival the point is open; a clear lead over all holds, a clear deficit fails."""
    rng = np.random.default_rng(1)
    n = 2000

    def exactly(k: int, within=None) -> np.ndarray:  # k images right, at random places (inside `within`)
        pool = np.flatnonzero(within) if within is not None else np.arange(n)
        b = np.zeros(n, dtype=bool)
        b[rng.choice(pool, k, replace=False)] = True
        return b

    skc = exactly(1500)  # 75.00%
    twin = exactly(1485, within=skc)  # 74.25%: a near copy, 0.75 behind, tiny paired SE
    loose = exactly(1470)  # 73.50%: independent of SKC, 1.5 behind, wide band
    far = [rng.random(n) < 0.60, rng.random(n) < 0.60]

    def facts(models):
        rows, bits = [], {}
        for init, b in zip(INITS, models):
            bits[(PANEL, init, 10.0)] = b
            rows.append({"panel": PANEL, "init": init, "ratio": 10.0, "natural": 100 * b.mean(), "pgd20": 50.0})
        t = pd.DataFrame(rows)
        return Facts({"fig1": t}, {"fig1": t}, n, n, 1, 1, per_image={"fig1": bits})

    open_ = s4_skc_best(facts([skc, twin, loose, far[0]]), 0.0)
    assert 100 * twin.mean() > 100 * loose.mean()  # the best-looking rival is the twin ...
    assert open_.verdict == INCONCLUSIVE  # ... but SKC is not clearly ahead of the loose one
    assert len(open_.tested) == 3  # one comparison per rival
    assert s4_skc_best(facts([skc, *far, far[0] & far[1]]), 0.0).verdict == HOLDS
    behind = rng.random(n) < 0.85
    assert s4_skc_best(facts([skc, behind, *far]), 0.0).verdict == FAILS


@pytest.mark.parametrize("adv, verdict", [(0.80, HOLDS), (0.60, FAILS)])
def test_adversarial_rtt_mostly_best_is_paired_per_point(adv, verdict):
    rng = np.random.default_rng(2)
    n = 2000
    rows, bits = [], {}
    for r in (5.0, 10.0, 30.0):
        for name, p in (("RST", 0.70), ("Natural_RTT", 0.68), ("Adv_RTT", adv)):
            b = rng.random(n) < p
            bits[(PANEL, name, r)] = b
            rows.append({"panel": PANEL, "variant": name, "ratio": r, "natural": 100 * b.mean()})
    t = pd.DataFrame(rows)
    judged = s4_adv_rtt_best(Facts({"fig3": t}, {"fig3": t}, n, n, 1, 1, per_image={"fig3": bits}), 0.0)
    assert judged.verdict == verdict and len(judged.tested) == 6
