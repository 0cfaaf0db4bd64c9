"""The scale ladder measured: its plan (every run and evaluation of each point), each point's
headline claims C1-C3 on the one noise model, and the trend table over the points."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rstlib.config.ladder import Ladder, LadderPoint, ladder_names, load_ladder
from rstlib.config.profile import Profile, RunConfig
from rstlib.evaluation.requests import EvalRequest
from rstlib.paper.claims import noise
from rstlib.paper.claims.verdicts import HEADLINES, gap_verdict, headline_gaps
from rstlib.paper.context import Context
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


def measure_point(
    ladder: Ladder,
    point: LadderPoint,
    store: RunStore | None = None,
    device="auto",
    progress: bool = True,
    load_only: bool = False,
) -> PointResult:
    """C1-C3 at one point over the ladder's seeds, computing what the store lacks (or, with
    `load_only`, nothing: a point the store does not hold in full comes back without gaps)."""
    store = store or RunStore()
    profile = ladder.profile(point)
    runs, evals = point_plan(ladder, point)
    before = recorded_cost_of(profile, store, runs, evals)
    complete = before.runs_recorded == before.runs and before.evals == len({repr(e) for e in evals})
    gaps: dict[str, noise.Gap] = {}
    if complete or not load_only:
        per_image = [
            headline_per_image(Context(profile, store, device, seed, progress), ratios=list(ladder.ratios))
            for seed in ladder.seeds_of(point)
        ]
        gaps = headline_gaps(per_image)
        complete = True
    return PointResult(
        point,
        profile,
        ladder.score_updates(point),
        gaps,
        recorded_cost_of(profile, store, runs, evals),
        complete,
        ladder.seeds_of(point),
    )


def measure(
    ladder: Ladder, store: RunStore | None = None, device="auto", progress: bool = True, load_only: bool = False
) -> list[PointResult]:
    """Every point of the ladder, in the order `_config.yml` lists them."""
    return [measure_point(ladder, p, store, device, progress, load_only) for p in ladder.points]


def trend_table(results: list[PointResult]) -> pd.DataFrame:
    """One row per point and headline claim: budget, width, the gap with its 95% band and verdict,
    and the point's measured cost (minutes of training per run, minutes of evaluation)."""
    rows = []
    for r in sorted(results, key=lambda r: (r.point.width, r.score_updates)):
        for h in HEADLINES:
            g = r.gaps.get(h.column)
            low, high = g.band() if g is not None else (None, None)
            rows.append(
                {
                    "training images": r.point.n_train,
                    "width": r.point.width,
                    "score updates": r.score_updates,
                    "claim": h.column.split("_")[0],
                    "judged under": h.attack,
                    "threshold": h.threshold,
                    "gap": g.value if g else None,
                    "band from": low,
                    "band to": high,
                    "verdict": gap_verdict(g, h.threshold) if g else "not measured",
                    "seeds": g.seeds if g else None,
                    "training (min per run)": r.cost.training_s / 60 / r.cost.runs_recorded if r.cost.runs_recorded else None,
                    "evaluation (min)": r.cost.evaluation_s / 60 if r.cost.evals_timed else None,
                }
            )
    return pd.DataFrame(rows)
