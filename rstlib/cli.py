"""The `rst` command line. Errors become one line on stderr and a non-zero exit."""
from __future__ import annotations

import sys

from rstlib.config import ConfigError, default_profile_name, load_profile
from rstlib.cli_parser import build_parser
from rstlib.params import check_number, check_ratio


def _store(args):
    from rstlib.store import RunStore
    return RunStore(args.runs)


def _resolve(args):
    """Profile, dataset, arch and checked numbers, before anything touches the store."""
    from rstlib import data, inits, models
    from rstlib.platform import resolve_device
    profile = _with_fast_path(load_profile(args.profile or default_profile_name()), args)
    dataset = data.canonical_name(args.dataset or profile.datasets[0])
    data.check_dataset(dataset)
    arch = args.arch or next(iter(profile.archs))
    models.check_arch(arch)
    inits.check_init(args.init)
    if getattr(args, "ratio", None) is not None:
        check_ratio(args.ratio)
    resolve_device(args.device)
    return profile, dataset, arch


def _with_fast_path(profile, args):
    """The profile with the precision and fast-path switches given on the command line."""
    import dataclasses

    from rstlib.config import Precision
    from rstlib.platform import require_precision
    on = {"on": True, "off": False, None: None}
    given = {"channels_last": on[args.channels_last], "compile": on[args.compile]}
    given = {k: v for k, v in given.items() if v is not None}
    if given:
        profile = dataclasses.replace(profile, fast=dataclasses.replace(profile.fast, **given))
    if args.precision:
        profile = dataclasses.replace(profile, precision=Precision(*[args.precision] * 4))
    where = "--precision bf16" if args.precision else f"profile {profile.name!r} (precision in _config.yml)"
    for kind in ("search", "dense", "finetune", "rtt"):
        require_precision(profile.precision.of(kind), args.device, where=where)
    return profile


def _need_ratio(args) -> float:
    if args.ratio is None:
        raise ConfigError("--ratio is required (remaining ratio in percent, e.g. --ratio 5)")
    return check_ratio(args.ratio)


def _train_command(args) -> int:
    from rstlib import experiments as ex
    profile, dataset, arch = _resolve(args)
    if args.command == "search":
        config = ex.search_config(profile, dataset, arch, _need_ratio(args), args.seed, args.init)
    elif args.command == "train":
        config = ex.dense_config(profile, dataset, arch, adversarial=not args.natural, seed=args.seed)
    elif args.command == "finetune":
        config = ex.finetune_config(profile, dataset, arch, _need_ratio(args), args.weights, args.seed, args.init)
    else:
        config = ex.rtt_config(profile, dataset, arch, _need_ratio(args), args.source, args.seed)
    run = _train_or_load(_store(args), config, args, profile, weights=False)
    m = run.metrics()
    print(f"natural accuracy {m['natural_acc']:.2f}% on {m['n_test']} test images "
          f"({m['seconds_per_epoch']:.2f} s/epoch)")
    if run.is_done():
        print(f"results in {run.path} (metrics.json, model.pt, log.txt)")
    else:
        print(f"results in {run.path} (metrics.json; its weights are not in the store and are retrained "
              "when an evaluation needs them)")
    return 0


def _eval_spec(args, profile):
    from rstlib.evaluation import AttackSpec
    e = profile.evaluation
    return AttackSpec(args.attack, eps=e.eps if args.eps is None else args.eps,
                      step=e.step if args.step is None else args.step,
                      steps=e.steps if args.steps is None else args.steps, queries=args.queries)


def _evaluator(args, profile):
    from rstlib.evaluation import Evaluator
    n_test = args.n_test if args.n_test is not None else profile.eval_n_test
    if n_test is not None:
        check_number(n_test, "--n-test", minimum=1, whole=True)
    return Evaluator(_store(args), n_test=n_test, batch_size=profile.evaluation.batch_size,
                     device=args.device, progress=not args.no_progress, run_options=_options(args, profile))


def _options(args, profile):
    from rstlib.train import RunOptions
    return RunOptions.of(profile, device=args.device, progress=not args.no_progress)


def _train_or_load(store, config, args, profile, weights: bool = True):
    """The finished run (with its weights when `weights`: trained or retrained if absent)."""
    from rstlib.runner import model_run, results
    run = store.dir(config)
    state = "in the store" if (run.is_done() or (run.has_results() and not weights)) else "to train"
    print(f"profile {profile.name}: {config.run_id()} ({state})", flush=True)
    return (model_run if weights else results)(store, config, _options(args, profile))


def _run_profile(args, config):
    """The profile whose settings give an evaluation's defaults: --profile, else the run's own."""
    from rstlib.results_table import profile_of
    from rstlib.platform import resolve_device
    resolve_device(args.device)
    name = args.profile or profile_of(config.to_dict()) or default_profile_name()
    return _with_fast_path(load_profile(name), args)


