"""What would decide a claim (variance components, the cheapest budget either way), the family-wise
"does not hold" of an "every" claim, and the coverage of every band family (numpy only, fast)."""

import math

import numpy as np
import pytest
from scipy.stats import norm
from scipy.stats import t as student

from rstlib.paper.claims import noise
from rstlib.paper.claims.decisions import MAX_SEEDS, budget, deciding, decision
from rstlib.paper.claims.outcomes import FAILS, HOLDS, INCONCLUSIVE, every

# C1 at the laptop's size: 3 seeds x 500 images; the per-image variance of a paired RST - dense
# difference is about 0.19 (points^2: 1,900); a seed-to-seed variance of one seed's gap of 1.2.
C1 = noise.Parts(seed=1.2, image=1900.0, residual=0.0, seed_dof=2.0)


def _c1(value: float) -> noise.Gap:
    v = C1.variance(3, 500)
    return noise.Gap(value, math.sqrt(v), 3, 500, C1.dof(3, 500), parts=C1)


def test_variance_components_by_hand():
    """The mean squares of a 2 x 3 table, by hand: E[MS_seeds] = N sa^2 + se^2, E[MS_images] = S sb^2 + se^2."""
    d = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    p = noise.components(d)
    grand, rows, cols = d.mean(), d.mean(1), d.mean(0)
    ms_s = 3 * ((rows - grand) ** 2).sum() / 1
    ms_i = 2 * ((cols - grand) ** 2).sum() / 2
    ms_e = ((d - rows[:, None] - cols[None] + grand) ** 2).sum() / 2
    assert p.seed == pytest.approx(1e4 * max(ms_s - ms_e, 0) / 3)
    assert p.image == pytest.approx(1e4 * max(ms_i - ms_e, 0) / 2)
    assert p.residual == pytest.approx(1e4 * ms_e)


def test_c1_at_500_images_cannot_reach_plus_minus_one_with_any_seed_count():
    """The image part does not shrink with seeds: at 500 images the band's half-width stays above
    1.96 x sqrt(1900 / 500) = 3.8 points however many seeds; so a gap 1 point from its threshold
    needs more images, and the budget says so."""
    floor = norm.ppf(0.975) * math.sqrt(1900 / 500)
    assert floor > 3.8
    for seeds in (3, 30, 10_000):
        half = student.ppf(0.975, C1.dof(seeds, 500)) * math.sqrt(C1.variance(seeds, 500))
        assert half > floor
    # a gap 1 point from its threshold cannot be decided at 3 seeds on any image count: the seed
    # part alone (1.2 / 3) keeps the half-width above 1.96 x 0.63 = 1.24
    assert student.ppf(0.975, 1e6) * math.sqrt(1.2 / 3) > 1.0
    seeds, _ = budget(_c1(-4.5), -3.5, test_images=10_000)
    assert seeds > 3
    # 2.5 points away: at 3 seeds, by hand, the fewest images with t(dof) x sqrt(1.2 / 3 + 1900 / N) < 2.5
    n = 500
    while student.ppf(0.975, C1.dof(3, n)) * math.sqrt(C1.variance(3, n)) >= 2.5:
        n += 1
    assert 1_500 < n < 2_000  # the t quantile at the Satterthwaite dof (the seed part has 2) widens it past z
    assert budget(_c1(-6.0), -3.5, test_images=10_000) == (3, n)  # cheaper than a fourth seed (6,000 + 4 x ~1,430)
    assert decision(_c1(-6.0), -3.5, test_images=10_000).startswith(f"about {n:,} images at each of the 3 seeds")


def test_a_gap_on_its_threshold_is_decided_by_no_budget_on_the_test_set_and_the_statement_says_so():
    """-3.33 against -3.5 is within the 0.5-point resolution: the band must shrink to +-0.5; the
    seed part alone at 20 seeds (1.2 / 20) with the t quantile keeps it wider at 10,000 images."""
    g = _c1(-3.33)
    assert budget(g, -3.5, test_images=10_000) is None
    text = decision(g, -3.5, test_images=10_000)
    assert text.startswith(f"no budget on this test set decides it: even {MAX_SEEDS} seeds x all 10,000 test images")


def test_seeds_are_bought_where_the_seed_part_dominates():
    """A large seed-to-seed variance and a small image one: more seeds, not more images."""
    p = noise.Parts(seed=16.0, image=50.0, residual=0.0, seed_dof=2.0)
    g = noise.Gap(-8.0, math.sqrt(p.variance(3, 500)), 3, 500, p.dof(3, 500), parts=p)
    seeds, images = budget(g, -3.5, test_images=10_000)
    assert seeds > 3 and images == 500
    assert decision(g, -3.5, test_images=10_000).startswith(f"about {seeds} seeds at 500 images each")


