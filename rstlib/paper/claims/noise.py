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

import contextlib
import contextvars
import dataclasses
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Parts:
    """The variance components of one observation d[s, i] of a gap, in points^2: seed-to-seed
    (sigma_alpha^2, None where unmeasured: one seed and no seed term borrowed), image-to-image
    (sigma_beta^2) and residual (sigma_e^2). The variance of a mean over S seeds and N images is
    seed / S + image / N + residual / (S N) (`variance`), which is what more seeds or more images
    would buy (`rstlib.paper.claims.verdicts.decision`). With one seed the image and residual parts
    cannot be told apart and are counted as image (more seeds would not shrink them)."""

    seed: float | None
    image: float
    residual: float
    seed_from: str = ""  # where a borrowed seed term was measured ("" where this gap's own seeds gave it)
    seed_dof: float = math.inf  # the seed part's degrees of freedom (the seeds it was measured on, less one)

    def variance(self, seeds: int, images: int) -> float:
        return (self.seed or 0.0) / seeds + self.image / images + self.residual / (seeds * images)

    def dof(self, seeds: int, images: int) -> float:
        """Satterthwaite's degrees of freedom of the mean at (seeds, images): the seed part with the
        more of its own seeds' (seeds - 1) and the dof it was measured with, the rest with images - 1."""
        a = (self.seed or 0.0) / seeds
        b = self.image / images + self.residual / (seeds * images)
        if a <= 0:
            return float(images - 1)
        dof_a = max(float(seeds - 1), self.seed_dof if math.isfinite(self.seed_dof) else 0.0)
        return (a + b) ** 2 / (a**2 / dof_a + b**2 / max(images - 1, 1)) if dof_a > 0 else math.nan


@dataclass(frozen=True)
class Gap:
    """A gap (or an accuracy) in points: its value, standard error and effective degrees of
    freedom (Satterthwaite: few seeds with a large seed-to-seed spread give few), and, for the
    maximum of several candidates, each candidate's own Gap. `parts`: its variance components,
    where the per-image table was there; `interval`: a 95% band of its own (a percentile bootstrap
    for a rank statistic, which a symmetric band would carry outside its range)."""

    value: float
    se: float
    seeds: int
    images: int
    dof: float = math.inf
    candidates: tuple["Gap", ...] = ()
    unit: str = "points"  # what value and se are in (a rank correlation is a number in [-1, 1])
    resolution: float = 0.5  # a gap this close to its threshold is not decided by any affordable budget
    parts: Parts | None = None
    interval: tuple[float, float] | None = None
    interval_how: str = "a percentile bootstrap"  # what `interval` is, for the decision statement

    def quantile(self, level: float = 0.95, family: int = 1) -> float:
        """The t quantile at this gap's dof of a two-sided `level` band, Bonferroni over `family`
        comparisons (a maximum's candidates, or an "every" claim's comparisons)."""
        return t_quantile(1 - (1 - level) / (2 * max(family, 1)), self.dof)

    def band(self, level: float = 0.95, family: int = 1) -> tuple[float, float]:
        """(low, high): value -+ quantile x se (Bonferroni over `family`). For a maximum of k
        candidates, each at its own dof: low is the highest candidate low at the Bonferroni
        quantile over the k (the maximum clears a threshold when some candidate clearly does,
        a selection among k), high is the highest candidate high at the plain quantile (the maximum
        misses it when every candidate clearly does: an intersection, no correction needed)."""
        if self.interval is not None:
            if (level, family) != (0.95, 1):
                raise ValueError("a percentile band is stored at 95% only")
            return self.interval
        if self.candidates:
            k = len(self.candidates) * max(family, 1)
            return (
                max(c.value - c.quantile(level, k) * c.se for c in self.candidates),
                max(c.value + c.quantile(level, family) * c.se for c in self.candidates),
            )
        q = self.quantile(level, family)
        return self.value - q * self.se, self.value + q * self.se


def t_quantile(p: float, dof: float) -> float:
    from scipy.stats import t

    return float(t.ppf(p, dof)) if math.isfinite(dof) else float(t.ppf(p, 1e9))


def _as_matrix(x) -> np.ndarray:
    m = np.asarray(x, dtype=float)
    if m.ndim == 1:
        m = m[None, :]
    if m.ndim != 2 or m.size == 0:
        raise ValueError("per-image results must be (seeds, images) or (images,)")
    return m


