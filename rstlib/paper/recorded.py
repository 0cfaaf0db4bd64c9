"""The compute that the run store's records hold for a plan of runs and evaluations (training
time per run, evaluation time per cached evaluation), and the cache key of a planned evaluation:
read from the store, nothing computed or timed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rstlib.config.profile import Profile, RunConfig
from rstlib.evaluate.evaluator import Evaluator
from rstlib.evaluate.r2s import aa_rand_key, eot_key
from rstlib.paper.context import EvalRequest
from rstlib.store.runstore import RunStore


def eval_key(store: RunStore, profile: Profile, e: EvalRequest) -> dict | None:
    """The cache key of a planned evaluation, or None when a run it needs has no results yet."""
    needed = [c for _, c in e.members] or [e.target] + ([e.source] if e.source is not None else [])
    if not all(store.dir(c).has_results() for c in needed):
        return None
    evaluator = Evaluator(store, n_test=e.n_test if e.n_test is not None else profile.eval_n_test,
                          batch_size=profile.evaluation.batch_size, device="cpu")
    if e.members:
        runs = {label: store.dir(c) for label, c in e.members}
        if e.eot_over == "rand":
            return aa_rand_key(evaluator, runs, e.attack.eps, e.strong_images)
        return eot_key(evaluator, runs, e.attack, e.eot_over, e.eot_loss)
    if e.strong_images is not None:
        return evaluator.strong_key(store.dir(e.target), e.attack, e.strong_images)
    source = store.dir(e.source) if e.source is not None else None
    return evaluator.key(store.dir(e.target), e.attack, source)


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


def recorded_cost_of(profile: Profile, store: RunStore, runs: dict[str, RunConfig],
                     evals: Sequence[EvalRequest]) -> RecordedCost:
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
        run = None if e.members else store.dir(e.target)
        if store.lookup_eval(run, key) is None:
            continue
        cost.evals += 1
        seconds = store.eval_seconds(run, key)
        if seconds is not None:
            cost.evals_timed += 1
            cost.evaluation_s += seconds
    return cost