def test_the_cheapest_comparison_that_decides_does_not_hold_is_named():
    """An "every" claim with one comparison at -4 (it can only fail) and two near the threshold on
    the upper side: the statement names the -4 comparison's budget, at the family-wise level over
    the three, not the dearest comparison's."""
    one_seed = noise.Parts(seed=None, image=6400.0, residual=0.0)

    def g(value):
        return noise.Gap(value, math.sqrt(6400.0 / 1000), 1, 1000, 999.0, parts=one_seed)

    tested = [(g(-4.0), 0.0), (g(0.3), 0.0), (g(0.6), 0.0)]
    assert every(tested) == INCONCLUSIVE
    need = budget(g(-4.0), 0.0, family=3, test_images=10_000)
    n = 1000  # by hand: the fewest images with t(N - 1) x sqrt(6400 / N) < 4 at the family-wise 1 - 0.025 / 3
    while student.ppf(1 - 0.025 / 3, n - 1) * math.sqrt(6400 / n) >= 4.0:
        n += 1
    assert need == (1, n) and abs(n - math.ceil(6400 * (norm.ppf(1 - 0.025 / 3) / 4.0) ** 2)) < 10
    assert deciding(tested, 10_000).startswith(f"about {need[1]:,} images")
    assert "gap -4.0 against +0" in deciding(tested, 10_000)


def test_every_fails_only_at_the_family_wise_level():
    """One of twelve comparisons 2.2 standard errors below its threshold fails on its own 95% band
    but not at the family-wise level (Bonferroni over 12 needs about 2.87): the claim is open, not
    failed; at 3.2 standard errors it fails."""
    fine = [(noise.Gap(5.0, 1.0, 1, 1000, 999.0), 0.0)] * 11
    assert every(fine + [(noise.Gap(-2.2, 1.0, 1, 1000, 999.0), 0.0)]) == INCONCLUSIVE
    assert every(fine + [(noise.Gap(-3.2, 1.0, 1, 1000, 999.0), 0.0)]) == FAILS
    assert every(fine + [(noise.Gap(2.5, 1.0, 1, 1000, 999.0), 0.0)]) == HOLDS


def test_a_borrowed_seed_term_widens_a_one_seed_band_and_is_named():
    g = noise.gap(np.r_[np.ones(300), np.zeros(200)], np.r_[np.ones(280), np.zeros(220)])
    term = noise.SeedTerm(4.0, 3, "the intro's 3 seeds")
    with noise.borrowed_seed_term(term):
        wide = noise.gap(np.r_[np.ones(300), np.zeros(200)], np.r_[np.ones(280), np.zeros(220)])
    assert wide.se == pytest.approx(math.sqrt(g.se**2 + 4.0))
    assert wide.dof < g.dof and wide.parts.seed_from == "the intro's 3 seeds"
    assert noise.gap([1, 0, 1, 1], [0, 0, 1, 1]).parts.seed is None  # outside the block: none borrowed


# -- coverage of every band family (simulation) ---------------------------------------------------


def _population_models(rng, images, gap_true=0.1):
    difficulty = rng.normal(0, 1.2, images)
    a = difficulty + 0.25 + gap_true / 2 + rng.normal(0, 0.6, images) > 0
    b = difficulty + 0.25 - gap_true / 2 + rng.normal(0, 0.6, images) > 0
    return a, b


