"""The `rst` command line. Errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys

from rstlib.cli.parser import build_parser
from rstlib.cli.project import plan_command, scale_command, sweep_command
from rstlib.cli.store_commands import compare_command, runs_command, store_of
from rstlib.config.params import check_number, check_ratio
from rstlib.config.profile import ConfigError, default_profile_name, load_profile


def _resolve(args):
    """Profile, dataset, arch and checked numbers, before anything touches the store."""
    from rstlib import data
    from rstlib.nets import inits, models
    from rstlib.runtime.device import resolve_device

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

    from rstlib.config.settings import Precision
    from rstlib.runtime.device import require_precision

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
    from rstlib.train import variants as ex

    profile, dataset, arch = _resolve(args)
    if args.command == "search":
        config = ex.search_config(profile, dataset, arch, _need_ratio(args), args.seed, args.init)
    elif args.command == "train":
        config = ex.dense_config(profile, dataset, arch, adversarial=not args.natural, seed=args.seed)
    elif args.command == "finetune":
        config = ex.finetune_config(profile, dataset, arch, _need_ratio(args), args.weights, args.seed, args.init)
    else:
        config = ex.rtt_config(profile, dataset, arch, _need_ratio(args), args.source, args.seed)
    run = _train_or_load(store_of(args), config, args, profile, weights=False)
    m = run.metrics()
    print(f"natural accuracy {m['natural_acc']:.2f}% on {m['n_test']} test images ({m['seconds_per_epoch']:.2f} s/epoch)")
    if run.is_done():
        print(f"results in {run.path} (metrics.json, model.safetensors, log.txt)")
    else:
        print(
            f"results in {run.path} (metrics.json; its weights are not in the store and are retrained "
            "when an evaluation needs them)"
        )
    return 0


def _eval_spec(args, profile):
    from rstlib.attacks.registry import AttackSpec

    # the supplement's budget for the attack at the profile (CW-Inf: 100 iterations of step eps/4), as the book runs it
    return AttackSpec.of(args.attack, profile.evaluation, eps=args.eps, step=args.step, steps=args.steps, queries=args.queries)


def _evaluator(args, profile):
    from rstlib.evaluation.evaluator import Evaluator

    n_test = args.n_test if args.n_test is not None else profile.eval_n_test
    if n_test is not None:
        check_number(n_test, "--n-test", minimum=1, whole=True)
    return Evaluator(
        store_of(args),
        n_test=n_test,
        batch_size=profile.evaluation.batch_size,
        device=args.device,
        progress=not args.no_progress,
        run_options=_options(args, profile),
    )


def _options(args, profile):
    from rstlib.train.loop import RunOptions

    return RunOptions.of(profile, device=args.device, progress=not args.no_progress)


def _train_or_load(store, config, args, profile, weights: bool = True):
    """The finished run (with its weights when `weights`: trained or retrained if absent)."""
    from rstlib.train.runner import model_run, results

    run = store.dir(config)
    state = "in the store" if (run.is_done() or (run.has_results() and not weights)) else "to train"
    print(f"profile {profile.name}: {config.run_id()} ({state})", flush=True)
    return (model_run if weights else results)(store, config, _options(args, profile))


def _run_profile(args, config):
    """The profile whose settings give an evaluation's defaults: --profile, else the run's own."""
    from rstlib.results_table.run_rows import profile_of
    from rstlib.runtime.device import resolve_device

    resolve_device(args.device)
    name = args.profile or profile_of(config.to_dict()) or default_profile_name()
    return _with_fast_path(load_profile(name), args)


def _eval_target(args):
    """(profile, run config) of `rst eval`: the run named by --run, or --kind/--ratio at --profile."""
    from rstlib.train import variants as ex

    if args.run is not None:
        from rstlib.evaluation.zoo import find_run

        config = find_run(store_of(args), args.run)
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
    print(
        f"{spec.label()}: accuracy {r['acc']:.2f}% on {r['n']} test images "
        f"(max L-inf {r['max_linf'] * 255:.2f}/255, max L2 {r['max_l2']:.3f})"
    )
    print(f"cached in {run.path / 'evals'}")
    return 0


def _r2s_command(args) -> int:
    from rstlib.attacks.registry import AttackSpec
    from rstlib.config.params import parse_ratios
    from rstlib.evaluation.r2s import evaluate_r2s
    from rstlib.train import variants as ex

    profile, dataset, arch = _resolve(args)
    ratios = parse_ratios(args.ratios, "--ratios")
    evaluator = _evaluator(args, profile)
    spec = AttackSpec.pgd20(profile.evaluation)
    e = profile.evaluation
    runs = {
        f"{r:g}%": _train_or_load(
            evaluator.store, ex.search_config(profile, dataset, arch, r, args.seed, args.init), args, profile, weights=False
        )
        for r in ratios
    }
    dense = _train_or_load(
        evaluator.store, ex.dense_config(profile, dataset, arch, True, args.seed), args, profile, weights=False
    )
    result = evaluate_r2s(evaluator, runs, spec, adaptive=args.adaptive)
    print(f"transfer matrix (PGD-{e.steps}, eps {e.eps:g}/255; rows: source, columns: target):")
    print(result.matrix.round(2).to_string())
    print(
        f"dense adversarial baseline: natural {evaluator.evaluate(dense, AttackSpec('clean'))['acc']:.2f}%  "
        f"PGD-{e.steps} {evaluator.evaluate(dense, spec)['acc']:.2f}%"
    )
    line = (
        f"R2S {{{', '.join(result.candidates)}}}: natural {result.natural:.2f}%  "
        f"PGD-{e.steps} (paper protocol) {result.protocol:.2f}%"
    )
    if args.adaptive:
        line += f"  adaptive EOT loss {result.eot_loss:.2f}%  EOT logits {result.eot_logits:.2f}%"
    print(line)
    return 0


COMMANDS = {
    "search": _train_command,
    "train": _train_command,
    "finetune": _train_command,
    "rtt": _train_command,
    "eval": _eval_command,
    "r2s": _r2s_command,
    "plan": plan_command,
    "sweep": sweep_command,
    "runs": runs_command,
    "compare": compare_command,
    "scale": scale_command,
}


def _filesystem_hint(args, error: OSError) -> str:
    """What to do about a filesystem error, by where it happened."""
    import errno
    from pathlib import Path

    from rstlib.store.runstore import default_root

    if error.errno == errno.ENOSPC:
        return "free some space (nothing half-written was kept; the run resumes from its last checkpoint)"
    if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "check the path"
    root = Path(getattr(args, "runs", None) or default_root()).resolve()
    where = Path(error.filename).resolve() if error.filename else root
    if root != where and root not in where.parents:
        return "check that folder's permissions"
    if args.command in ("eval", "r2s"):
        return (
            "the store is read-only: its results and models can be read, but a new evaluation is cached in it; "
            "copy the store to a writable folder and pass --runs"
        )
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
        print(
            f"rst {args.command}: error: {e.strerror or e} ({e.filename or 'the run store'}); {_filesystem_hint(args, e)}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"rst {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
