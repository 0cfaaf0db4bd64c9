"""The commands about the whole reproduction: `rst plan` (what a profile computes, priced), `rst sweep`
(run it, locally or on SLURM) and `rst scale` (the headline claims along a scale ladder)."""

from __future__ import annotations

import sys

from rstlib.cli.store_commands import store_of
from rstlib.config.profile import default_profile_name, load_profile


def _section_names(args) -> list[str] | None:
    from rstlib.config.params import parse_list

    return parse_list(args.sections, "sections")


def plan_command(args) -> int:
    from rstlib.paper.plan import project
    from rstlib.runtime.device import resolve_device

    profile = load_profile(args.profile or default_profile_name())
    sections = _section_names(args)
    device = resolve_device(args.device)
    # on a CPU a paper-size step takes minutes: time a few images per step and scale (said in the report)
    print(project(profile, sections, measure=args.measure, device=device, quick=device.type == "cpu").report())
    return 0


def sweep_command(args) -> int:
    from rstlib.paper.sweep import sweep

    profile = load_profile(args.profile or default_profile_name())
    sections = _section_names(args)
    store = store_of(args)
    from rstlib.paper.cost import format_hours

    report = sweep(
        profile,
        sections,
        executor=args.executor,
        max_parallel=args.max_parallel,
        partition=args.partition,
        gpus_per_job=args.gpus_per_job,
        time_limit=args.time_limit,
        dry_run=args.dry_run,
        store=store,
        wait=args.wait,
        device=args.device,
        seed=args.seed,
        confirmed=args.yes,
        measure=args.measure,
        train_only=args.train_only,
    )
    if args.dry_run:
        for rid, c in report.runs.items():
            print(f"{store.dir(c).status():12s} {rid}")
        print("section  runs")
        for sec, n in report.per_section.items():
            print(f"{sec:8s} {n:5d}")
        print(
            f"{report.total} distinct runs, {report.cached} already in the store, {report.total - report.cached} "
            f"to run; the whole list is about {format_hours(report.hours)} (rst plan, FLOP-based)"
        )
        if report.ahead is not None:
            print(report.ahead.report())
        print("dry run: nothing submitted")
        return 0
    print(f"{len(report.submitted)} runs {'submitted' if args.executor == 'slurm' else 'run'}, {report.cached} were already done")
    if report.job_ids:
        print("SLURM job ids: " + " ".join(report.job_ids))
    print(f"logs in {report.log_dir}; `rst runs --runs {store.root}` shows each run's state")
    return 0


def scale_command(args) -> int:
    import pandas as pd

    from rstlib.config.ladder import load_ladder
    from rstlib.paper import scale

    ladder = load_ladder(args.ladder)
    if args.dry_run:
        for p in ladder.points:
            runs, evals = scale.point_plan(ladder, p)
            print(
                f"{p.label}: {ladder.score_updates(p):,} score updates, seeds {list(ladder.seeds_of(p))}, "
                f"{len(runs)} runs, {len(evals)} evaluations"
            )
        return 0
    store = store_of(args)
    results = []
    for p in ladder.points:
        print(f"rst scale: {p.label} ({ladder.score_updates(p):,} score updates)", file=sys.stderr, flush=True)
        results.append(scale.measure_point(ladder, p, store, args.device, progress=not args.no_progress))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(scale.trend_table(results).drop(columns=["training (min per run)", "evaluation (min)"]).to_string(index=False))
    print(scale.cost_sentence(results))
    return 0
