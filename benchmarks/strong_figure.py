"""Which design of the strong figure is at least as strong as the official AutoAttack, image for
image, and what each costs (issue 36). Not a test: it prints measurements.

On the first N test images of some finished runs of a profile (default: laptop-next's dense network
and RSTs at seed 0), it runs every component once (PGD-20 on the cross-entropy, PGD-20 on the CW
margin, APGD-CE, APGD-T, and AutoAttack standard itself), then for each candidate design (an image
counts as robust when it survives every attack of the design) prints its robust accuracy, the images
it counts as robust that AutoAttack breaks, and its time relative to PGD-20.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/strong_figure.py [--n 100] [--profile laptop-next]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rstlib import data as datasets  # noqa: E402
from rstlib.attacks.registry import AttackSpec  # noqa: E402
from rstlib.config.profile import load_profile  # noqa: E402
from rstlib.evaluation.evaluator import craft, score, unpack_bits  # noqa: E402
from rstlib.runtime.device import resolve_device  # noqa: E402
from rstlib.store.runstore import RunStore  # noqa: E402
from rstlib.train import variants as ex  # noqa: E402
from rstlib.train.loop import RunOptions  # noqa: E402
from rstlib.train.run_model import load_run_model  # noqa: E402
from rstlib.train.runner import model_run  # noqa: E402

DESIGNS = {
    "PGD-20 CE (the paper's)": ("pgd20",),
    "CE + margin + APGD-T on the first images (the committed design)": ("pgd20", "pgd20-margin", "apgd-t@first"),
    "CE + margin + APGD-T on every image": ("pgd20", "pgd20-margin", "apgd-t"),
    "CE + margin + APGD-CE + APGD-T on every image": ("pgd20", "pgd20-margin", "apgd-ce", "apgd-t"),
    "CE + margin + AutoAttack standard on every image": ("pgd20", "pgd20-margin", "autoattack"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="test images (the first N of the fixed permutation)")
    parser.add_argument("--profile", default="laptop-next")
    parser.add_argument("--ratios", default="10,30", help="RSTs besides the dense network")
    args = parser.parse_args(argv)
    p = load_profile(args.profile)
    d, arch = p.datasets[0], next(iter(p.archs))
    configs = {"dense": ex.dense_config(p, d, arch, True, 0)}
    configs.update({f"RST {r}%": ex.search_config(p, d, arch, float(r), 0) for r in args.ratios.split(",")})
    ev = p.evaluation
    specs = {
        "pgd20": AttackSpec.pgd20(ev),
        "pgd20-margin": AttackSpec.of("pgd20-margin", ev),
        "apgd-ce": AttackSpec("apgd-ce", eps=ev.eps),
        "apgd-t": AttackSpec("apgd-t", eps=ev.eps),
        "autoattack": AttackSpec("autoattack", eps=ev.eps),
    }
    device = resolve_device("cpu")
    test = datasets.load(d, train=False, n=args.n)
    loader = datasets.BatchLoader(test, ev.batch_size, device, shuffle=False)
    first = min(50, args.n)  # the committed laptop design: APGD-T on the first 50 attacked images
    print(f"{args.profile}: {args.n} images, eps {ev.eps}/255; APGD-T 'first' = the first {first} (the committed laptop design)")
    for label, config in configs.items():
        model = load_run_model(model_run(RunStore(), config, RunOptions(device="cpu", progress=False)))
        robust, seconds = {}, {}
        for name, spec in specs.items():
            t0 = time.time()
            r = score(model, craft(model, loader, spec.build(10, device, 0), 0))
            seconds[name] = time.time() - t0
            robust[name] = unpack_bits(r["correct"], args.n)
        robust["apgd-t@first"] = robust["apgd-t"].copy()
        robust["apgd-t@first"][first:] = True  # APGD-T not run past the first images
        seconds["apgd-t@first"] = seconds["apgd-t"] * first / args.n
        aa = robust["autoattack"]
        print(f"\n{label} ({config.run_id()}): AutoAttack standard leaves {100 * aa.mean():.1f}%")
        for design, parts in DESIGNS.items():
            survives = np.logical_and.reduce([robust[k] for k in parts])
            weaker = int((survives & ~aa).sum())
            cost = sum(seconds[k] for k in parts) / seconds["pgd20"]
            print(
                f"  {design:66s} {100 * survives.mean():5.1f}%  robust here, broken by AutoAttack: {weaker:3d}  "
                f"time {cost:5.1f}x PGD-20"
            )
        print("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items() if k != "apgd-t@first"))


if __name__ == "__main__":
    main()
