"""What would decide an open claim: the cheapest budget of seeds and images that would narrow a
comparison's band below its distance from the threshold, priced from the gap's variance components
(`noise.Parts`), and the sentence that says it (or says, computed, that no budget on the test set
does)."""

from __future__ import annotations

import math

from rstlib.paper.claims import noise
from rstlib.paper.claims.outcomes import FAILS, HOLDS, gap_verdict

SEED_PRICE = 6000
"""Ours: what training the models of one more seed costs, in model-image evaluations (laptop, 2 cores:
a training run takes about 70 s, PGD-20 about 0.011 s per image and model). The decision statements
price a budget of S seeds and N images at S N + (new seeds) x SEED_PRICE."""

MAX_SEEDS = 20  # the most seeds a decision statement considers


def _half(p: noise.Parts, seeds: int, images: int, level: float) -> float:
    """The band's half-width at (seeds, images): the t quantile at the projected dof times the
    projected standard error."""
    return noise.t_quantile(level, p.dof(seeds, images)) * math.sqrt(p.variance(seeds, images))


def budget(g: noise.Gap, threshold: float, family: int = 1, test_images: int | None = None) -> tuple[int, int] | None:
    """The cheapest (seeds, images) at which a gap like `g` (its value, its variance components)
    would have a band narrower than its distance from `threshold` (at least the gap's resolution):
    seeds shrink only the seed part and the residual, images the image part and the residual
    (`noise.Parts`). None when no budget up to MAX_SEEDS seeds and the test set's images does."""
    distance = max(abs(g.value - threshold), g.resolution)
    cap = test_images if test_images is not None else 100 * g.images
    if g.candidates:
        # a maximum clears the threshold through its best candidate (a selection among k), and
        # misses it only when every candidate does (each at the plain level)
        if g.value >= threshold:
            return budget(max(g.candidates, key=lambda c: c.value), threshold, family * len(g.candidates), test_images)
        needs = [budget(c, threshold, family, test_images) for c in g.candidates]
        if any(n is None for n in needs):
            return None
        return max(needs, key=lambda sn: sn[0] * sn[1] + (sn[0] - g.seeds) * SEED_PRICE)  # type: ignore[index]
    p = g.parts
    if p is None:  # a band of its own (a bootstrap): not projected (see `decision`)
        return None
    level = 1 - 0.05 / (2 * family)
    best = None
    for seeds in range(g.seeds, MAX_SEEDS + 1) if p.seed is not None else (g.seeds,):
        lo, hi = g.images, cap  # the fewest images at these seeds: the band narrows as images grow
        if hi < lo or _half(p, seeds, hi, level) >= distance:
            continue
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if _half(p, seeds, mid, level) >= distance else (lo, mid)
        cost = seeds * lo + (seeds - g.seeds) * SEED_PRICE
        if best is None or cost < best[0]:
            best = (cost, seeds, lo)
    return None if best is None else (best[1], best[2])


def decision(g: noise.Gap, threshold: float, family: int = 1, test_images: int | None = None) -> str:
    """What would decide an open comparison at the observed gap and variance: the cheapest budget
    of `budget`, or, where none exists on this test set, that none does (computed)."""
    digits = 1 if g.unit == "points" else 2
    low, high = g.band()
    where = f"gap {g.value:+.{digits}f} against {threshold:+.3g}, band now {low:+.{digits}f} to {high:+.{digits}f}"
    near = abs(g.value - threshold) < g.resolution
    if near:
        where += f"; within {g.resolution:g} {g.unit} of it, so the budget narrows the band to +-{g.resolution:g}"
    seed_note = ""
    parts = g.parts if not g.candidates else max(g.candidates, key=lambda c: c.value).parts
    if parts is not None and parts.seed is None:
        seed_note = "; one seed: its band holds no seed-to-seed spread"
    elif parts is not None and parts.seed_from:
        seed_note = f"; seed spread from {parts.seed_from}"
    if g.interval is not None:
        return f"more test images ({where}): the band is {g.interval_how}, measured at a new image count, not projected"
    need = budget(g, threshold, family, test_images)
    if need is None:
        most = f"{MAX_SEEDS} seeds x " if parts is not None and parts.seed is not None else ""
        images = f"all {test_images:,} test images" if test_images is not None else f"{100 * g.images:,} images"
        return f"no budget on this test set decides it: even {most}{images} leave the threshold inside the band ({where})"
    seeds, images = need
    if seeds == g.seeds:
        what = f"about {images:,} images" + (f" at each of the {seeds} seeds" if seeds > 1 else "")
    else:
        what = f"about {seeds} seeds at {images:,} images each"
    return f"{what} ({where}{seed_note})"


def deciding(tested, test_images: int | None = None) -> str:
    """The decision statement of an inconclusive "every" claim: the cheapest budget that decides it
    either way across its comparisons. One open comparison whose gap lies below its threshold
    decides "does not hold" on its own (at the family-wise level of `every`); "holds" needs every
    open comparison decided, so its price is the dearest of them."""
    k = len(tested)
    open_ = [(g, t) for g, t in tested if gap_verdict(g, t, family=k) != FAILS and gap_verdict(g, t) != HOLDS]
    if not open_:
        return ""

    def price(g, t, family):
        need = budget(g, t, family, test_images)
        return math.inf if need is None else need[0] * need[1] + (need[0] - g.seeds) * SEED_PRICE

    below = [(g, t) for g, t in open_ if g.value < t]
    fail = min(below, key=lambda gt: price(*gt, k)) if below else None
    hold = max(open_, key=lambda gt: price(*gt, 1)) if not below else None
    if fail is not None:
        return decision(*fail, family=k, test_images=test_images)
    assert hold is not None
    return decision(*hold, family=1, test_images=test_images)