def mean_squares(d: np.ndarray) -> tuple[float, float, float]:
    """The two-way mean squares (seeds, images, residual) of a (seeds, images) table, seeds >= 2."""
    s, n = d.shape
    grand = d.mean()
    rows, cols = d.mean(axis=1), d.mean(axis=0)
    resid = d - rows[:, None] - cols[None, :] + grand
    return (
        n * float(((rows - grand) ** 2).sum()) / (s - 1),
        s * float(((cols - grand) ** 2).sum()) / (n - 1),
        float((resid**2).sum()) / ((s - 1) * (n - 1)),
    )


def components(d: np.ndarray) -> Parts:
    """The variance components of a (seeds, images) table of per-image differences, from the
    two-way mean squares (each clipped at zero): E[MS_seeds] = N sa^2 + se^2, E[MS_images] =
    S sb^2 + se^2, E[MS_residual] = se^2. One seed: the per-image variance, counted as image."""
    s, n = d.shape
    if s == 1:
        return Parts(None, 1e4 * float(d.var(ddof=1)), 0.0)
    ms_seeds, ms_images, ms_resid = mean_squares(d)
    return Parts(
        1e4 * max(ms_seeds - ms_resid, 0.0) / n, 1e4 * max(ms_images - ms_resid, 0.0) / s, 1e4 * ms_resid, seed_dof=float(s - 1)
    )


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
    ms_seeds, ms_images, ms_resid = mean_squares(d)
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


@dataclass(frozen=True)
class SeedTerm:
    """The seed-to-seed variance (points^2) of one seed's gap between two kinds of model, measured
    over `seeds` seeds (`dof` = seeds - 1), and where (`source`, a sentence)."""

    variance: float
    seeds: int
    source: str

    @property
    def dof(self) -> float:
        return float(self.seeds - 1)


_SEED_TERM: contextvars.ContextVar[SeedTerm | None] = contextvars.ContextVar("seed_term", default=None)


@contextlib.contextmanager
def borrowed_seed_term(term: SeedTerm | None):
    """Within the block, every gap measured on one seed carries `term` (`with_seed_term`): a section
    that trained one seed per model is judged with the seed-to-seed spread of the nearest
    comparison of the same kinds that was measured over several seeds."""
    token = _SEED_TERM.set(term)
    try:
        yield
    finally:
        _SEED_TERM.reset(token)


def one_seed(g: Gap) -> Gap:
    """`g` with the borrowed seed term where it rests on one seed and a term is in force."""
    term = _SEED_TERM.get()
    if term is None or g.seeds != 1:
        return g
    return with_seed_term(g, term.variance, term.dof, term.source)


def _gap(d: np.ndarray) -> Gap:
    variance, dof = crossed_variance(d)
    parts = components(d) if d.shape[1] > 1 else None
    return one_seed(Gap(100.0 * float(d.mean()), 100.0 * math.sqrt(variance), d.shape[0], d.shape[1], dof, parts=parts))


def seed_variance(d) -> float:
    """The seed-to-seed variance (points^2) of one seed's gap from a (seeds, images) table of
    per-image differences (the seed component of `components`; 0 where the estimate is negative)."""
    parts = components(_as_matrix(d))
    if parts.seed is None:
        raise ValueError("a seed-to-seed variance needs at least two seeds")
    return parts.seed


def with_seed_term(g: Gap, seed_var: float, seed_dof: float, source: str) -> Gap:
    """A gap measured on fewer seeds than its claim needs, with a seed-to-seed variance (points^2,
    of one seed's gap) measured elsewhere (`source`: the nearest comparison of the same kinds over
    several seeds) added to its variance: Var = seed_var / S + its own image variance. Its dof by
    Satterthwaite over the two parts (the borrowed one with `seed_dof`)."""
    if g.candidates:
        return largest(with_seed_term(c, seed_var, seed_dof, source) for c in g.candidates)
    own = g.se**2
    borrowed = seed_var / g.seeds
    total = own + borrowed
    dof = total**2 / ((own**2 / g.dof if math.isfinite(g.dof) else 0.0) + borrowed**2 / seed_dof) if total > 0 else g.dof
    parts = g.parts or Parts(None, own * g.images, 0.0)
    return dataclasses.replace(
        g, se=math.sqrt(total), dof=dof, parts=dataclasses.replace(parts, seed=seed_var, seed_from=source, seed_dof=seed_dof)
    )


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
