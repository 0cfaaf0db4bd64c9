"""Wall time of each evaluation attack on N Fashion-MNIST test images for a laptop-profile RST
(trained, or loaded from the run store). Not a test: it prints measurements.

    .venv/bin/python benchmarks/attack_walltime.py [--n 1000] [--ratio 10] [--attacks pgd20,cw-l2,...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rstlib import data as datasets  # noqa: E402
from rstlib.config.profile import load_profile  # noqa: E402
from rstlib.evaluation.evaluator import craft, score  # noqa: E402
from rstlib.paper.sections.attacks_accuracy import sec3_attacks  # noqa: E402
from rstlib.store.runstore import RunStore  # noqa: E402
from rstlib.train import variants as ex  # noqa: E402
from rstlib.train.loop import RunOptions  # noqa: E402
from rstlib.train.run_model import load_run_model  # noqa: E402
from rstlib.train.runner import model_run  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--ratio", type=float, default=10)
    parser.add_argument(
        "--attacks", default="pgd20,cw-l2,cw-inf,bandits,autoattack", help="which of Sec. 3's attacks (at the profile's eps)"
    )
    parser.add_argument("--queries", type=int, default=None, help="Bandits budget (default: the profile's Sec. 3 one)")
    args = parser.parse_args(argv)
    profile = load_profile("laptop")
    queries = args.queries or profile.sections.sec3.bandits_queries
    run = model_run(RunStore(), ex.search_config(profile, "fashion_mnist", "cnn_small", args.ratio), RunOptions(device="cpu"))
    model = load_run_model(run, "cpu")
    loader = datasets.BatchLoader(datasets.load("fashion_mnist", train=False, n=args.n), 250, torch.device("cpu"), shuffle=False)
    specs = {spec.name: spec for spec in sec3_attacks(profile, [profile.evaluation.eps], queries).values()}
    print(f"model {run.path.name}; {args.n} Fashion-MNIST test images; {torch.get_num_threads()} threads")
    clean = score(model, craft(model, loader, None))["acc"]
    print(f"clean: {clean:.2f}%")
    for name in args.attacks.split(","):
        spec = specs[name]
        t = time.time()
        batches = craft(model, loader, spec.build(10, torch.device("cpu"), 0))
        seconds = time.time() - t
        r = score(model, batches)
        print(
            f"{spec.label():22s} acc {r['acc']:6.2f}%  wall {seconds:7.1f} s  "
            f"({args.n / seconds:.1f} img/s; max L-inf {r['max_linf'] * 255:.1f}/255)",
            flush=True,
        )


if __name__ == "__main__":
    main()
