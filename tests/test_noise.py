"""The book's noise model for gaps (rstlib.paper.claims.noise): a hand computation, the unpaired error it
replaces, and coverage in simulation (two correlated models over seeds and images)."""

import math

import numpy as np
import pytest

from rstlib.paper.claims import noise


def test_paired_gap_of_one_seed_by_hand():
    a = [1, 1, 0, 0, 1, 1, 0, 1]
    b = [1, 0, 0, 1, 1, 1, 0, 0]
    g = noise.gap(a, b)
    d = np.array(a) - np.array(b)  # [0, 1, 0, -1, 0, 0, 0, 1]: three discordant pairs
    assert g.value == pytest.approx(100 * 1 / 8)
    sd = math.sqrt(((d - d.mean()) ** 2).sum() / 7)
    assert g.se == pytest.approx(100 * sd / math.sqrt(8))
    assert (g.seeds, g.images) == (1, 8)


def test_two_models_that_agree_on_most_images_have_a_small_paired_error():
    rng = np.random.default_rng(0)
    a = rng.random(2000) < 0.6
    b = a.copy()
    flip = rng.choice(2000, 60, replace=False)  # they differ on 3% of the images
    b[flip] = ~b[flip]
    g = noise.gap(a, b)
    unpaired = 100 * math.hypot(math.sqrt(a.mean() * (1 - a.mean()) / 2000), math.sqrt(b.mean() * (1 - b.mean()) / 2000))
    assert g.se < unpaired / 3


def test_crossed_variance_matches_the_two_way_mean_squares_by_hand():
    d = np.array([[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0]])
    s, n = d.shape
    rows, cols, grand = d.mean(1), d.mean(0), d.mean()
    ms_seeds = n * ((rows - grand) ** 2).sum() / (s - 1)
    ms_images = s * ((cols - grand) ** 2).sum() / (n - 1)
    ms_resid = ((d - rows[:, None] - cols[None] + grand) ** 2).sum() / ((s - 1) * (n - 1))
    expected = max((ms_seeds + ms_images - ms_resid) / (s * n), ms_resid / (s * n))
    variance, dof = noise.crossed_variance(d)
    assert variance == pytest.approx(expected) and dof > 0


def _simulate(draws, seeds, images, gap_true, seed_sd, rng):
    """Two models over `seeds` training seeds on `images` test images drawn from a population:
    image difficulty shared by both models and every seed (the pairing), a seed effect on the
    gap, and per-(seed, image) noise. Returns each draw's Gap."""
    out = []
    for _ in range(draws):
        difficulty = rng.normal(0, 1.2, images)
        effect = rng.normal(0, seed_sd, seeds)
        za = difficulty[None] + 0.25 + gap_true / 2 + effect[:, None] / 2 + rng.normal(0, 0.6, (seeds, images))
        zb = difficulty[None] + 0.25 - gap_true / 2 - effect[:, None] / 2 + rng.normal(0, 0.6, (seeds, images))
        out.append(noise.gap(za > 0, zb > 0))
    return out


@pytest.mark.parametrize("seeds,seed_sd", [(1, 0.0), (3, 0.05), (3, 0.3), (5, 0.15)])
def test_the_band_covers_the_true_gap_about_95_percent_of_the_time(seeds, seed_sd):
    """Including few seeds with a large seed-to-seed spread, where +- 2 SE would not (t quantile
    at the Satterthwaite dof)."""
    truth = _simulate(1, 64, 200_000, 0.2, 0.0, np.random.default_rng(99))[0].value  # the population gap
    gaps = _simulate(2000, seeds, 500, 0.2, seed_sd, np.random.default_rng(seeds))
    covered = np.mean([lo <= truth <= hi for lo, hi in (g.band() for g in gaps)])
    assert 0.93 <= covered <= 0.985, covered


def test_the_maximum_of_candidates_is_judged_over_every_candidate():
    """Five candidates with no true gap: the largest observed gap looks like an effect (its own
    +- 2 SE band clears 0 far more often than 2.5% of the time); judged over every candidate it
    does not (at most about 2.5%)."""
    rng = np.random.default_rng(1)
    naive = judged = 0
    trials = 400
    for _ in range(trials):
        difficulty = rng.normal(0, 1.0, 400)
        base = difficulty + rng.normal(0, 0.8, 400) > 0
        cands = [difficulty + rng.normal(0, 0.8, 400) > 0 for _ in range(5)]
        best = noise.max_gap(cands, base)
        naive += best.value - 2 * best.se > 0
        judged += best.band()[0] > 0
    assert naive / trials > 0.05
    assert judged / trials <= 0.035
    real = [difficulty + rng.normal(0, 0.8, 400) + (0.6 if k == 2 else 0) > 0 for k in range(5)]
    assert noise.max_gap(real, base).band()[0] > 0  # a real effect is still found


def test_mismatched_images_are_refused():
    with pytest.raises(ValueError, match="same images"):
        noise.gap([1, 0, 1], [1, 0])
