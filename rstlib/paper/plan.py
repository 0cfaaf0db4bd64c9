"""The plan: what the book's pages ask for (every run and evaluation, from the sections' dry runs;
what `rst plan`, `rst sweep` and `make book` read), what the run store already holds, what is
ahead (the bill of work, priced before anything starts: no surprise bills), and the projection of
a whole profile's cost. The intro's headline claims C1-C3 are `rstlib.paper.headline`'s.

A planned run is *loaded* when its results are in the store (committed results without weights
included); an evaluation is loaded when its cache file is there (keyed by the model's recorded
sha256, so no weights are needed to find it). Everything else is computed: runs without results
are trained, and runs whose weights are absent are retrained when an evaluation that is not cached
needs them. The cost is measured here, quickly and within a stated time (a few timed optimiser
steps per network, `rstlib.paper.cost.MEASURE_SECONDS` at most), or, with `measure=False`, from
FLOPs (`rstlib.paper.cost`: the price of a step and of an image's forward pass).
"""

from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Sequence

from rstlib.config.profile import ConfigError, Profile, RunConfig
from rstlib.evaluation.requests import EvalRequest
from rstlib.paper.context import Context
from rstlib.paper.cost import (
    ASSUMED_TFLOPS,
    MEASURE_SECONDS,
    Projection,
    format_hours,
    forward_flops,
    measure_step_seconds,
    n_test_of,
    n_train,
    quick_batch,
    step_forwards,
)
from rstlib.paper.headline import HEADLINE_SEEDS, headline
from rstlib.paper.recorded import RecordedCost, cache_folder, recorded_cost_of
from rstlib.paper.recorded import eval_key as _eval_key
from rstlib.paper.sections import SECTIONS
from rstlib.runtime.device import resolve_device
from rstlib.store.runstore import RunStore

PLANNABLE = (*SECTIONS, "intro", "scale")


def plan(
    profile: Profile, sections: Sequence[str] | None = None, seed: int = 0
) -> tuple[dict[str, RunConfig], list[EvalRequest], dict[str, int]]:
    """Every run and evaluation the given sections need at `profile` (default knobs). `intro` is
    the intro page's headline claims over `HEADLINE_SEEDS`, `scale` the scale page's ladder (the
    one named after the profile, where there is one); no sections given = every page."""
    sections = list(sections or PLANNABLE)
    for s in sections:
        if s not in PLANNABLE:
            raise ConfigError(f"unknown section {s!r}; choose from {sorted(PLANNABLE)}")
    runs: dict[str, RunConfig] = {}
    evals: list[EvalRequest] = []
    per_section = {}
    for s in sections:
        ctx = Context(profile, dry_run=True, seed=seed)
        if s == "intro":
            for headline_seed in HEADLINE_SEEDS:
                ctx.seed = headline_seed
                headline(ctx)
        elif s == "scale":
            from rstlib.paper import scale  # the scale page: the profile's ladder, where it has one

            ladder = scale.ladder_for(profile)
            if ladder is not None:
                ladder_runs, ladder_evals = scale.plan(ladder)
                ctx.planned_runs.update(ladder_runs)
                ctx.planned_evals += ladder_evals
        else:
            SECTIONS[s](ctx)
        per_section[s] = len(ctx.planned_runs)
        runs.update(ctx.planned_runs)
        evals += ctx.planned_evals
    return runs, evals, per_section


def distinct(evals: Sequence[EvalRequest]) -> list[EvalRequest]:
    """The planned evaluations, each once (in plan order): pages request the same evaluation for
    its accuracy, its per-image results and the tables it appears in."""
    return list({repr(e): e for e in evals}.values())


def _to_stderr(message: str):
    print(message, file=sys.stderr, flush=True)


