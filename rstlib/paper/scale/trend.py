"""Readings of the scale ladder's trend: a weighted fit of each headline claim against score updates
(read no further than the data span), the effect of width, and the sentences the scale page and
the intro say them in."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rstlib.config.profile import Profile
from rstlib.paper.claims.registry import MARK
from rstlib.paper.claims.verdicts import HEADLINES, INCONCLUSIVE
from rstlib.paper.scale.ladder import PAPER_SCORE_UPDATES, ladder_for, measure, trend_table
from rstlib.store.runstore import RunStore


def _apart(a, b) -> bool:
    """Do two rows of `trend_table` have 95% bands that do not overlap?"""
    return b["band from"] > a["band to"] or b["band to"] < a["band from"]


@dataclass
class Slope:
    """A claim's gap as a straight line in log10(score updates) at one width: the slope in points
    per tenfold budget with its 95% band, and where the line crosses the threshold."""

    claim: str
    attack: str
    width: float
    points: int
    per_decade: float
    low: float
    high: float
    value_at_largest: float
    largest: int
    span_decades: float  # the measured budgets' range, log10
    crossing: float | None  # score updates where the line meets the threshold (None: a flat line)

    @property
    def moves(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def within_reach(self) -> bool:
        """The crossing lies no further beyond the largest budget than the measured range is wide
        (our rule for how far a fitted line may be read; never further)."""
        return (
            self.crossing is not None and self.moves and math.log10(self.crossing) <= math.log10(self.largest) + self.span_decades
        )


def slope(table: pd.DataFrame, claim: str, attack: str, width: float) -> Slope | None:
    """Weighted least squares of the gap on log10(score updates) over one width's points of
    `trend_table` (weights 1 / se^2, each point's se read off its 95% band so that a band widened
    by few seeds counts as wide); None below three points."""
    rows = table[
        (table["claim"] == claim) & (table["judged under"] == attack) & (table["width"] == width) & table["gap"].notna()
    ].sort_values("score updates")
    if len(rows) < 3:
        return None
    x = np.log10(rows["score updates"].to_numpy(dtype=float))
    y = rows["gap"].to_numpy(dtype=float)
    se = (rows["band to"].to_numpy(dtype=float) - rows["band from"].to_numpy(dtype=float)) / (2 * 1.96)
    w = 1 / np.maximum(se, 1e-9) ** 2
    xm, ym = np.average(x, weights=w), np.average(y, weights=w)
    sxx = float(np.sum(w * (x - xm) ** 2))
    b = float(np.sum(w * (x - xm) * (y - ym)) / sxx)
    b_se = math.sqrt(1 / sxx)
    threshold = float(rows["threshold"].iloc[0])
    crossing = 10 ** (xm + (threshold - ym) / b) if b != 0 else None
    return Slope(
        claim,
        attack,
        width,
        len(rows),
        b,
        b - 1.96 * b_se,
        b + 1.96 * b_se,
        float(ym + b * (x[-1] - xm)),
        int(rows["score updates"].iloc[-1]),
        float(x[-1] - x[0]),
        crossing,
    )


def slope_sentence(s: Slope, threshold: float, paper_updates: int = PAPER_SCORE_UPDATES) -> str:
    """One plain sentence on a fitted trend: its direction (or that it does not move), and
    whether it reaches the threshold within the reach the data allow."""
    head = (
        f"{s.claim} ({s.attack}, width x{s.width:g}, {s.points} budgets): {s.per_decade:+.2f} points per "
        f"tenfold budget (95% band {s.low:+.2f} to {s.high:+.2f})"
    )
    if not s.moves:
        return head + "; the gap does not move with the budget beyond the noise."
    toward = (s.per_decade > 0) == (s.value_at_largest < threshold)
    if not toward:
        return head + f"; it moves away from the threshold {threshold:+g}."
    if s.crossing is not None and s.crossing <= s.largest:
        return head + f"; the line crosses the threshold {threshold:+g} inside the measured range."
    if s.within_reach:
        return (
            head + f"; read on no further than our range allows, the line meets the threshold {threshold:+g} "
            f"at about {s.crossing:,.0f} score updates (the paper's search makes {paper_updates:,})."
        )
    return (
        head + f"; toward the threshold {threshold:+g}, but the line would meet it only at about "
        f"{s.crossing:,.0f} score updates, beyond the reach of our budgets (the paper's search makes "
        f"{paper_updates:,}): the data do not say it gets there."
    )


def trend_sentence(table: pd.DataFrame, claim: str, attack: str) -> str:
    """Which way one claim moves along the budget at each width, from `trend_table`: the gap at
    the smallest and the largest budget, whether the two bands are apart, and where the largest
    budget's band stands against the threshold."""
    rows = table[(table["claim"] == claim) & (table["judged under"] == attack) & table["gap"].notna()]
    out = []
    for width, w in rows.groupby("width"):
        if len(w) < 2:
            continue
        a, b = w.iloc[0], w.iloc[-1]
        apart = _apart(a, b)
        move = ("rises" if b["gap"] > a["gap"] else "falls") if apart else "does not move beyond the noise"
        out.append(
            f"at width x{width:g} it {move}: {a['gap']:+.2f} points "
            f"({a['band from']:+.2f} to {a['band to']:+.2f}) at {a['score updates']:,} score updates, "
            f"{b['gap']:+.2f} ({b['band from']:+.2f} to {b['band to']:+.2f}) at {b['score updates']:,}; "
            f"threshold {a['threshold']:+g}, verdict at the largest budget: {b['verdict']}"
            + ("" if b["verdict"] != INCONCLUSIVE else " (the threshold lies inside its band)")
        )
    return "; ".join(out)


