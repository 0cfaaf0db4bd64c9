"""The `rst` command line. Errors become one line on stderr and a non-zero exit."""
from __future__ import annotations

import argparse
import sys

from rstlib.config import ConfigError, check_ratio, default_profile_name, load_profile


def _add_common(p: argparse.ArgumentParser, ratio: bool = True):
    p.add_argument("--profile", default=None, help="paper | laptop | smoke (default: paper with CUDA, else laptop)")
    p.add_argument("--dataset", default=None, help="default: the profile's first dataset")
    p.add_argument("--arch", default=None, help="default: the profile's first arch")
    if ratio:
        p.add_argument("--ratio", type=float, default=None, help="remaining ratio in percent, e.g. 5")
    p.add_argument("--init", default="signed_kaiming_constant")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--runs", default=None, help="run store folder (default: $RST_RUNS or ./runs)")
    p.add_argument("--no-progress", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rst", description="Robust Scratch Tickets: search, train, evaluate.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("search", help="adversarial mask search: draw an RST from random weights")
    _add_common(p)
    p = sub.add_parser("train", help="dense training (adversarial by default)")
    _add_common(p, ratio=False)
    p.add_argument("--natural", action="store_true", help="natural instead of adversarial training")
    p = sub.add_parser("finetune", help="fine-tune an RST's weights with its mask fixed")
    _add_common(p)
    p.add_argument("--weights", choices=["inherit", "reinit"], default="inherit")
    p = sub.add_parser("rtt", help="draw a robust trained ticket from a trained dense network")
    _add_common(p)
    p.add_argument("--source", choices=["natural", "adversarial"], default="adversarial")
    p = sub.add_parser("runs", help="list the runs in the store and their state")
    p.add_argument("--runs", default=None)
    return parser


def _store(args):
    from rstlib.store import RunStore
    return RunStore(args.runs)


def _resolve(args):
    """Profile, dataset, arch and checked numbers, before anything touches the store."""
    from rstlib import data, inits, models
    from rstlib.train import resolve_device
    profile = load_profile(args.profile or default_profile_name())
    dataset = data.canonical_name(args.dataset or profile.datasets[0])
    data.check_dataset(dataset)
    arch = args.arch or next(iter(profile.archs))
    models.check_arch(arch)
    inits.check_init(args.init)
    if getattr(args, "ratio", None) is not None:
        check_ratio(args.ratio)
    resolve_device(args.device)
    return profile, dataset, arch


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
    store = _store(args)
    print(f"profile {profile.name}: {config.run_id()}", flush=True)
    run = store.get_or_run(config, device=args.device, progress=not args.no_progress,
                           channels_last=profile.fast.channels_last, compile=profile.fast.compile)
    m = run.metrics()
    print(f"natural accuracy {m['natural_acc']:.2f}% on {m['n_test']} test images "
          f"({m['seconds_per_epoch']:.2f} s/epoch)")
    print(f"results in {run.path} (metrics.json, model.pt, log.txt)")
    return 0


def _runs_command(args) -> int:
    store = _store(args)
    rows = store.all_runs()
    if not rows:
        print(f"no runs in {store.root}")
    for path, config, status in rows:
        print(f"{status:8s} {path.name}")
    return 0


COMMANDS = {"search": _train_command, "train": _train_command, "finetune": _train_command,
            "rtt": _train_command, "runs": _runs_command}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"rst {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rst {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
