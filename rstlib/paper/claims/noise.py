"""One noise model for a gap between two models that meet the same test images, over seeds.

Every evaluation stores which images each model got right (`correct`, see
`rstlib.evaluation.evaluator.unpack_bits`). For two models A and B scored on the same N images, for each of
S seeds, write d[s, i] = a[s, i] - b[s, i] in {-1, 0, 1}. The gap is 100 * mean(d), and its
variance comes from two crossed sources: which images the test set holds (image-to-image spread,
shared by every seed) and which seed trained the networks (seed-to-seed spread). Treating d as a
crossed two-way layout d[s, i] = mu + alpha_s + beta_i + e[s, i], the variance of its grand mean is

    Var = sigma_alpha^2 / S + sigma_beta^2 / N + sigma_e^2 / (S N),

estimated without bias from the two-way mean squares (rows = seeds, columns = images):
(MS_seeds + MS_images - MS_residual) / (S N). With one seed it is the paired (per-image, i.e.
discordant-pair) error; with many images and agreeing models it is far below the unpaired
binomial error of the two accuracies added in quadrature.

The band of a gap uses the t quantile at its Satterthwaite degrees of freedom: with three seeds
and a large seed-to-seed spread, +- 2 SE would cover the true gap well under 95% of the time.
`max_gap` judges the largest of several candidate gaps (the best RST, the largest gain) over every
candidate with a Bonferroni quantile, so that picking the best of many noisy numbers does not bias
a verdict toward "holds".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Gap:
    """A gap (or an accuracy) in points: its value, standard error and effective degrees of
    freedom (Satterthwaite: few seeds with a large seed-to-seed spread give few), and, for the
    maximum of several candidates, each candidate's own Gap."""

    value: float
    se: float
    seeds: int
    images: int
    dof: float = math.inf
    candidates: tuple["Gap", ...] = ()
    unit: str = "points"  # what value and se are in (a rank correlation is a number in [-1, 1])
    resolution: float = 0.5  # a gap this close to its threshold is not decided by any affordable budget

    def quantile(self, level: float = 0.95) -> float:
        """The t quantile of a two-sided `level` band (Bonferroni over the candidates of a maximum)."""
        from scipy.stats import t

        k = max(len(self.candidates), 1)
        p = 1 - (1 - level) / (2 * k)
        return float(t.ppf(p, self.dof)) if math.isfinite(self.dof) else float(t.ppf(p, 1e9))

    def band(self, level: float = 0.95) -> tuple[float, float]:
        """(low, high): value -+ quantile x se. For a maximum: the highest low and the highest high
        over the candidates (the maximum clears a threshold when some candidate clearly does, and
        misses it when every candidate clearly does)."""
        if self.candidates:
            q = self.quantile(level)
            return (max(c.value - q * c.se for c in self.candidates), max(c.value + q * c.se for c in self.candidates))
        q = self.quantile(level)
        return self.value - q * self.se, self.value + q * self.se


def _as_matrix(x) -> np.ndarray:
    m = np.asarray(x, dtype=float)
    if m.ndim == 1:
        m = m[None, :]
    if m.ndim != 2 or m.size == 0:
        raise ValueError("per-image results must be (seeds, images) or (images,)")
    return m


def crossed_variance(d: np.ndarray) -> tuple[float, float]:
    """(variance, effective degrees of freedom) of the grand mean of a (seeds, images) table
    under the crossed two-way model: unbiased, kept at or above its residual term (never
    negative); dof by Satterthwaite. With one seed: the per-image variance over N, N - 1 dof
    (seed-to-seed spread cannot be seen from one seed)."""
    s, n = d.shape
    if n < 2:
        return math.nan, math.nan
    if s == 1:
        return float(d.var(ddof=1)) / n, float(n - 1)
    grand = d.mean()
    rows, cols = d.mean(axis=1), d.mean(axis=0)
    ms_seeds = n * float(((rows - grand) ** 2).sum()) / (s - 1)
    ms_images = s * float(((cols - grand) ** 2).sum()) / (n - 1)
    resid = d - rows[:, None] - cols[None, :] + grand
    ms_resid = float((resid**2).sum()) / ((s - 1) * (n - 1))
    combined = ms_seeds + ms_images - ms_resid
    if combined <= ms_resid:  # the residual term alone is a lower bound
        return ms_resid / (s * n), float((s - 1) * (n - 1))
    dof = combined**2 / (ms_seeds**2 / (s - 1) + ms_images**2 / (n - 1) + ms_resid**2 / ((s - 1) * (n - 1)))
    return combined / (s * n), float(dof)


def gap(a_correct, b_correct) -> Gap:
    """Gap A - B (points) of two models on the same images: `a_correct` and `b_correct` are
    booleans (images,) for one seed or (seeds, images), image i the same image in every row."""
    a, b = _as_matrix(a_correct), _as_matrix(b_correct)
    if a.shape != b.shape:
        raise ValueError(f"the two models must be scored on the same images and seeds: {a.shape} vs {b.shape}")
    return _gap(a - b)


def _gap(d: np.ndarray) -> Gap:
    variance, dof = crossed_variance(d)
    return Gap(100.0 * float(d.mean()), 100.0 * math.sqrt(variance), d.shape[0], d.shape[1], dof)


def level(correct) -> Gap:
    """An accuracy (points) of one model, over seeds and images, with the same noise model."""
    return _gap(_as_matrix(correct))


def max_gap(candidates, baseline) -> Gap:
    """The largest of several gaps candidate_k - baseline (points), each paired on the same seeds
    and images: its value is the largest observed gap, and its band (Gap.band) is judged over
    every candidate with a Bonferroni quantile, so that picking the best of many noisy numbers
    does not bias a verdict toward "holds"."""
    base = _as_matrix(baseline)
    return largest([gap(c, base) for c in candidates])


def largest(gaps) -> Gap:
    """The largest of several candidate gaps, judged over every candidate (see `max_gap`); for
    gaps that are not paired per image too (a table without per-image results)."""
    gaps = tuple(gaps)
    if not gaps:
        raise ValueError("a maximum needs at least one candidate")
    best = max(gaps, key=lambda g: g.value)
    return Gap(best.value, best.se, best.seeds, best.images, best.dof, gaps)
