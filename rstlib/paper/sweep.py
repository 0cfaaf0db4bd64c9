"""Run a profile's sections as a sweep: the training runs the sections' dry-run plans list
(exactly what the notebooks later load), then one evaluation task per section.

Executors: `slurm` (submitit job arrays, one run per task, the waves chained by SLURM
dependencies) and `local` (a process pool of N workers; on CUDA each worker gets its own GPU).
The run store is the shared state: a task that dies, times out or is cancelled leaves its last
checkpoint, and the next sweep (or submitit's requeue on timeout/preemption) resumes it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from rstlib.config.profile import ConfigError, Profile, RunConfig
from rstlib.paper.context import Context
from rstlib.paper.headline import HEADLINE_SEEDS, headline
from rstlib.paper.plan import CONFIRM_HOURS, PLANNABLE, plan, project, work_ahead
from rstlib.paper.sections import SECTIONS
from rstlib.store.runstore import RunStore
from rstlib.train.loop import RunOptions
from rstlib.train.runner import model_run

EXECUTORS = ("local", "slurm")


def parse_time_limit(text: str) -> int:
    """'12h', '90m', '1h30m', '45' (minutes) -> minutes."""
    t = str(text).strip().lower()
    try:
        if "h" in t:
            h, _, rest = t.partition("h")
            return int(float(h) * 60) + (int(rest.rstrip("m")) if rest.rstrip("m") else 0)
        return int(float(t.rstrip("m")))
    except ValueError:
        raise ConfigError(f"time limit must look like 12h, 90m or 1h30m, got {text!r}") from None


def waves(runs: dict[str, RunConfig]) -> list[list[RunConfig]]:
    """Runs grouped so that every run's parent is in an earlier wave."""
    depth: dict[str, int] = {}

    def d(c: RunConfig) -> int:
        rid = c.run_id()
        if rid not in depth:
            depth[rid] = 0 if c.parent is None else d(c.parent) + 1
        return depth[rid]

    out: dict[int, list[RunConfig]] = {}
    for c in runs.values():
        out.setdefault(d(c), []).append(c)
    return [out[k] for k in sorted(out)]


# -- what a task does (module-level so that workers and SLURM can import it) ----------------


class TrainTask:
    """Train (or resume, or load) one run. submitit calls `checkpoint` on timeout/preemption:
    requeueing the same call resumes from the run's last checkpoint."""

    def __call__(self, config: dict, store_root: str, options: dict | None = None) -> dict:
        cfg = RunConfig.from_dict(config)
        run = model_run(RunStore(store_root), cfg, RunOptions(**(options or {})))
        return {"run_id": cfg.run_id(), "natural_acc": run.metrics()["natural_acc"]}

    def checkpoint(self, *args, **kwargs):
        import submitit

        return submitit.helpers.DelayedSubmission(TrainTask(), *args, **kwargs)


class SectionTask:
    """Compute a section's evaluations (its training runs are done by then)."""

    def __call__(self, section: str, profile: Profile, store_root: str, seed: int = 0, device: str = "auto") -> dict:
        """`profile` is the sweep's own Profile object (pickled to the worker), never reloaded by
        name: a profile changed in Python evaluates what it trained."""
        p = profile
        if section == "intro":
            for s in HEADLINE_SEEDS:
                headline(Context(p, RunStore(store_root), device=device, seed=s, progress=False))
            return {"section": section, "claims": 3}
        if section == "scale":
            from rstlib.paper import scale

            ladder = scale.ladder_for(p)
            points = scale.measure(ladder, RunStore(store_root), device, progress=False) if ladder else []
            return {"section": section, "points": len(points)}
        result = SECTIONS[section](Context(p, RunStore(store_root), device=device, seed=seed, progress=False))
        return {"section": section, "claims": len(result.claims)}

    def checkpoint(self, *args, **kwargs):
        import submitit

        return submitit.helpers.DelayedSubmission(SectionTask(), *args, **kwargs)


def _worker_init(gpu_queue):
    if gpu_queue is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu_queue.get())


@dataclass
class SweepReport:
    total: int
    cached: int
    submitted: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    log_dir: Path | None = None
    per_section: dict[str, int] = field(default_factory=dict)
    hours: float | None = None
    runs: dict[str, RunConfig] = field(default_factory=dict)  # the whole list, finished runs included
    ahead: object | None = None  # rstlib.paper.plan.WorkAhead: what is loaded, what is computed, priced here


