"""Verdicts that respect noise: a claim holds when its whole band clears its threshold, does not
hold when the whole band misses it, and is inconclusive when the threshold lies inside the band.
The headline claims C1-C3 take their band from the one noise model (`rstlib.paper.claims.noise`: paired per
image, seeds and images crossed); the section claims still use the binomial bands below (issue 22
moves them onto the same model)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rstlib.paper.claims import noise

HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE = "holds", "does not hold", "inconclusive", "not testable"


@dataclass(frozen=True)
class Headline:
    column: str  # the column of `pages.headline`'s per-seed record
    claim: str
    threshold: float  # the measured gap must be >= this
    attack: str  # "PGD-20" (the paper's) or "strong" (ours)


HEADLINES = (
    Headline(
        "C1_best_rst_minus_dense", "C1 existence: best RST at 5-30% minus the adversarially trained dense network", -3.0, "PGD-20"
    ),
    Headline("C1_strong", "C1 existence: best RST at 5-30% minus the adversarially trained dense network", -3.0, "strong"),
    Headline(
        "C2_offdiag_minus_diag", "C2 poor transfer: mean off-diagonal minus diagonal of the RST transfer matrix", 10.0, "PGD-20"
    ),
    Headline("C3_r2s_minus_dense", "C3 R2S: R2S over the Fig. 4 ratios (paper protocol) minus dense", 5.0, "PGD-20"),
    Headline(
        "C3_strong",
        "C3 R2S: R2S over the Fig. 4 ratios minus dense, both under the strong figure (adaptive attacks on R2S)",
        5.0,
        "strong",
    ),
)


# The book's one meaning of "comparable" (S3.1, S3.2, S3.4, S4.3, S4.5, S4.7, S8.2): A is comparable
# with B when A is not more than 3 points below B (A - B >= -3; one-sided: being better is never a
# failure to be comparable).
COMPARABLE = -3.0


def verdict(values, threshold: float) -> tuple[float, float, str]:
    """(mean, standard error, verdict) of a gap measured once per seed against `threshold`, from
    the seed values alone (no image-sample noise; the headline uses `headline_gaps` instead)."""
    xs = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not xs:
        return math.nan, math.nan, INCONCLUSIVE
    mean = sum(xs) / len(xs)
    if len(xs) < 2:
        return mean, math.nan, INCONCLUSIVE
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
    se = sd / math.sqrt(len(xs))
    if mean - 2 * se >= threshold:
        return mean, se, HOLDS
    if mean + 2 * se < threshold:
        return mean, se, FAILS
    return mean, se, INCONCLUSIVE


def gap_verdict(g: noise.Gap, threshold: float, level: float = 0.95) -> str:
    """holds when the whole `level` band of `g` clears `threshold`, does not hold when it lies
    below, inconclusive when the threshold falls inside (or there is no band)."""
    low, high = g.band(level)
    if math.isnan(low) or math.isnan(high):
        return INCONCLUSIVE
    if low >= threshold:
        return HOLDS
    if high < threshold:
        return FAILS
    return INCONCLUSIVE


def judge_gap(tested: list, g: noise.Gap, threshold: float) -> str:
    """`gap_verdict`, noting (g, threshold) in `tested` for the claim's decision statement."""
    tested.append((g, threshold))
    return gap_verdict(g, threshold)


ON_THE_THRESHOLD = noise.Gap.resolution  # points: a gap this close to its threshold is not decided by any budget


def decision(g: noise.Gap, threshold: float, level: float = 0.95, test_images: int | None = None) -> str:
    """What would decide an open comparison at the observed gap and variance: the images (one
    seed) or the seeds (several) that shrink the band to the gap's distance from the threshold;
    `test_images`, where given, is as many as the test set holds (more cannot be attacked). Within
    the gap's resolution of the threshold (0.5 points; `noise.Gap.resolution`), the budget that
    narrows the band to twice the resolution."""
    distance = abs(g.value - threshold)
    half = g.quantile(level) * g.se
    digits = 1 if g.unit == "points" else 2
    if distance < g.resolution:
        target = 2 * g.resolution
        if half <= target:
            return (
                f"the gap ({g.value:+.2f}) sits within {g.resolution:g} {g.unit} of the threshold "
                f"({threshold:+.3g}) with a band of +-{half:.{digits}f}: no affordable budget decides it"
            )
        unit = "seeds" if g.seeds > 1 else "images"
        what = "point" if (g.unit, target) == ("points", 1) else g.unit
        count = math.ceil((g.seeds if g.seeds > 1 else g.images) * (half / target) ** 2)
        if unit == "images" and test_images is not None and count > test_images:
            return (
                f"the gap ({g.value:+.2f}) sits on the threshold ({threshold:+.3g}) within a band of "
                f"+-{half:.{digits}f}: narrowing it to +-{target:g} {what} takes about {count:,} images, more than "
                f"the test set's {test_images:,}: images alone cannot decide it"
            )
        return (
            f"the gap ({g.value:+.2f}) sits on the threshold ({threshold:+.3g}) within a band of +-{half:.{digits}f}: "
            f"about {count:,} {unit} narrow the band to +-{target:g} {what} and show on which side it lies"
        )
    shrink = (half / distance) ** 2  # the variance must fall by this factor
    if g.seeds > 1:
        return (
            f"about {math.ceil(g.seeds * shrink)} seeds at {g.images:,} images each "
            f"(gap {g.value:+.2f} against {threshold:+.3g}, at the observed spread)"
        )
    images = math.ceil(g.images * shrink)
    if test_images is not None and images > test_images:
        return (
            f"about {images:,} images, more than the test set's {test_images:,}: images alone cannot decide it "
            f"(gap {g.value:+.2f} against {threshold:+.3g})"
        )
    return f"about {images:,} images (gap {g.value:+.2f} against {threshold:+.3g}, at the observed spread)"


