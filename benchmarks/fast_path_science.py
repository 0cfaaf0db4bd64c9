"""Does the fast path change the science? The same laptop-profile runs (same budget, same data,
same seeds) on the fast path and on the plain path, each evaluated by fp32 PGD-20 on the
profile's test subset, over several seeds: the difference of the means is compared with the
seed-to-seed spread. Not a test: it prints measurements.

    .venv/bin/python benchmarks/fast_path_science.py [--compare channels_last|precision]
        [--kinds search,dense] [--ratios 10] [--seeds 0,1,2] [--runs DIR]

channels_last (default): the memory layout, not part of a run's identity, so each arm trains in
its own store under DIR. precision: bf16 against fp32 training (needs bf16 hardware; the bf16
runs are other run ids).
"""

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rstlib.attacks.registry import AttackSpec  # noqa: E402
from rstlib.config.profile import load_profile  # noqa: E402
from rstlib.config.settings import FastPath, Precision
from rstlib.paper.sections import Context  # noqa: E402
from rstlib.store.runstore import RunStore  # noqa: E402
from rstlib.train import variants as ex  # noqa: E402


def arms(base, compare: str):
    """(label, profile) of the fast arm and the plain arm."""
    if compare == "channels_last":
        return [
            (f"channels_last {on}", dataclasses.replace(base, fast=FastPath(channels_last=on, compile=False)))
            for on in (True, False)
        ]
    return [(p, dataclasses.replace(base, precision=Precision(*[p] * 4))) for p in ("bf16", "fp32")]


def configs(profile, kind: str, ratio: float, seed: int):
    if kind == "search":
        return ex.search_config(profile, "fashion_mnist", "cnn_small", ratio, seed)
    if kind == "dense":
        return ex.dense_config(profile, "fashion_mnist", "cnn_small", adversarial=True, seed=seed)
    if kind == "finetune":
        return ex.finetune_config(profile, "fashion_mnist", "cnn_small", ratio, "inherit", seed=seed)
    return ex.rtt_config(profile, "fashion_mnist", "cnn_small", ratio, seed=seed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", choices=["channels_last", "precision"], default="channels_last")
    parser.add_argument("--kinds", default="search,dense")
    parser.add_argument("--ratios", default="10")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--runs", default="/tmp/rst-fast-path-science", help="scratch stores, one per arm")
    args = parser.parse_args(argv)
    base = load_profile("laptop")
    seeds = [int(s) for s in args.seeds.split(",")]
    print("kind    ratio  arm                   seed  natural  PGD-20  s/epoch")
    for kind in args.kinds.split(","):
        for r in [float(x) for x in args.ratios.split(",")]:
            robust: dict[str, list[float]] = {}
            for label, profile in arms(base, args.compare):
                store = RunStore(Path(args.runs) / label.replace(" ", "-"))
                for seed in seeds:
                    ctx = Context(profile, store, device="cpu", seed=seed, progress=False, announce=False)
                    config = configs(profile, kind, r, seed)
                    metrics = ctx.run(config).metrics()
                    pgd = ctx.accuracy(config)
                    robust.setdefault(label, []).append(pgd)
                    print(
                        f"{kind:7s} {r:5g}  {label:20s}  {seed:4d}  {ctx.accuracy(config, AttackSpec('clean')):7.2f}  "
                        f"{pgd:6.2f}  {metrics['seconds_per_epoch']:7.2f}",
                        flush=True,
                    )
            (fast, a), (plain, b) = robust.items()
            spread = statistics.stdev(a + b) if len(a + b) > 2 else float("nan")
            sd = max(statistics.stdev(a), statistics.stdev(b)) if len(seeds) > 1 else float("nan")
            print(
                f"{kind} {r:g}%: PGD-20 mean {fast} {statistics.mean(a):.2f}, {plain} {statistics.mean(b):.2f}; "
                f"difference {statistics.mean(a) - statistics.mean(b):+.2f} against a seed-to-seed sd of {sd:.2f} "
                f"(pooled {spread:.2f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