def sweep(
    profile: Profile,
    sections=None,
    executor: str = "local",
    max_parallel: int = 2,
    partition: str | None = None,
    gpus_per_job: int = 1,
    time_limit: str = "12h",
    dry_run: bool = False,
    store: RunStore | None = None,
    log_dir: str | Path | None = None,
    wait: bool = False,
    device: str = "auto",
    seed: int = 0,
    estimate_hours: bool = True,
    runs: dict[str, RunConfig] | None = None,
    confirmed: bool = False,
    say=print,
    measure: bool = False,
    train_only: bool = False,
) -> SweepReport:
    """List the sections' runs (or the given `runs`), skip finished ones, run or submit the
    rest, then the sections' evaluations (not with `train_only`); see the module doc. More than `CONFIRM_HOURS` of new
    work is refused (ConfigError) unless `confirmed`. A dry run times nothing unless `measure`
    (FLOP-based figures, at once); a local sweep that starts work times its steps (bounded, see
    `rstlib.paper.plan.project`) to price it here."""
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}; choose one of {EXECUTORS}")
    if max_parallel < 1:
        raise ConfigError(f"--max-parallel must be >= 1, got {max_parallel}")
    if gpus_per_job < 0:
        raise ConfigError(f"--gpus-per-job must be >= 0, got {gpus_per_job}")
    minutes = parse_time_limit(time_limit)
    sections = [] if runs is not None and not sections else list(sections or PLANNABLE)
    unknown = [s for s in sections if s not in PLANNABLE]
    if unknown:
        raise ConfigError(f"unknown section(s) {unknown}; choose from {sorted(PLANNABLE)}")
    if executor == "slurm" and not dry_run and shutil.which("sbatch") is None:
        raise ConfigError(
            "--executor slurm needs SLURM's sbatch on PATH (not found); use --executor local or run on a SLURM login node"
        )
    store = store or RunStore()
    planned = None
    if runs is None:
        planned = plan(profile, sections, seed=seed)
        runs, _, per_section = planned
    else:
        per_section = {"(given)": len(runs)}
    todo = {k: c for k, c in runs.items() if not store.dir(c).has_results()}
    report = SweepReport(total=len(runs), cached=len(runs) - len(todo), per_section=per_section, runs=runs)
    if estimate_hours and sections:
        report.hours = project(profile, sections, planned=planned).total_hours
        if executor == "local":  # priced on this device; SLURM nodes are elsewhere (FLOP-based figure above)
            report.ahead = work_ahead(profile, store, sections, device=device, planned=planned, measure=measure or not dry_run)
    if dry_run:
        return report
    new_hours = report.ahead.hours if report.ahead is not None else (report.hours or 0.0) * len(todo) / max(len(runs), 1)
    if new_hours > CONFIRM_HOURS and not confirmed:
        raise ConfigError(
            f"about {new_hours:.1f} device-hours of new work; run again with --yes to start it (--dry-run lists it)"
        )
    log_dir = Path(log_dir or store.root / "_sweep_logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    report.log_dir = log_dir
    train_waves = waves(todo)
    evaluated = [] if train_only else sections
    if executor == "local":
        _run_local(train_waves, evaluated, profile, store, max_parallel, device, seed, report, say)
    else:
        _submit_slurm(
            train_waves, evaluated, profile, store, max_parallel, partition, gpus_per_job, minutes, log_dir, wait, seed, report
        )
    return report


def _run_local(train_waves, sections, profile, store, max_parallel, device, seed, report, say=print):
    """A process pool; prints each run's start and end and runs done / total with elapsed time."""
    import multiprocessing as mp

    import torch

    ctx = mp.get_context("spawn")
    gpu_queue = None
    if torch.cuda.is_available() and str(device) != "cpu":
        gpu_queue = ctx.Manager().Queue()
        for i in range(torch.cuda.device_count()):
            gpu_queue.put(i)
        max_parallel = min(max_parallel, torch.cuda.device_count())
    options = dataclasses.asdict(RunOptions.of(profile, device=str(device), progress=False, announce=False))
    total = sum(len(w) for w in train_waves)
    done, t0 = 0, time.time()
    say(
        f"local sweep: {total} runs to train in {len(train_waves)} waves on {max_parallel} workers, "
        f"then {len(sections)} evaluation tasks",
        flush=True,
    )
    with ProcessPoolExecutor(max_workers=max_parallel, mp_context=ctx, initializer=_worker_init, initargs=(gpu_queue,)) as pool:
        for wave in train_waves:
            futures = {}
            for c in wave:
                store.dir(c).set_status("queued", executor="local")
                futures[pool.submit(TrainTask(), c.to_dict(), str(store.root), options)] = c
                report.submitted.append(c.run_id())
                say(f"[{_elapsed(t0)}] start {c.run_id()}", flush=True)
            for f in as_completed(futures):
                result = f.result()
                done += 1
                say(
                    f"[{_elapsed(t0)}] done  {result['run_id']} (natural {result['natural_acc']:.2f}%): {done}/{total} runs",
                    flush=True,
                )
        evals = {pool.submit(SectionTask(), s, profile, str(store.root), seed, device): s for s in sections}
        for i, f in enumerate(as_completed(evals), 1):
            f.result()
            say(f"[{_elapsed(t0)}] evaluations of {evals[f]} done: {i}/{len(evals)} tasks", flush=True)


def _elapsed(t0: float) -> str:
    s = int(time.time() - t0)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _submit_slurm(
    train_waves, sections, profile, store, max_parallel, partition, gpus_per_job, minutes, log_dir, wait, seed, report
):
    import submitit

    previous = None
    jobs = []
    for i, wave in enumerate(train_waves + [None]):
        ex = submitit.AutoExecutor(folder=str(log_dir / "%j"), cluster="slurm")
        params = {
            "timeout_min": minutes,
            "slurm_array_parallelism": max_parallel,
            "cpus_per_task": 2,
            "name": f"rst-{profile.name}-{'eval' if wave is None else f'wave{i}'}",
        }
        if gpus_per_job:
            params["gpus_per_node"] = gpus_per_job
        if partition:
            params["slurm_partition"] = partition
        if previous:
            params["slurm_additional_parameters"] = {"dependency": f"afterok:{previous}"}
        ex.update_parameters(**params)
        if wave is None:
            if not sections:
                break
            batch = ex.map_array(
                SectionTask(), sections, [profile] * len(sections), [str(store.root)] * len(sections), [seed] * len(sections)
            )
        else:
            options = dataclasses.asdict(RunOptions.of(profile, progress=False, announce=False))
            batch = ex.map_array(TrainTask(), [c.to_dict() for c in wave], [str(store.root)] * len(wave), [options] * len(wave))
            for c, job in zip(wave, batch):
                store.dir(c).set_status("queued", executor="slurm", job_id=job.job_id)
                report.submitted.append(c.run_id())
        if batch:
            previous = batch[0].job_id.split("_")[0]
            report.job_ids.append(previous)
            jobs += batch
    if wait:
        for job in jobs:
            job.result()