def deciding(tested, test_images: int | None = None) -> str:
    """The decision statement of an inconclusive claim: the most demanding of its open comparisons."""
    open_ = [(g, t) for g, t in tested if gap_verdict(g, t) == INCONCLUSIVE]
    if not open_:
        return ""

    def cost(gt):
        g, t = gt
        d = abs(g.value - t)
        return math.inf if d < g.resolution else (g.quantile() * g.se / d) ** 2

    g, t = max(open_, key=cost)
    return decision(g, t, test_images=test_images)


def headline_gaps(per_image: list[dict]) -> dict[str, noise.Gap]:
    """C1-C3 over the seeds and the test images with the one noise model (`rstlib.paper.claims.noise`):
    paired per image, image-sample and seed-to-seed variance crossed, C1 (a best RST) judged
    over every candidate ratio. `per_image`: one `pages.headline_per_image` record per seed."""

    def stack(get):
        rows = [get(r) for r in per_image]
        return None if any(x is None for x in rows) else np.stack(rows)

    out = {}
    for column, rst, dense in (("C1_best_rst_minus_dense", "rst", "dense"), ("C1_strong", "rst_strong", "dense_strong")):
        base = stack(lambda r: r[dense])
        cands = [stack(lambda r, k=k: r[rst][k]) for k in per_image[0][rst]]
        if base is not None and cands and all(c is not None for c in cands):
            out[column] = noise.max_gap(cands, base)
    c2 = stack(lambda r: r["c2"])
    if c2 is not None:
        out["C2_offdiag_minus_diag"] = noise.level(c2)
    for column, r2s, dense in (("C3_r2s_minus_dense", "r2s", "dense"), ("C3_strong", "r2s_strong", "dense_strong")):
        a, b = stack(lambda r: r[r2s]), stack(lambda r: r[dense])
        if a is not None and b is not None:
            out[column] = noise.gap(a, b)
    return out


def headline_summary(per_image: list[dict]) -> pd.DataFrame:
    """One row per headline claim and attack: the gap over seeds and images, its standard error
    and 95% band from the one noise model (`headline_gaps`), the rule and the verdict."""
    gaps = headline_gaps(per_image)
    rows = []
    for h in HEADLINES:
        if h.column not in gaps:
            continue
        g = gaps[h.column]
        low, high = g.band()
        rows.append(
            {
                "claim": h.claim,
                "judged under": h.attack,
                "seeds": g.seeds,
                "images": g.images,
                "gap": g.value,
                "std. error": g.se,
                "band from": low,
                "band to": high,
                "rule": f"95% band (seeds x images, paired{', every candidate' if g.candidates else ''}) vs >= {h.threshold:g}",
                "verdict": gap_verdict(g, h.threshold),
                "what would decide it": decision(g, h.threshold) if gap_verdict(g, h.threshold) == INCONCLUSIVE else None,
            }
        )
    return pd.DataFrame(rows)


def strong_sentences(summary: pd.DataFrame) -> str:
    """What changes for C1 and C3 under the strong figure, in two sentences, from `summary`."""
    out = []
    for name in ("C1", "C3"):
        rows = summary[summary["claim"].str.startswith(name)]
        paper = rows[rows["judged under"] == "PGD-20"]
        strong = rows[rows["judged under"] == "strong"]
        if paper.empty or strong.empty:
            continue
        p, s = paper.iloc[0], strong.iloc[0]
        change = "keeps its verdict" if p["verdict"] == s["verdict"] else f"goes from *{p['verdict']}* to *{s['verdict']}*"
        out.append(
            f"{name} {change} under the strong figure: {p['gap']:+.2f} points (95% band {p['band from']:+.2f} "
            f"to {p['band to']:+.2f}) under PGD-20 (*{p['verdict']}*) against {s['gap']:+.2f} "
            f"({s['band from']:+.2f} to {s['band to']:+.2f}) under the strong figure (*{s['verdict']}*)."
        )
    return " ".join(out)


# -- test-sample noise of one seed's numbers ------------------------------------------------

# -- noise ------------------------------------------------------------------------------------


def se(acc: float, n: int) -> float:
    """Binomial standard error (points) of an accuracy (%) measured on n images."""
    p = min(max(acc / 100.0, 0.0), 1.0)
    return 100.0 * math.sqrt(max(p * (1 - p), 0.25 / n) / n) if n else math.nan


def se_diff(a: float, b: float, n_a: int, n_b: int | None = None) -> float:
    return math.hypot(se(a, n_a), se(b, n_b or n_a))


def band(value: float, error: float, threshold: float) -> str:
    """holds / does not hold / inconclusive for `value >= threshold` with +- 2 `error`."""
    if value is None or math.isnan(value):
        return INCONCLUSIVE
    if value - 2 * error >= threshold:
        return HOLDS
    if value + 2 * error < threshold:
        return FAILS
    return INCONCLUSIVE


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


def every(signs: list[str]) -> str:
    """An 'every / consistently' claim: holds when every point clearly holds, fails when one
    clearly fails."""
    if not signs:
        return INCONCLUSIVE
    if FAILS in signs:
        return FAILS
    return HOLDS if all(s == HOLDS for s in signs) else INCONCLUSIVE


def fmt_gap(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.2f}"


def fmt_band(x: float, e: float) -> str:
    return f"{fmt_gap(x)} +- {2 * e:.2f}"
