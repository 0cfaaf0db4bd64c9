"""Does the fast path change the science? The same laptop-profile searches (same seed, same
budget) with bf16 autocast on and off, each evaluated by fp32 PGD-20 on the profile's test subset.

    .venv/bin/python benchmarks/fast_path_science.py [--ratios 10,30]
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rstlib import experiments as ex  # noqa: E402
from rstlib.config import load_profile  # noqa: E402
from rstlib.evaluation import AttackSpec  # noqa: E402
from rstlib.sections import Context  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratios", default="10,30")
    args = parser.parse_args(argv)
    base = load_profile("laptop")
    print("ratio  bf16   natural  PGD-20   s/epoch")
    for r in [float(x) for x in args.ratios.split(",")]:
        for bf16 in (True, False):
            p = dataclasses.replace(base, fast=dataclasses.replace(base.fast, bf16=bf16))
            ctx = Context(p, progress=False)
            config = ex.search_config(p, "fashion_mnist", "cnn_small", r)
            metrics = ctx.run(config).metrics()
            print(f"{r:5g}  {str(bf16):5s}  {ctx.accuracy(config, AttackSpec("clean")):7.2f}  "
                  f"{ctx.accuracy(config):7.2f}  {metrics['seconds_per_epoch']:7.2f}", flush=True)


if __name__ == "__main__":
    main()
