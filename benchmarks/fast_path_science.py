"""Does bf16 training change the science? The same laptop-profile searches (same budget) at
precision bf16 and fp32, over several seeds, each evaluated by fp32 PGD-20 on the profile's test
subset. Needs hardware with bf16 (AVX512-BF16/AMX or a bf16 GPU); the bf16 runs are separate run
ids (precision is part of a run's identity).

    .venv/bin/python benchmarks/fast_path_science.py [--ratios 10,30] [--seeds 0,1,2]
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rstlib import experiments as ex  # noqa: E402
from rstlib.config import Precision, load_profile  # noqa: E402
from rstlib.evaluation import AttackSpec  # noqa: E402
from rstlib.sections import Context  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratios", default="10,30")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args(argv)
    base = load_profile("laptop")
    print("ratio  seed  precision  natural  PGD-20   s/epoch")
    for r in [float(x) for x in args.ratios.split(",")]:
        for seed in [int(s) for s in args.seeds.split(",")]:
            for precision in ("bf16", "fp32"):
                p = dataclasses.replace(base, precision=Precision(*[precision] * 4))
                ctx = Context(p, seed=seed, progress=False)
                config = ex.search_config(p, "fashion_mnist", "cnn_small", r, seed)
                metrics = ctx.run(config).metrics()
                print(f"{r:5g}  {seed:4d}  {precision:9s}  {ctx.accuracy(config, AttackSpec('clean')):7.2f}  "
                      f"{ctx.accuracy(config):7.2f}  {metrics['seconds_per_epoch']:7.2f}", flush=True)


if __name__ == "__main__":
    main()
