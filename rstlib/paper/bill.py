"""What a page, the book or a sweep will load from the run store and what it will compute, priced
on this device before anything starts (no surprise bills).

A planned run is *loaded* when its results are in the store (committed results without weights
included); an evaluation is loaded when its cache file is there (keyed by the model's recorded
sha256, so no weights are needed to find it). Everything else is computed: runs without results
are trained, and runs whose weights are absent are retrained when an evaluation that is not cached
needs them. The cost is measured here, quickly and within a stated time (a few timed optimiser
steps per network, `rstlib.paper.cost.MEASURE_SECONDS` at most), or, with `measure=False`, from FLOPs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from rstlib.config.profile import Profile, RunConfig
from rstlib.paper.context import EvalRequest
from rstlib.paper.cost import format_hours, project
from rstlib.paper.plan import plan
from rstlib.paper.recorded import RecordedCost, recorded_cost_of, training_seconds  # noqa: F401
from rstlib.paper.recorded import eval_key as _eval_key
from rstlib.runtime.device import resolve_device
from rstlib.store.runstore import RunStore

CONFIRM_HOURS = 1.0  # above this much new work, `make book` and `rst sweep` ask for confirmation


@dataclass
class WorkAhead:
    profile: str
    device: str
    runs: int
    runs_loaded: int
    to_train: list[str] = field(default_factory=list)  # no results in the store
    to_retrain: list[str] = field(default_factory=list)  # results here, weights needed for a new evaluation
    evals: int = 0
    evals_loaded: int = 0
    hours: float = 0.0
    basis: str = ""
    measured: bool = False  # priced from steps timed on this device (else from FLOPs)

    @property
    def nothing_to_compute(self) -> bool:
        return not self.to_train and not self.to_retrain and self.evals_loaded == self.evals

    def needs_confirmation(self) -> bool:
        return self.hours > CONFIRM_HOURS

    def report(self, limit: int = 8) -> str:
        lines = [f"profile {self.profile} on {self.device}: {self.runs_loaded} of {self.runs} training runs and "
                 f"{self.evals_loaded} of {self.evals} evaluations are in the run store (loaded, not recomputed)"]
        if self.nothing_to_compute:
            lines.append("nothing to compute: every number is loaded from the store")
            return "\n".join(lines)
        for what, ids in (("to train", self.to_train), ("to retrain (weights not in the store)", self.to_retrain)):
            if ids:
                shown = ", ".join(ids[:limit]) + (f", ... ({len(ids) - limit} more)" if len(ids) > limit else "")
                lines.append(f"{len(ids)} runs {what}: {shown}")
        lines.append(f"{self.evals - self.evals_loaded} evaluations to compute")
        where = "on this device" if self.measured else "FLOP-based"
        lines.append(f"projected: about {format_hours(self.hours)} {where} ({self.basis})")
        return "\n".join(lines)


def _chain(config: RunConfig):
    while config is not None:
        yield config
        config = config.parent


def work_ahead(profile: Profile, store: RunStore, sections: Sequence[str] | None = None, device="auto",
               planned: tuple | None = None, measure: bool = True) -> WorkAhead:
    """What `sections` (default: every page) will load and compute at `profile`, priced here
    (timed steps, bounded; `measure=False`: FLOP-based, nothing timed). `planned`: a
    (runs, evals, ...) plan already made (e.g. a page's dry run)."""
    runs, evals = (planned or plan(profile, sections))[:2]
    device = resolve_device(device)
    ahead = WorkAhead(profile.name, str(device), len(runs), 0)
    untrained = {rid: c for rid, c in runs.items() if not store.dir(c).has_results()}
    ahead.runs_loaded = len(runs) - len(untrained)
    seen: dict[str, bool] = {}
    uncached: list[EvalRequest] = []
    weights_needed: dict[str, RunConfig] = {}
    for e in evals:
        key = _eval_key(store, profile, e)
        ident = repr(key) if key is not None else repr((e.target.run_id(), e.attack, e.source and e.source.run_id(),
                                                        e.n_test, e.eot_over, e.eot_loss, e.strong_images,
                                                        [c.run_id() for _, c in e.members]))
        if ident in seen:
            continue
        cached = key is not None and store.lookup_eval(None if e.members else store.dir(e.target), key) is not None
        seen[ident] = cached
        if not cached:
            uncached.append(e)
            for c in [c for _, c in e.members] or [e.target] + ([e.source] if e.source is not None else []):
                for link in _chain(c):
                    if not store.dir(link).is_done():
                        weights_needed.setdefault(link.run_id(), link)
    ahead.evals, ahead.evals_loaded = len(seen), sum(seen.values())
    ahead.to_train = sorted(untrained)
    retrain = {rid: c for rid, c in weights_needed.items() if rid not in untrained}
    ahead.to_retrain = sorted(retrain)
    if not ahead.nothing_to_compute:
        price = project(profile, planned=({**untrained, **retrain}, uncached, {}), measure=measure, device=device,
                        quick=True)
        ahead.hours, ahead.basis, ahead.measured = price.total_hours, price.basis, measure
    return ahead


def recorded_cost(profile: Profile, store: RunStore, sections: Sequence[str] | None = None) -> RecordedCost:
    """Training and evaluation time that the store's records hold for what `sections` need
    (each run and each evaluation counted once); nothing is computed or timed."""
    runs, evals = plan(profile, sections)[:2]
    return recorded_cost_of(profile, store, runs, evals)