def _eval_target(args):
    """(profile, run config) of `rst eval`: the run named by --run, or --kind/--ratio at --profile."""
    from rstlib import experiments as ex
    if args.run is not None:
        from rstlib.zoo import find_run
        config = find_run(_store(args), args.run)
        return _run_profile(args, config), config
    profile, dataset, arch = _resolve(args)
    if args.kind == "dense":
        return profile, ex.dense_config(profile, dataset, arch, adversarial=not args.natural, seed=args.seed)
    if args.kind == "search":
        return profile, ex.search_config(profile, dataset, arch, _need_ratio(args), args.seed, args.init)
    if args.kind == "finetune":
        return profile, ex.finetune_config(profile, dataset, arch, _need_ratio(args), "inherit", args.seed, args.init)
    return profile, ex.rtt_config(profile, dataset, arch, _need_ratio(args), "adversarial", args.seed)


def _eval_command(args) -> int:
    profile, config = _eval_target(args)
    spec = _eval_spec(args, profile)
    evaluator = _evaluator(args, profile)
    run = _train_or_load(evaluator.store, config, args, profile, weights=False)
    r = evaluator.evaluate(run, spec)
    print(f"{spec.label()}: accuracy {r['acc']:.2f}% on {r['n']} test images "
          f"(max L-inf {r['max_linf'] * 255:.2f}/255, max L2 {r['max_l2']:.3f})")
    print(f"cached in {run.path / 'evals'}")
    return 0


def _r2s_command(args) -> int:
    from rstlib import experiments as ex
    from rstlib.evaluation import AttackSpec
    from rstlib.r2s import evaluate_r2s
    from rstlib.params import parse_ratios
    profile, dataset, arch = _resolve(args)
    ratios = parse_ratios(args.ratios, "--ratios")
    evaluator = _evaluator(args, profile)
    spec = AttackSpec.pgd20(profile.evaluation)
    e = profile.evaluation
    runs = {f"{r:g}%": _train_or_load(evaluator.store, ex.search_config(profile, dataset, arch, r, args.seed, args.init),
                                       args, profile, weights=False) for r in ratios}
    dense = _train_or_load(evaluator.store, ex.dense_config(profile, dataset, arch, True, args.seed), args, profile,
                           weights=False)
    result = evaluate_r2s(evaluator, runs, spec, adaptive=args.adaptive)
    print(f"transfer matrix (PGD-{e.steps}, eps {e.eps:g}/255; rows: source, columns: target):")
    print(result.matrix.round(2).to_string())
    print(f"dense adversarial baseline: natural {evaluator.evaluate(dense, AttackSpec('clean'))['acc']:.2f}%  "
          f"PGD-{e.steps} {evaluator.evaluate(dense, spec)['acc']:.2f}%")
    line = (f"R2S {{{', '.join(result.candidates)}}}: natural {result.natural:.2f}%  "
            f"PGD-{e.steps} (paper protocol) {result.protocol:.2f}%")
    if args.adaptive:
        line += f"  adaptive EOT loss {result.eot_loss:.2f}%  EOT logits {result.eot_logits:.2f}%"
    print(line)
    return 0


def _section_names(args) -> list[str] | None:
    from rstlib.params import parse_list
    return parse_list(args.sections, "sections")


def _plan_command(args) -> int:
    from rstlib.plan import project
    from rstlib.platform import resolve_device
    profile = load_profile(args.profile or default_profile_name())
    sections = _section_names(args)
    device = resolve_device(args.device)
    # on a CPU a paper-size step takes minutes: time a few images per step and scale (said in the report)
    print(project(profile, sections, measure=args.measure, device=device, quick=device.type == "cpu").report())
    return 0


def _sweep_command(args) -> int:
    from rstlib.sweep import sweep
    profile = load_profile(args.profile or default_profile_name())
    sections = _section_names(args)
    store = _store(args)
    from rstlib.plan import format_hours
    report = sweep(profile, sections, executor=args.executor, max_parallel=args.max_parallel,
                   partition=args.partition, gpus_per_job=args.gpus_per_job, time_limit=args.time_limit,
                   dry_run=args.dry_run, store=store, wait=args.wait, device=args.device, seed=args.seed,
                   confirmed=args.yes, measure=args.measure)
    if args.dry_run:
        for rid, c in report.runs.items():
            print(f"{store.dir(c).status():12s} {rid}")
        print("section  runs")
        for sec, n in report.per_section.items():
            print(f"{sec:8s} {n:5d}")
        print(f"{report.total} distinct runs, {report.cached} already in the store, {report.total - report.cached} "
              f"to run; the whole list is about {format_hours(report.hours)} (rst plan, FLOP-based)")
        if report.ahead is not None:
            print(report.ahead.report())
        print("dry run: nothing submitted")
        return 0
    print(f"{len(report.submitted)} runs {'submitted' if args.executor == 'slurm' else 'run'}, "
          f"{report.cached} were already done")
    if report.job_ids:
        print("SLURM job ids: " + " ".join(report.job_ids))
    print(f"logs in {report.log_dir}; `rst runs --runs {store.root}` shows each run's state")
    return 0