def numbers_table(trend: pd.DataFrame) -> pd.DataFrame:
    """`trend_table` as the page prints it: one row per claim, attack and point, the verdict first."""
    cols = ["claim", "judged under", "training images", "width", "verdict", "gap", "band from", "band to", "seeds"]
    out = trend.sort_values(["claim", "judged under", "width", "score updates"], kind="stable")[cols]
    out = out.assign(
        claim=[f"{c} (>= {t:+g})" for c, t in zip(out["claim"], trend.loc[out.index, "threshold"])],
        width=[f"x{w:g}" for w in out["width"]],
    )
    return out.assign(verdict=out["verdict"].map(lambda v: MARK.get(v, v))).set_index(["claim", "judged under"])


def width_sentence(table: pd.DataFrame, claim: str, attack: str) -> str:
    """At each budget measured at two widths: is the wider network's gap apart from the narrower's?"""
    rows = table[(table["claim"] == claim) & (table["judged under"] == attack) & table["gap"].notna()]
    out = []
    for updates, b in rows.groupby("score updates"):
        if b["width"].nunique() < 2:
            continue
        b = b.sort_values("width")
        a, w = b.iloc[0], b.iloc[-1]
        apart = _apart(a, w)
        how = ("higher" if w["gap"] > a["gap"] else "lower") if apart else "not apart (the bands overlap)"
        out.append(
            f"at {updates:,} score updates, width x{w['width']:g} gives {w['gap']:+.2f} "
            f"({w['band from']:+.2f} to {w['band to']:+.2f}) against {a['gap']:+.2f} "
            f"({a['band from']:+.2f} to {a['band to']:+.2f}) at x{a['width']:g}: {how}"
        )
    return "; ".join(out)


def findings(trend: pd.DataFrame) -> str:
    """The page's reading of the ladder, one bullet per claim and attack: which way the budget
    moves it at each width, the fitted trend where a width has three budgets, and what the width
    changes at a fixed budget. Every sentence is computed from `trend`."""
    bullets = []
    for h in HEADLINES:
        claim = h.column.split("_")[0]
        parts = [trend_sentence(trend, claim, h.attack)]
        for width in sorted(trend["width"].unique()):
            s = slope(trend, claim, h.attack, width)
            if s is not None:
                parts.append(slope_sentence(s, h.threshold))
        parts.append(width_sentence(trend, claim, h.attack))
        parts = [p.rstrip(".") for p in parts if p]
        if parts:
            bullets.append(
                f"- **{claim} ({h.attack})**: "
                + "; ".join(p[0].upper() + p[1:] if i == 0 else p for i, p in enumerate(parts))
                + "."
            )
    return "\n".join(bullets) if bullets else "No point of the ladder is measured yet."


def intro_sentence(profile: Profile, store: RunStore | None = None) -> str:
    """The intro's one sentence on the scale page: how C1 and C3 (PGD-20) move along the
    profile's ladder at the width measured at the most budgets, from what the store holds
    (nothing is computed)."""
    ladder = ladder_for(profile)
    if ladder is None:
        return ""
    trend = trend_table(measure(ladder, store, progress=False, load_only=True))
    measured = trend[trend["gap"].notna()]
    if measured.empty:
        return ""
    budgets = measured.groupby("width")["score updates"].nunique()
    width = budgets[budgets == budgets.max()].index.min()  # the width with the most budgets
    moves = []
    for claim in ("C1", "C3"):
        rows = measured[
            (measured["claim"] == claim) & (measured["judged under"] == "PGD-20") & (measured["width"] == width)
        ].sort_values("score updates")
        if len(rows) < 2:
            continue
        a, b = rows.iloc[0], rows.iloc[-1]
        apart = _apart(a, b)
        moves.append(
            f"{claim} goes from {a['gap']:+.2f} to {b['gap']:+.2f} points "
            + ("(the two bands apart)" if apart else "(within the noise: the two bands overlap)")
            + f", *{b['verdict']}* at the largest budget"
        )
    if not moves:
        return ""
    updates = sorted(measured[measured["width"] == width]["score updates"].unique())
    return (
        f"**Beyond the paper: scale.** From {updates[0]:,} to {updates[-1]:,} score updates of the search "
        f"(the paper's: {PAPER_SCORE_UPDATES:,}) at width x{width:g}, {' and '.join(moves)} "
        "([the measured trend, with the width](scale.ipynb)). " + differs_from_headline(profile, ladder)
    )


def differs_from_headline(profile: Profile, ladder) -> str:
    """Why the ladder's C1-C3 differ from the intro's at the same budget: other ratios and seeds
    (computed from the two configurations)."""
    from rstlib.paper.headline import HEADLINE_SEEDS

    mine = [float(r) for r in profile.sections.sec5.ratios]
    theirs = [float(r) for r in ladder.ratios]
    seeds = ladder.points[0].seeds or ladder.seeds
    if mine == theirs and tuple(seeds) == tuple(HEADLINE_SEEDS):
        return ""
    pct = ", ".join
    return (
        f"The ladder's C1-C3 are not the headline's at the same budget: the ladder uses ratios "
        f"{pct(f'{r:g}%' for r in theirs)} and seeds {pct(map(str, seeds))} (C1 the best of "
        f"{sum(5 <= r <= 30 for r in theirs)} RSTs, C3 R2S over those ratios), the headline ratios "
        f"{pct(f'{r:g}%' for r in mine)} and seeds {pct(map(str, HEADLINE_SEEDS))} (C1 the best of "
        f"{sum(5 <= r <= 30 for r in mine)}), so their gaps differ by design."
    )