def test_the_percentile_band_of_a_rank_statistic_stays_in_its_range_and_covers():
    """S4.2's band: a percentile bootstrap of Kendall tau over test images never leaves [-1, 1],
    and covers the tau of the population means about 95% of the time (four models whose natural
    and robust accuracies are ordered alike, with small gaps)."""
    from rstlib.paper.claims.rules_natural import _kendall, _tau_gap

    rng = np.random.default_rng(3)
    shifts = np.array([0.0, 0.08, 0.16, 0.24])
    truth = 1.0
    covered, trials = 0, 200
    for _ in range(trials):
        n = 400
        hard = rng.normal(0, 1, n)
        nat = np.stack([hard + s + rng.normal(0, 0.7, n) > 0 for s in shifts]).astype(float)
        rob = np.stack([hard + s - 0.6 + rng.normal(0, 0.7, n) > 0 for s in shifts]).astype(float)

        def resample(x):
            return lambda r: x[:, r.integers(0, n, n)].mean(axis=1)

        g = _tau_gap(nat.mean(1), rob.mean(1), resample(nat), resample(rob), n)
        low, high = g.band()
        assert -1.0 <= low <= high <= 1.0
        covered += low <= truth <= high
    assert _kendall([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0
    assert covered / trials >= 0.9, covered / trials


def test_the_family_wise_fail_rule_keeps_false_failures_at_the_nominal_rate():
    """Twelve true comparisons sitting exactly on their threshold (the worst case): "does not hold"
    fires at most about 2.5% of the time under `every` (it would fire about a quarter of the time at
    the plain level per comparison)."""
    rng = np.random.default_rng(5)
    fails, trials = 0, 400
    for _ in range(trials):
        tested = []
        for _ in range(12):
            a, b = _population_models(rng, 300, gap_true=0.0)
            g = noise.gap(a, b)
            tested.append((g, 0.0))
        fails += every(tested) == FAILS
    assert fails / trials <= 0.04, fails / trials


def test_the_simultaneous_band_of_a_difference_of_two_bests_covers():
    """S3.4's band: max_i a_i - max_j b_j from simultaneous bands of every pair covers the
    population value at least 95% of the time (three candidates per side, no true difference)."""
    rng = np.random.default_rng(11)
    covered, trials = 0, 300
    for _ in range(trials):
        n = 300
        hard = rng.normal(0, 1, n)
        a = [hard + 0.2 + rng.normal(0, 0.7, n) > 0 for _ in range(3)]
        b = [hard + 0.2 + rng.normal(0, 0.7, n) > 0 for _ in range(3)]
        family = 9
        bands = {(i, j): noise.level(a[i].astype(float) - b[j]).band(family=family) for i in range(3) for j in range(3)}
        low = max(min(bands[i, j][0] for j in range(3)) for i in range(3))
        high = max(min(bands[i, j][1] for j in range(3)) for i in range(3))
        covered += low <= 0.0 <= high
    assert covered / trials >= 0.95, covered / trials


def test_a_one_seed_band_with_a_borrowed_seed_term_covers_the_seed_averaged_gap():
    """One seed's paired band misses the gap averaged over seeds far more often than 5% when seeds
    differ (the issue's 79%); with the seed-to-seed variance measured on 3 other seeds of the same
    kinds added (at its 2 dof, Satterthwaite), it covers about 95% of the time."""
    rng = np.random.default_rng(21)
    images, seed_sd, truth = 500, 0.35, 0.1  # a seed effect of about 3-4 points on the gap

    def one_seed(effect):
        hard = rng.normal(0, 1.2, images)
        a = hard + 0.25 + (truth + effect) / 2 + rng.normal(0, 0.6, images) > 0
        b = hard + 0.25 - (truth + effect) / 2 + rng.normal(0, 0.6, images) > 0
        return a.astype(float), b.astype(float)

    population = np.mean([np.subtract(*one_seed(rng.normal(0, seed_sd))).mean() for _ in range(2000)]) * 100
    plain = borrowed = 0
    trials = 800
    for _ in range(trials):
        ref = [one_seed(rng.normal(0, seed_sd)) for _ in range(3)]
        term = noise.SeedTerm(noise.seed_variance(np.stack([a - b for a, b in ref])), 3, "three other seeds")
        a, b = one_seed(rng.normal(0, seed_sd))
        lo, hi = noise.gap(a, b).band()
        plain += lo <= population <= hi
        with noise.borrowed_seed_term(term):
            lo, hi = noise.gap(a, b).band()
        borrowed += lo <= population <= hi
    assert plain / trials < 0.85, plain / trials
    assert borrowed / trials >= 0.93, borrowed / trials
    print(f"coverage: one seed {plain / trials:.3f}, with the borrowed seed term {borrowed / trials:.3f}")


def test_the_binomial_band_of_two_unpaired_accuracies_covers():
    """The fallback for numbers without per-image results (the paper's own tables): two independent
    binomial errors in quadrature cover the true gap about 95% of the time."""
    from rstlib.paper.claims.facts import binomial

    rng = np.random.default_rng(8)
    pa, pb, n, trials = 0.62, 0.58, 1000, 2000
    a = 100 * rng.binomial(n, pa, trials) / n
    b = 100 * rng.binomial(n, pb, trials) / n
    covered = np.mean([lo <= 100 * (pa - pb) <= hi for lo, hi in (binomial(x, y, n).band() for x, y in zip(a, b))])
    assert 0.93 <= covered <= 0.97, covered
