"""The `rst` command line's arguments: every command, every flag, with help text."""

from __future__ import annotations

import argparse
import functools

from rstlib.attacks.registry import attack_help


@functools.lru_cache(maxsize=1)
def profile_help() -> str:
    """'--profile' help naming every profile of _config.yml (the file the commands will read)."""
    import yaml

    from rstlib.config.profile import find_config_file

    try:
        names = list(yaml.safe_load(find_config_file().read_text())["profiles"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        names = ["paper", "gpu-night", "laptop", "smoke"]
    return f"{' | '.join(names)} (from _config.yml; default: paper with CUDA, else laptop)"


def _add_common(p: argparse.ArgumentParser, ratio: bool = True):
    p.add_argument("--profile", default=None, help=profile_help())
    p.add_argument("--dataset", default=None, help="default: the profile's first dataset")
    p.add_argument("--arch", default=None, help="default: the profile's first arch")
    if ratio:
        p.add_argument("--ratio", type=float, default=None, help="remaining ratio in percent, e.g. 5")
    p.add_argument(
        "--init",
        default="signed_kaiming_constant",
        help="initialisation of the random weights: signed_kaiming_constant (the paper's, default), "
        "kaiming_normal, kaiming_uniform, xavier_normal",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random network and the data order (default 0)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present) | cpu | cuda | cuda:N")
    p.add_argument("--runs", default=None, help="run store folder (default: $RST_RUNS or ./runs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (progress lines still go to stderr)")
    p.add_argument(
        "--precision",
        choices=["fp32", "bf16"],
        default=None,
        help="training arithmetic of every kind this command trains (default: the profile's; part of "
        "the run's identity, so bf16 names other runs; evaluation attacks always run in fp32)",
    )
    fast = p.add_argument_group(
        "fast path (default: the profile's; does not change a run's identity, but its "
        "arithmetic differs in the last bits: a committed run retrained with another "
        "setting comes back as other weights, and says so)"
    )
    fast.add_argument("--channels-last", choices=["on", "off"], default=None, help="channels_last memory layout")
    fast.add_argument("--compile", choices=["on", "off"], default=None, help="torch.compile the model")


class OneLineErrors(argparse.ArgumentParser):
    """argparse with the CLI's error format: one line (no usage block), exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (`{self.prog} --help` lists the options)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(prog="rst", description="Robust Scratch Tickets: search, train, evaluate.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "search", help="adversarial mask search: draw an RST from random weights (trains it unless it is in the store)"
    )
    _add_common(p)
    p = sub.add_parser("train", help="dense training (adversarial by default)")
    _add_common(p, ratio=False)
    p.add_argument("--natural", action="store_true", help="natural instead of adversarial training")
    p = sub.add_parser(
        "finetune", help="fine-tune an RST's weights with its mask fixed (searches the RST first if it is not in the store)"
    )
    _add_common(p)
    p.add_argument("--weights", choices=["inherit", "reinit"], default="inherit")
    p = sub.add_parser(
        "rtt",
        help="draw a robust trained ticket from a trained dense network (trains the dense "
        "network first if it is not in the store)",
    )
    _add_common(p)
    p.add_argument("--source", choices=["natural", "adversarial"], default="adversarial")
    p = sub.add_parser(
        "eval",
        help="evaluate a run under an attack (cached; trains the run, or retrains its weights, "
        "only when the evaluation is not in the store)",
    )
    _add_common(p)
    p.add_argument(
        "--kind",
        choices=["search", "dense", "finetune", "rtt"],
        default="search",
        help="which run to evaluate (default: the RST of --ratio)",
    )
    p.add_argument(
        "--run",
        default=None,
        metavar="RUN_ID",
        help="evaluate this run of the store (its id, or the 12 hex digits `rst runs` shows) instead "
        "of --kind/--ratio; its profile gives the default budget",
    )
    p.add_argument("--attack", default="pgd20", help="default pgd20 (the paper's); " + attack_help())
    p.add_argument("--eps", type=float, default=None, help="L-inf budget in 1/255 (default: the profile's)")
    p.add_argument(
        "--step",
        type=float,
        default=None,
        help="step in 1/255 (default: the attack's budget in the supplement at the profile: PGD-20 the "
        "profile's step, CW-Inf eps/4)",
    )
    p.add_argument(
        "--steps", type=int, default=None, help="iterations (default: the supplement's: PGD-20 the profile's 20, CW-Inf 100)"
    )
    p.add_argument("--queries", type=int, default=None, help="Bandits query budget (default: the supplement's 10,000)")
    p.add_argument("--n-test", type=int, default=None, help="test images to attack (default: the profile's)")
    p.add_argument("--natural", action="store_true", help="with --kind dense: the naturally trained net")
    p = sub.add_parser(
        "r2s",
        help="Random RST Switch over a candidate set of remaining ratios; also trains (or loads) "
        "the adversarially trained dense baseline it is compared with",
    )
    _add_common(p, ratio=False)
    p.add_argument("--ratios", required=True, help="candidate set, remaining ratios in percent: 7,10,15,20,30")
    p.add_argument("--adaptive", action="store_true", help="also run the adaptive EOT attacks")
    p.add_argument("--n-test", type=int, default=None, help="test images to attack (default: the profile's)")
    p = sub.add_parser("plan", help="every run the book needs at a profile, and its device-hours")
    p.add_argument("--profile", default=None, help=profile_help())
    p.add_argument("--sections", default=None, help="e.g. sec3,sec6,intro (default: every page)")
    p.add_argument("--measure", action="store_true", help="time the training steps on this machine")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (with --measure)")
    p = sub.add_parser("sweep", help="run or submit every run of some sections (SLURM or local workers), then their evaluations")
    p.add_argument("--profile", default=None, help=profile_help())
    group = p.add_mutually_exclusive_group()
    group.add_argument("--sections", default=None, help="e.g. sec3,sec6")
    group.add_argument("--all", action="store_true", help="every section (the default)")
    p.add_argument("--executor", default="local", help="local (worker processes, default) | slurm (job arrays through submitit)")
    p.add_argument("--max-parallel", type=int, default=2, help="workers (local) or array tasks at once (slurm)")
    p.add_argument("--partition", default=None, help="SLURM partition")
    p.add_argument("--gpus-per-job", type=int, default=1, help="GPUs per SLURM task (0 for CPU nodes)")
    p.add_argument("--time-limit", default="12h", help="SLURM time limit per task, e.g. 12h, 90m, 1h30m")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="list the runs, what is cached and the FLOP-based device-hours at once; submit nothing",
    )
    p.add_argument(
        "--measure",
        action="store_true",
        help="with --dry-run: also time a few training steps per network on this device (at most "
        "about a minute, progress on stderr)",
    )
    p.add_argument("--yes", action="store_true", help="start even when the new work exceeds one device-hour")
    p.add_argument("--wait", action="store_true", help="(slurm) wait until every job has finished")
    p.add_argument(
        "--train-only", action="store_true", help="train the runs and stop: no evaluations (a later sweep computes them)"
    )
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (local executor)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sections' runs (default 0)")
    p.add_argument("--runs", default=None, help="run store folder (default: $RST_RUNS or ./runs)")
    p = sub.add_parser(
        "scale",
        help="run (or resume) a scale ladder of the headline claims C1-C3 (_config.yml's "
        "ladders:), then print every point's gaps, bands and verdicts",
    )
    p.add_argument("--ladder", default="laptop", help="a ladder of _config.yml's ladders: (default: laptop)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--dry-run", action="store_true", help="list the points and what each needs; compute nothing")
    p.add_argument("--runs", default=None, help="run store folder (default: $RST_RUNS or ./runs)")
    p.add_argument("--no-progress", action="store_true", help="no per-run progress lines on stderr")
    p = sub.add_parser("runs", help="the runs in the store as a table: configuration, state, epochs, accuracy")
    p.add_argument("--runs", default=None, help="run store folder (default: $RST_RUNS or ./runs)")
    p.add_argument("--kind", choices=["search", "dense", "finetune", "rtt"], default=None, help="only this kind")
    p.add_argument("--ratio", type=float, default=None, help="only this remaining ratio (percent)")
    p.add_argument(
        "--state", default=None, help="only this state: done, results-only, running, queued, interrupted, failed, damaged"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per run, for scripts")
    p.add_argument(
        "--repair",
        action="store_true",
        help="move damaged files and runs (checksums of weights verified) to <runs>/_quarantine and "
        "remove temporary files left by killed processes; deletes nothing else",
    )
    p = sub.add_parser("compare", help="check that a store reproduces a reference store's results (exit 1 if not)")
    p.add_argument("reference", help="the reference run store, e.g. a clone's committed runs/")
    p.add_argument("--runs", default=None, help="the store to check (default: $RST_RUNS or ./runs)")
    p.add_argument("--tolerance", type=float, default=0.0, help="allowed absolute difference of numbers")
    p.add_argument("--show", type=int, default=20, help="list at most this many differing fields")
    return parser
