"""The compute that the run store's records hold for a plan of runs and evaluations (training
time per run, evaluation time per cached evaluation), and the cache key of a planned evaluation:
read from the store, nothing computed or timed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rstlib.config.profile import Profile, RunConfig
from rstlib.evaluation.requests import EvalRequest
from rstlib.store.rundir import RunDir
from rstlib.store.runstore import RunStore


def eval_key(store: RunStore, profile: Profile, e: EvalRequest) -> dict | None:
    """The cache key of a planned evaluation (the request's own, `rstlib.evaluation.requests`), or None
    when a run it needs has no results yet."""
    if not all(store.dir(c).has_results() for c in e.needs()):
        return None
    return e.key(lambda c: store.dir(c).model_digest(), e.n_test if e.n_test is not None else profile.eval_n_test)


def cache_folder(store: RunStore, e: EvalRequest) -> RunDir | None:
    """Where a request's cached result lives: its target's folder, or None for the store's `_evals/`."""
    return None if e.shared() else store.dir(e.target)


@dataclass
class RecordedCost:
    """The compute behind a set of pages as the run store recorded it when it was computed."""

    runs: int = 0
    runs_recorded: int = 0
    training_s: float = 0.0
    evals: int = 0  # evaluations in the store
    evals_timed: int = 0  # of those, the ones that recorded their time
    evaluation_s: float = 0.0


def training_seconds(metrics: dict) -> float:
    """Training wall time a finished run recorded (the sum of its epochs' times)."""
    return float(sum(h.get("epoch_seconds") or 0.0 for h in metrics.get("history", [])))


def recorded_cost_of(profile: Profile, store: RunStore, runs: dict[str, RunConfig], evals: Sequence[EvalRequest]) -> RecordedCost:
    """`recorded_cost` of a given plan (runs by id and evaluation requests, e.g. a context's
    `planned_runs` and `planned_evals`)."""
    cost = RecordedCost(runs=len(runs))
    for c in runs.values():
        run = store.dir(c)
        if run.has_results():
            cost.runs_recorded += 1
            cost.training_s += training_seconds(run.metrics())
    seen = set()
    for e in evals:
        key = eval_key(store, profile, e)
        if key is None or repr(key) in seen:
            continue
        seen.add(repr(key))
        run = cache_folder(store, e)
        if store.lookup_eval(run, key) is None:
            continue
        cost.evals += 1
        seconds = store.eval_seconds(run, key)
        if seconds is not None:
            cost.evals_timed += 1
            cost.evaluation_s += seconds
    return cost
