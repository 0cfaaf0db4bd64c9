"""The measured cost of each page of the book per budget (attacked images, seeds), on this machine:
the table the staged regeneration chooses its image counts and seeds from. Not a test: it writes
`benchmarks/results/cost_table_<profile>.csv` and prints it.

Each page's plan (`rstlib.paper.plan.plan`) is priced once with its training steps timed here
(`project(..., measure=True)`); evaluations are priced per forward pass from the same timing, so
their cost grows linearly with the images attacked (a page's attacked-image knob, or the profile's
`eval_n_test`). Seeds multiply a page's runs and evaluations (every model trained and attacked
again); the intro's headline already runs over its seeds and is priced as it is. A section page
also loads the intro's headline evaluations (its bands borrow their seed spread): those are priced
once, on the intro's row, never again on a section's.

    .venv/bin/python benchmarks/cost_table.py [--profile laptop-next] [--images 100,300,500,1000,2000,5000,10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rstlib.config.profile import load_profile  # noqa: E402
from rstlib.data.specs import dataset_spec  # noqa: E402
from rstlib.paper.plan import PLANNABLE, plan, project  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def with_images(profile, section: str, images: int):
    """`profile` with `images` attacked by `section`'s evaluations (capped at each test set's size)."""
    s = profile.sections
    if section == "sec3":
        return dataclasses.replace(profile, sections=dataclasses.replace(s, sec3=dataclasses.replace(s.sec3, n_test=images)))
    if section == "sec9":
        cap = min(images, dataset_spec(profile.second_task).test_size)
        return dataclasses.replace(profile, sections=dataclasses.replace(s, sec9=dataclasses.replace(s.sec9, n_test=cap)))
    return dataclasses.replace(profile, eval_n_test=images)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="laptop-next")
    parser.add_argument("--images", default="100,300,500,1000,2000,5000,10000")
    parser.add_argument("--seeds", default="1,3")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    budgets = [int(x) for x in args.images.split(",")]
    seed_counts = [int(x) for x in args.seeds.split(",")]
    rows = []
    for section in [p for p in PLANNABLE if p != "scale"]:
        t0 = time.time()
        base = budgets[0]
        q = with_images(profile, section, base)
        runs, evals, per_section = plan(q, [section])
        if section != "intro":  # the intro's evaluations (the sections' seed terms) are the intro's cost
            intro_runs, intro_evals, _ = plan(q, ["intro"])
            shared = {repr(e) for e in intro_evals}
            runs = {k: c for k, c in runs.items() if k not in intro_runs}
            evals = [e for e in evals if repr(e) not in shared]
        measured = project(q, [section], measure=True, device="cpu", planned=(runs, evals, per_section), say=lambda m: None)
        eval_per_image = measured.eval_hours * 60 / base
        print(f"[cost] {section}: {measured.runs} runs, {measured.evaluations} evaluations ({time.time() - t0:.0f} s)")
        for images in budgets:
            for seeds in seed_counts if section != "intro" else [1]:
                train_min, eval_min = seeds * measured.train_hours * 60, seeds * eval_per_image * images
                rows.append(
                    {
                        "page": section,
                        "images attacked": images,
                        "seeds": seeds if section != "intro" else "intro's",
                        "runs": seeds * measured.runs,
                        "evaluations": seeds * measured.evaluations,
                        "training (min)": round(train_min, 1),
                        "evaluation (min)": round(eval_min, 1),
                        "total (min)": round(train_min + eval_min, 1),
                    }
                )
    table = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"cost_table_{args.profile}.csv"
    table.to_csv(out, index=False)
    print(table.to_string(index=False))
    print(f"basis: {measured.basis}; machine: 2 cores (this one); written to {out}")


if __name__ == "__main__":
    main()