def project(
    profile: Profile,
    sections=None,
    measure: bool = False,
    device="auto",
    planned: tuple | None = None,
    quick: bool = False,
    budget_s: float = MEASURE_SECONDS,
    say=_to_stderr,
) -> Projection:
    """Device-hours of `sections` at `profile`; `planned` = their `sections.plan(...)` (or any
    (runs, evals, per_section) subset of it). quick: measure on a few images per step (CPU).

    A measurement is bounded: each network's step is timed once, with one line through `say`,
    until `budget_s` seconds of timing are spent (at least one network is timed); the networks
    left are priced by their FLOPs at the throughput measured so far (said in `basis`)."""
    runs, planned_evals, per_section = planned or plan(profile, sections)
    evals = distinct(planned_evals)  # a page asks for one evaluation in several places: priced once
    device = resolve_device(device)
    flops_cache: dict[tuple, float] = {}
    step_cache: dict[tuple, float] = {}
    timing = {"seconds": 0.0, "flops": 0.0, "spent": 0.0, "priced": 0}
    quick_cpu = quick and device.type == "cpu"

    def fwd(c: RunConfig) -> float:
        key = (c.arch, c.dataset, c.width)
        if key not in flops_cache:
            flops_cache[key] = forward_flops(*key)
        return flops_cache[key]

    def step_flops(c: RunConfig) -> float:
        return c.train.batch_size * step_forwards(c) * fwd(c)

    def step_seconds(c: RunConfig) -> float:
        key = (c.arch, c.dataset, c.width, c.kind, c.train.batch_size, c.train.attack, c.train.steps, c.precision)
        if key in step_cache:
            return step_cache[key]
        if timing["seconds"] and timing["spent"] >= budget_s:  # budget spent: FLOPs at the measured throughput
            step_cache[key] = step_flops(c) * timing["seconds"] / timing["flops"]
            timing["priced"] += 1
            return step_cache[key]
        batch = quick_batch(c.train.batch_size, step_flops(c) / c.train.batch_size) if quick_cpu else None
        images = f"{batch} of {c.train.batch_size}" if batch else f"{c.train.batch_size}"
        say(f"timing one {c.kind} step of {c.arch} on {c.dataset} ({images} images, {device}) ...")
        t = time.perf_counter()
        seconds = measure_step_seconds(
            c, device, repeats=1 if quick else 3, batch=batch, channels_last=profile.fast.channels_last
        )
        timing["spent"] += time.perf_counter() - t
        timing["seconds"] += seconds
        timing["flops"] += step_flops(c)
        step_cache[key] = seconds
        return seconds

    image_forward_seconds: dict[tuple, float] = {}

    def eval_seconds_per_forward(c: RunConfig) -> float:
        """Seconds of one image's forward pass in an evaluation (fp32)."""
        key = (c.arch, c.dataset, c.width)
        if key not in image_forward_seconds:
            if measure:  # from the measured step of this network
                image_forward_seconds[key] = step_seconds(c) / (c.train.batch_size * step_forwards(c))
            else:
                image_forward_seconds[key] = fwd(c) / (ASSUMED_TFLOPS["fp32"] * 1e12)
        return image_forward_seconds[key]

    per_kind: dict[str, float] = defaultdict(float)
    train_seconds = 0.0
    for c in runs.values():
        steps = c.train.epochs * math.ceil(n_train(c) / c.train.batch_size)
        if measure:
            seconds = steps * step_seconds(c)
        else:
            rate = ASSUMED_TFLOPS[c.precision] * 1e12
            seconds = steps * c.train.batch_size * step_forwards(c) * fwd(c) / rate
        per_kind[c.kind] += seconds / 3600
        train_seconds += seconds
    eval_seconds = 0.0
    crafted = set()
    for e in evals:
        n = n_test_of(profile, e.target.dataset, e.n_test)
        eval_seconds += e.attacked_images(n) * e.forwards(n, crafted) * eval_seconds_per_forward(e.target)
    if measure:
        basis = (
            f"training steps timed on this machine ({device}{', a few images per step' if quick_cpu else ''}); "
            "evaluations priced per forward pass from the same measurement"
        )
        if timing["priced"]:
            basis += (
                f"; {timing['priced']} network(s) past the {budget_s:g} s timing budget priced by FLOPs at "
                "the throughput measured here"
            )
    else:
        basis = (
            f"FLOPs at an assumed achieved {ASSUMED_TFLOPS['bf16']:g} TFLOP/s (bf16) and "
            f"{ASSUMED_TFLOPS['fp32']:g} TFLOP/s (fp32) on one H100-class GPU, not measured; rerun with "
            "--measure on the target device for a measured figure"
        )
    return Projection(
        profile.name, len(runs), len(evals), train_seconds / 3600, eval_seconds / 3600, per_section, dict(per_kind), basis
    )


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
        lines = [
            f"profile {self.profile} on {self.device}: {self.runs_loaded} of {self.runs} training runs and "
            f"{self.evals_loaded} of {self.evals} evaluations are in the run store (loaded, not recomputed)"
        ]
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


def work_ahead(
    profile: Profile,
    store: RunStore,
    sections: Sequence[str] | None = None,
    device="auto",
    planned: tuple | None = None,
    measure: bool = True,
) -> WorkAhead:
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
        ident = repr(key) if key is not None else repr(e)
        if ident in seen:
            continue
        cached = key is not None and store.lookup_eval(cache_folder(store, e), key) is not None
        seen[ident] = cached
        if not cached:
            uncached.append(e)
            for c in e.needs():
                for link in _chain(c):
                    if not store.dir(link).is_done():
                        weights_needed.setdefault(link.run_id(), link)
    ahead.evals, ahead.evals_loaded = len(seen), sum(seen.values())
    ahead.to_train = sorted(untrained)
    retrain = {rid: c for rid, c in weights_needed.items() if rid not in untrained}
    ahead.to_retrain = sorted(retrain)
    if not ahead.nothing_to_compute:
        price = project(profile, planned=({**untrained, **retrain}, uncached, {}), measure=measure, device=device, quick=True)
        ahead.hours, ahead.basis, ahead.measured = price.total_hours, price.basis, measure
    return ahead


def recorded_cost(profile: Profile, store: RunStore, sections: Sequence[str] | None = None) -> RecordedCost:
    """Training and evaluation time that the store's records hold for what `sections` need
    (each run and each evaluation counted once); nothing is computed or timed."""
    runs, evals = plan(profile, sections)[:2]
    return recorded_cost_of(profile, store, runs, evals)
