"""Verdicts that respect noise: a claim measured over several seeds holds when the whole band
mean +- 2 standard errors clears its threshold, does not hold when the whole band misses it, and
is inconclusive when the threshold lies inside the band (or when one seed gives no band)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE = "holds", "does not hold", "inconclusive", "not testable"


@dataclass(frozen=True)
class Headline:
    column: str  # the column of `pages.headline`'s per-seed record
    claim: str
    threshold: float  # the measured gap must be >= this
    attack: str  # "PGD-20" (the paper's) or "strong" (ours)


HEADLINES = (
    Headline("C1_best_rst_minus_dense", "C1 existence: best RST at 5-30% minus the adversarially trained dense "
             "network", -3.0, "PGD-20"),
    Headline("C1_strong", "C1 existence: best RST at 5-30% minus the adversarially trained dense network",
             -3.0, "strong"),
    Headline("C2_offdiag_minus_diag", "C2 poor transfer: mean off-diagonal minus diagonal of the RST transfer "
             "matrix", 10.0, "PGD-20"),
    Headline("C3_r2s_minus_dense", "C3 R2S: R2S over the Fig. 4 ratios (paper protocol) minus dense", 5.0, "PGD-20"),
    Headline("C3_strong", "C3 R2S: R2S over the Fig. 4 ratios minus dense, both under the strong figure "
             "(adaptive attacks on R2S)", 5.0, "strong"),
)


def verdict(values, threshold: float) -> tuple[float, float, str]:
    """(mean, standard error, verdict) of a gap measured once per seed against `threshold`."""
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


def headline_summary(per_seed: pd.DataFrame) -> pd.DataFrame:
    """One row per headline claim and attack: mean, standard error over the seeds, the rule and
    the verdict. `per_seed`: one `pages.headline` record per seed (index: seed)."""
    rows = []
    for h in HEADLINES:
        if h.column not in per_seed:
            continue
        mean, se, v = verdict(per_seed[h.column], h.threshold)
        rows.append({"claim": h.claim, "judged under": h.attack, "seeds": int(per_seed[h.column].notna().sum()),
                     "mean": mean, "std. error": se, "rule": f"mean +- 2 SE vs >= {h.threshold:g}", "verdict": v})
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
        out.append(f"{name} {change} under the strong figure: {p['mean']:+.2f} +- {p['std. error']:.2f} points under "
                   f"PGD-20 (*{p['verdict']}*) against {s['mean']:+.2f} +- {s['std. error']:.2f} under the strong "
                   f"figure (*{s['verdict']}*).")
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
