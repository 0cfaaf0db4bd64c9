"""Beyond the paper: the headline claims C1-C3 measured along a scale ladder (`config.Ladder`,
`_config.yml`'s `ladders:`), so a reader sees which way each claim moves with the search budget
and the width, and whether it heads for the paper's regime.

Every point runs the intro's own code path (`headline.headline_per_image`) at the base profile with
the point's training-set size and width, over the ladder's seeds, and is judged with the one noise
model (`rstlib.paper.claims.noise`, `verdicts.headline_gaps`). `rst scale --ladder laptop` runs
(or resumes) the whole ladder; the book's scale page loads what the store holds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rstlib.config.ladder import Ladder, LadderPoint, ladder_names, load_ladder
from rstlib.config.profile import Profile, RunConfig
from rstlib.paper.claims import noise
from rstlib.paper.claims.registry import MARK
from rstlib.paper.claims.verdicts import HEADLINES, INCONCLUSIVE, gap_verdict, headline_gaps
from rstlib.paper.context import Context, EvalRequest
from rstlib.paper.headline import headline_per_image
from rstlib.paper.recorded import RecordedCost, recorded_cost_of
from rstlib.store.runstore import RunStore

PAPER_SCORE_UPDATES = 31_250  # the paper's search: 50,000 CIFAR images / batch 256 x 160 epochs


@dataclass
class PointResult:
    """One ladder point: its profile, its budget, C1-C3 over the ladder's seeds and what the
    store recorded that it cost."""
    point: LadderPoint
    profile: Profile
    score_updates: int
    gaps: dict[str, noise.Gap]
    cost: RecordedCost
    complete: bool  # every run and evaluation of the point is in the store
    seeds: tuple[int, ...] = ()


def ladder_for(profile: Profile) -> Ladder | None:
    """The ladder named after `profile` in its `_config.yml` (the scale page's default), or None."""
    return load_ladder(profile.name) if profile.name in ladder_names() else None


def point_plan(ladder: Ladder, point: LadderPoint) -> tuple[dict[str, RunConfig], list[EvalRequest]]:
    """Every run and evaluation one point needs over the ladder's seeds (nothing computed)."""
    runs: dict[str, RunConfig] = {}
    evals: list[EvalRequest] = []
    for seed in ladder.seeds_of(point):
        ctx = Context(ladder.profile(point), seed=seed, dry_run=True, progress=False, announce=False)
        headline_per_image(ctx, ratios=list(ladder.ratios))
        runs.update(ctx.planned_runs)
        evals += ctx.planned_evals
    return runs, evals


def plan(ladder: Ladder) -> tuple[dict[str, RunConfig], list[EvalRequest]]:
    """Every run and evaluation of the whole ladder (what the bill of work and a sweep read)."""
    runs: dict[str, RunConfig] = {}
    evals: list[EvalRequest] = []
    for point in ladder.points:
        r, e = point_plan(ladder, point)
        runs.update(r)
        evals += e
    return runs, evals


def measure_point(ladder: Ladder, point: LadderPoint, store: RunStore | None = None, device="auto",
                  progress: bool = True, load_only: bool = False) -> PointResult:
    """C1-C3 at one point over the ladder's seeds, computing what the store lacks (or, with
    `load_only`, nothing: a point the store does not hold in full comes back without gaps)."""
    store = store or RunStore()
    profile = ladder.profile(point)
    runs, evals = point_plan(ladder, point)
    before = recorded_cost_of(profile, store, runs, evals)
    complete = before.runs_recorded == before.runs and before.evals == len({repr(e) for e in evals})
    gaps: dict[str, noise.Gap] = {}
    if complete or not load_only:
        per_image = [headline_per_image(Context(profile, store, device, seed, progress), ratios=list(ladder.ratios))
                     for seed in ladder.seeds_of(point)]
        gaps = headline_gaps(per_image)
        complete = True
    return PointResult(point, profile, ladder.score_updates(point), gaps,
                       recorded_cost_of(profile, store, runs, evals), complete, ladder.seeds_of(point))


def measure(ladder: Ladder, store: RunStore | None = None, device="auto", progress: bool = True,
            load_only: bool = False) -> list[PointResult]:
    """Every point of the ladder, in the order `_config.yml` lists them."""
    return [measure_point(ladder, p, store, device, progress, load_only) for p in ladder.points]


def _apart(a, b) -> bool:
    """Do two rows of `trend_table` have 95% bands that do not overlap?"""
    return b["band from"] > a["band to"] or b["band to"] < a["band from"]


def trend_table(results: list[PointResult]) -> pd.DataFrame:
    """One row per point and headline claim: budget, width, the gap with its 95% band and verdict,
    and the point's measured cost (minutes of training per run, minutes of evaluation)."""
    rows = []
    for r in sorted(results, key=lambda r: (r.point.width, r.score_updates)):
        for h in HEADLINES:
            g = r.gaps.get(h.column)
            low, high = g.band() if g is not None else (None, None)
            rows.append({
                "training images": r.point.n_train, "width": r.point.width, "score updates": r.score_updates,
                "claim": h.column.split("_")[0], "judged under": h.attack, "threshold": h.threshold,
                "gap": g.value if g else None, "band from": low, "band to": high,
                "verdict": gap_verdict(g, h.threshold) if g else "not measured",
                "seeds": g.seeds if g else None,
                "training (min per run)": r.cost.training_s / 60 / r.cost.runs_recorded if r.cost.runs_recorded else None,
                "evaluation (min)": r.cost.evaluation_s / 60 if r.cost.evals_timed else None,
            })
    return pd.DataFrame(rows)


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
        return (self.crossing is not None and self.moves
                and math.log10(self.crossing) <= math.log10(self.largest) + self.span_decades)


def slope(table: pd.DataFrame, claim: str, attack: str, width: float) -> Slope | None:
    """Weighted least squares of the gap on log10(score updates) over one width's points of
    `trend_table` (weights 1 / se^2, each point's se read off its 95% band so that a band widened
    by few seeds counts as wide); None below three points."""
    rows = table[(table["claim"] == claim) & (table["judged under"] == attack) & (table["width"] == width)
                 & table["gap"].notna()].sort_values("score updates")
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
    return Slope(claim, attack, width, len(rows), b, b - 1.96 * b_se, b + 1.96 * b_se,
                 float(ym + b * (x[-1] - xm)), int(rows["score updates"].iloc[-1]), float(x[-1] - x[0]),
                 crossing)


def slope_sentence(s: Slope, threshold: float, paper_updates: int = PAPER_SCORE_UPDATES) -> str:
    """One plain sentence on a fitted trend: its direction (or that it does not move), and
    whether it reaches the threshold within the reach the data allow."""
    head = (f"{s.claim} ({s.attack}, width x{s.width:g}, {s.points} budgets): {s.per_decade:+.2f} points per "
            f"tenfold budget (95% band {s.low:+.2f} to {s.high:+.2f})")
    if not s.moves:
        return head + "; the gap does not move with the budget beyond the noise."
    toward = (s.per_decade > 0) == (s.value_at_largest < threshold)
    if not toward:
        return head + f"; it moves away from the threshold {threshold:+g}."
    if s.crossing is not None and s.crossing <= s.largest:
        return head + f"; the line crosses the threshold {threshold:+g} inside the measured range."
    if s.within_reach:
        return (head + f"; read on no further than our range allows, the line meets the threshold {threshold:+g} "
                f"at about {s.crossing:,.0f} score updates (the paper's search makes {paper_updates:,}).")
    return (head + f"; toward the threshold {threshold:+g}, but the line would meet it only at about "
            f"{s.crossing:,.0f} score updates, beyond the reach of our budgets (the paper's search makes "
            f"{paper_updates:,}): the data do not say it gets there.")


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
        out.append(f"at width x{width:g} it {move}: {a['gap']:+.2f} points "
                   f"({a['band from']:+.2f} to {a['band to']:+.2f}) at {a['score updates']:,} score updates, "
                   f"{b['gap']:+.2f} ({b['band from']:+.2f} to {b['band to']:+.2f}) at {b['score updates']:,}; "
                   f"threshold {a['threshold']:+g}, verdict at the largest budget: {b['verdict']}"
                   + ("" if b["verdict"] != INCONCLUSIVE else " (the threshold lies inside its band)"))
    return "; ".join(out)


def ahead(page, ladder: Ladder) -> str:
    """The page's statement of what the ladder loads and computes (`book.Page.ahead`)."""
    return page.ahead(plan(ladder))


def cost_table(results: list[PointResult]) -> pd.DataFrame:
    """One row per point and one for the whole ladder: runs, the training time per run and the
    evaluation time the store recorded, and the two together."""
    rows = []
    for r in sorted(results, key=lambda r: (r.point.width, r.point.n_train)):
        c = r.cost
        rows.append({"training images": f"{r.point.n_train:,}", "width": f"x{r.point.width:g}",
                     "score updates": f"{r.score_updates:,}", "seeds": len(r.seeds),
                     "runs": f"{c.runs_recorded} of {c.runs}",
                     "training (min per run)": c.training_s / 60 / c.runs_recorded if c.runs_recorded else None,
                     "evaluation (min)": c.evaluation_s / 60,
                     "in all (min)": (c.training_s + c.evaluation_s) / 60})
    total = sum_cost(results)
    rows.append({"training images": "the whole ladder", "width": "", "score updates": "", "seeds": "",
                 "runs": f"{total.runs_recorded} of {total.runs}", "training (min per run)": None,
                 "evaluation (min)": total.evaluation_s / 60, "in all (min)": (total.training_s + total.evaluation_s) / 60})
    return pd.DataFrame(rows).set_index("training images")


def sum_cost(results: list[PointResult]) -> RecordedCost:
    total = RecordedCost()
    for r in results:
        for name in ("runs", "runs_recorded", "training_s", "evals", "evals_timed", "evaluation_s"):
            setattr(total, name, getattr(total, name) + getattr(r.cost, name))
    return total


def untimed_estimate(results: list[PointResult]) -> float:
    """Seconds for the evaluations that recorded no time (cached before evaluations were timed),
    each priced at the mean of its own point's timed evaluations: an estimate, said to be one."""
    return sum((r.cost.evals - r.cost.evals_timed) * r.cost.evaluation_s / r.cost.evals_timed
               for r in results if r.cost.evals_timed)


def cost_sentence(results: list[PointResult]) -> str:
    """The ladder's cost from an empty store, summed from what every run and evaluation recorded."""
    total = sum_cost(results)
    untimed = total.evals - total.evals_timed
    guess = untimed_estimate(results)
    return (f"From an empty run store the whole ladder is {total.runs} training runs and {total.evals} evaluations: "
            f"{total.training_s / 60:.0f} min of training and {total.evaluation_s / 60:.0f} min of evaluation as "
            f"recorded, {(total.training_s + total.evaluation_s) / 3600:.1f} hours in all"
            + (f"; {untimed} evaluations, cached before evaluations recorded their time, add about {guess / 60:.0f} min "
               f"at their point's mean ({(total.training_s + total.evaluation_s + guess) / 3600:.1f} hours)"
               if untimed else "") + ". The paper's "
            f"search makes {PAPER_SCORE_UPDATES:,} score updates, "
            f"{PAPER_SCORE_UPDATES / max(r.score_updates for r in results):.0f}x our largest budget.")


def numbers_table(trend: pd.DataFrame) -> pd.DataFrame:
    """`trend_table` as the page prints it: one row per claim, attack and point, the verdict first."""
    cols = ["claim", "judged under", "training images", "width", "verdict", "gap", "band from", "band to", "seeds"]
    out = trend.sort_values(["claim", "judged under", "width", "score updates"], kind="stable")[cols]
    out = out.assign(claim=[f"{c} (>= {t:+g})" for c, t in zip(out["claim"], trend.loc[out.index, "threshold"])],
                     width=[f"x{w:g}" for w in out["width"]])
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
        out.append(f"at {updates:,} score updates, width x{w['width']:g} gives {w['gap']:+.2f} "
                   f"({w['band from']:+.2f} to {w['band to']:+.2f}) against {a['gap']:+.2f} "
                   f"({a['band from']:+.2f} to {a['band to']:+.2f}) at x{a['width']:g}: {how}")
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
            bullets.append(f"- **{claim} ({h.attack})**: " + "; ".join(p[0].upper() + p[1:] if i == 0 else p
                                                                     for i, p in enumerate(parts)) + ".")
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
        rows = measured[(measured["claim"] == claim) & (measured["judged under"] == "PGD-20")
                        & (measured["width"] == width)].sort_values("score updates")
        if len(rows) < 2:
            continue
        a, b = rows.iloc[0], rows.iloc[-1]
        apart = _apart(a, b)
        moves.append(f"{claim} goes from {a['gap']:+.2f} to {b['gap']:+.2f} points "
                     + ("(the two bands apart)" if apart else "(within the noise: the two bands overlap)")
                     + f", *{b['verdict']}* at the largest budget")
    if not moves:
        return ""
    updates = sorted(measured[measured["width"] == width]["score updates"].unique())
    return (f"**Beyond the paper: scale.** From {updates[0]:,} to {updates[-1]:,} score updates of the search "
            f"(the paper's: {PAPER_SCORE_UPDATES:,}) at width x{width:g}, {' and '.join(moves)} "
            "([the measured trend, with the width](scale.md)).")