def _runs_command(args) -> int:
    import json

    from rstlib.results_table import runs_table
    store = _store(args)
    if args.repair:
        actions = store.repair()
        for line in actions:
            print(line)
        changes = [a for a in actions if not a.startswith("skipped ")]
        print(f"repaired {store.root}: {len(changes)} change(s)" if changes else f"nothing to repair in {store.root}")
        return 0
    t = runs_table(store)
    if args.kind:
        t = t[t.kind == args.kind]
    if args.ratio is not None:
        t = t[t.ratio == check_ratio(args.ratio)]
    if args.state:
        t = t[t.state == args.state]
    if args.json:
        for row in t.to_dict(orient="records"):
            print(json.dumps(row, default=str))
        return 0
    if t.empty:
        print(f"no runs in {store.root}" + (" matching the filters" if len(runs_table(store)) else ""))
        return 0
    import pandas as pd

    def shown(value, fmt: str) -> str:
        return "-" if value is None or pd.isna(value) else format(value, fmt)
    show = t.assign(ratio=t.ratio.map(lambda r: shown(r, "g")),
                    epochs=[f"{d}/{shown(e, 'd')}" for d, e in zip(t.epochs_done, t.epochs)],
                    natural=t.natural.map(lambda x: shown(x, ".2f")), pgd20=t.pgd20.map(lambda x: shown(x, ".2f")),
                    age=[_age(h, state) for h, state in zip(t.age_h, t.state)],
                    profile=t.profile.fillna("(none)"), id=t.run_id.str[-12:])
    cols = ["profile", "kind", "variant", "dataset", "arch", "ratio", "init", "seed", "precision", "state", "epochs",
            "natural", "pgd20", "age", "id"]
    print(show[cols].astype(object).fillna("-").to_string(index=False))
    damaged = t[t.state == "damaged"]
    for run_id, problem in zip(damaged.run_id, damaged.problem):
        print(f"damaged {run_id}: {problem}")
    print(f"{len(t)} runs in {store.root}; `rst runs --json` for every field"
          + (f"; {len(damaged)} damaged: `rst runs --repair` moves what is damaged to "
             f"{store.root / '_quarantine'}" if len(damaged) else ""))
    return 0


def _age(hours, state: str) -> str:
    """How long ago a run's files were written here; results-only runs were written elsewhere."""
    if state == "results-only":
        return "committed"
    if hours is None or hours != hours:
        return "-"
    return f"{hours:.1f}h" if hours < 48 else f"{hours / 24:.0f}d"


def _compare_command(args) -> int:
    from rstlib.compare import compare_stores
    report = compare_stores(args.reference, _store(args).root, tolerance=args.tolerance)
    for difference in report.differences[:args.show]:
        print(difference)
    for name in report.missing[:args.show]:
        print(f"{name}: missing")
    print(report.summary())
    return 0 if report.reproduced else 1


def _scale_command(args) -> int:
    import pandas as pd

    from rstlib import scale
    from rstlib.config import load_ladder
    ladder = load_ladder(args.ladder)
    if args.dry_run:
        for p in ladder.points:
            runs, evals = scale.point_plan(ladder, p)
            print(f"{p.label}: {ladder.score_updates(p):,} score updates, seeds {list(ladder.seeds_of(p))}, "
                  f"{len(runs)} runs, {len(evals)} evaluations")
        return 0
    store = _store(args)
    results = []
    for p in ladder.points:
        print(f"rst scale: {p.label} ({ladder.score_updates(p):,} score updates)", file=sys.stderr, flush=True)
        results.append(scale.measure_point(ladder, p, store, args.device, progress=not args.no_progress))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(scale.trend_table(results).drop(columns=["training (min per run)", "evaluation (min)"]).to_string(index=False))
    print(scale.cost_sentence(results))
    return 0


COMMANDS = {"search": _train_command, "train": _train_command, "finetune": _train_command,
            "rtt": _train_command, "eval": _eval_command, "r2s": _r2s_command, "plan": _plan_command, "sweep": _sweep_command,
            "runs": _runs_command, "compare": _compare_command, "scale": _scale_command}


def _filesystem_hint(args, error: OSError) -> str:
    """What to do about a filesystem error, by where it happened."""
    import errno
    from pathlib import Path

    from rstlib.store import default_root
    if error.errno == errno.ENOSPC:
        return "free some space (nothing half-written was kept; the run resumes from its last checkpoint)"
    if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "check the path"
    root = Path(getattr(args, "runs", None) or default_root()).resolve()
    where = Path(error.filename).resolve() if error.filename else root
    if root != where and root not in where.parents:
        return "check that folder's permissions"
    if args.command in ("eval", "r2s"):
        return ("the store is read-only: its results and models can be read, but a new evaluation is cached in it; "
                "copy the store to a writable folder and pass --runs")
    return "the store is read-only: use a writable --runs folder (or a copy of this one)"


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt  # a run stopped by SIGTERM is left `interrupted`, like Ctrl-C


def main(argv: list[str] | None = None) -> int:
    import signal
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None:
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"rst {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `rst runs | head`
        sys.stderr.close()
        return 0
    except OSError as e:  # read-only store, full disk, permission denied
        print(f"rst {args.command}: error: {e.strerror or e} ({e.filename or 'the run store'}); "
              f"{_filesystem_hint(args, e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rst {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
