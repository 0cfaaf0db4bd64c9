"""What a rule of the claims engine reads (a section's Facts: its tables, per-image results and image
counts) and returns (Judged: the measured sentence, the verdict and every comparison it rests on),
and the gaps every rule builds: paired per image where the per-image results are there, else two
binomial errors (the paper's own numbers, a dry run)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rstlib.paper.claims import noise
from rstlib.paper.claims.verdicts import se_diff


@dataclass(frozen=True)
class Judged:
    measured: str
    verdict: str
    tested: tuple = ()  # (noise.Gap, threshold) of every comparison the verdict rests on
    test_images: int | None = None  # the test set the comparisons are drawn from, where not the facts' smallest


@dataclass(frozen=True)
class Facts:
    """What a section measured: its tables and the image counts behind them."""

    tables: dict
    figures: dict
    n_natural: int
    n_robust: int
    networks: int  # networks the profile compared
    datasets: int
    per_image: dict = field(default_factory=dict)  # see SectionResult.per_image
    test_images: int | None = None  # as many as the smallest test set holds (a decision cannot ask for more)


def binomial(a: float, b: float, n: int) -> noise.Gap:
    """The gap a - b (points) of two accuracies measured on `n` images without per-image results
    (the paper's own numbers): two independent binomial errors in quadrature. Where a and b are
    means over several (ratio) points scored on the same `n` images, their errors are
    correlated and do not shrink as 1 / sqrt(points): the error of one point (an upper bound) is
    used, never that of points x n independent images."""
    return noise.one_seed(noise.Gap(a - b, se_diff(a, b, n), 1, n))


def band_text(g: noise.Gap) -> str:
    low, high = g.band()
    return f"{g.value:+.2f} ({low:+.2f} to {high:+.2f})"


def paired_text(g: noise.Gap) -> str:
    low, high = g.band()
    return f"{g.value:+.2f} (95% band {low:+.2f} to {high:+.2f}, paired over {g.images} images)"


def paired_or_binomial(a_bits, b_bits, a_value: float, b_value: float, n: int) -> noise.Gap:
    """The gap a - b: paired per image where both models' per-image results are there, else (the
    paper's own numbers, a dry run) the binomial band of two accuracies on `n` images each."""
    if a_bits is not None and b_bits is not None:
        return noise.gap(a_bits, b_bits)
    return binomial(a_value, b_value, n)
