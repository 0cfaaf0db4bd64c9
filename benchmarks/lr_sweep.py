"""The laptop recipe's learning rates, chosen on validation images (never on test images).

The score lr of the RST search and the weight lr of dense adversarial training are swept over one
grid, the same way: each (kind, lr, seed) is trained with the profile's recipe but that lr, then
scored by PGD-20 (the profile's evaluation budget) and clean accuracy on validation images carved
from the training split (`rstlib.data.validation`: disjoint from the training subset; the test set
is never read). The lr of a kind is the grid value with the highest mean validation PGD-20 accuracy
over seeds (and, for the search, over the ratios). Not a test: it writes
`benchmarks/results/lr_sweep_<profile>.json` after every model, so a killed sweep resumes where it
stopped (its runs live in a run store of their own, `--runs`).

    .venv/bin/python benchmarks/lr_sweep.py [--profile laptop] [--seeds 0,1] [--n-val 2000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rstlib import data as datasets  # noqa: E402
from rstlib.config.profile import load_profile  # noqa: E402
from rstlib.evaluation.zoo import evaluate  # noqa: E402
from rstlib.store.runstore import RunStore  # noqa: E402
from rstlib.train import variants as ex  # noqa: E402
from rstlib.train.loop import RunOptions  # noqa: E402
from rstlib.train.run_model import load_run_model  # noqa: E402
from rstlib.train.runner import model_run  # noqa: E402

GRID = (0.025, 0.05, 0.1, 0.2, 0.4, 0.8)
RESULTS = Path(__file__).resolve().parent / "results"


def configs(profile, seeds, ratios, grids):
    """(kind, ratio, lr, seed, RunConfig) in the order they are trained: one seed of everything first;
    `grids`: kind -> its learning rates."""
    dataset, arch = profile.datasets[0], next(iter(profile.archs))
    for seed in seeds:
        for lr in sorted(set(grids["dense"]) | set(grids["search"])):
            if lr in grids["dense"]:
                dense = ex.dense_config(profile, dataset, arch, True, seed)
                yield "dense", 100.0, lr, seed, dataclasses.replace(dense, train=dataclasses.replace(dense.train, lr=lr))
            if lr in grids["search"]:
                for ratio in ratios:
                    rst = ex.search_config(profile, dataset, arch, ratio, seed)
                    yield "search", float(ratio), lr, seed, dataclasses.replace(rst, train=dataclasses.replace(rst.train, lr=lr))


def choose(rows: list[dict]) -> dict:
    """Per kind: mean validation PGD-20 (and clean) accuracy per lr over seeds and ratios, and the argmax."""
    out = {}
    for kind in sorted({r["kind"] for r in rows}):
        by_lr: dict[float, list[dict]] = {}
        for r in rows:
            if r["kind"] == kind and r["finite"]:
                by_lr.setdefault(r["lr"], []).append(r)
        table = {
            str(lr): {
                "val_pgd20": statistics.fmean(r["val_pgd20"] for r in rs),
                "val_clean": statistics.fmean(r["val_clean"] for r in rs),
                "models": len(rs),
            }
            for lr, rs in sorted(by_lr.items())
        }
        # finalists: the learning rates measured on the most models (a second seed runs only for the best
        # of the first); among them the highest mean validation PGD-20 (ties: the smaller lr)
        most = max((v["models"] for v in table.values()), default=0)
        finalists = [lr for lr in table if table[lr]["models"] == most]
        best = max(finalists, key=lambda lr: (table[lr]["val_pgd20"], -float(lr))) if finalists else None
        out[kind] = {"by_lr": table, "finalists": finalists, "chosen_lr": float(best) if best else None}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="laptop")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--ratios", default="10,30", help="RST remaining ratios (%%) the score lr is chosen over")
    parser.add_argument("--grid", default=",".join(map(str, GRID)))
    parser.add_argument("--dense-grid", default=None, help="the dense lrs (default: --grid)")
    parser.add_argument("--search-grid", default=None, help="the search's score lrs (default: --grid)")
    parser.add_argument("--n-val", type=int, default=2000, help="validation images (from the training split)")
    parser.add_argument("--runs", default="benchmarks/_sweep_runs", help="the sweep's own run store")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    seeds = [int(s) for s in args.seeds.split(",")]
    ratios = [float(r) for r in args.ratios.split(",")]
    grid = [float(g) for g in args.grid.split(",")]
    grids = {
        "dense": [float(g) for g in args.dense_grid.split(",")] if args.dense_grid else grid,
        "search": [float(g) for g in args.search_grid.split(",")] if args.search_grid else grid,
    }
    dataset = profile.datasets[0]
    val = datasets.validation(dataset, args.n_val, profile.n_train)
    ev = profile.evaluation
    out_path = RESULTS / f"lr_sweep_{args.profile}.json"
    done = json.loads(out_path.read_text()) if out_path.is_file() else {}
    rows = [r for r in done.get("rows", []) if r.get("n_val") == args.n_val]
    seen = {(r["kind"], r["ratio"], r["lr"], r["seed"]) for r in rows}
    store = RunStore(args.runs)
    options = RunOptions.of(profile, device="cpu", progress=False)
    todo = [c for c in configs(profile, seeds, ratios, grids) if c[:4] not in seen]
    print(f"[sweep] {len(rows)} models recorded, {len(todo)} to go; validation: {len(val)} training-split images", flush=True)
    for i, (kind, ratio, lr, seed, config) in enumerate(todo, 1):
        t0 = time.time()
        run = model_run(store, config, options)
        metrics = run.metrics()
        losses = [h["train_loss"] for h in metrics["history"]]
        finite = all(math.isfinite(loss) for loss in losses)
        model = load_run_model(run, "cpu").eval()
        clean = evaluate(model, "clean", val, device="cpu")["acc"] if finite else float("nan")
        pgd = (
            evaluate(model, "pgd20", val, eps=ev.eps, step=ev.step, steps=ev.steps, batch_size=ev.batch_size, device="cpu")["acc"]
            if finite
            else float("nan")
        )
        rows.append(
            {
                "kind": kind,
                "ratio": ratio,
                "lr": lr,
                "seed": seed,
                "run_id": config.run_id(),
                "finite": finite,
                "val_clean": clean,
                "val_pgd20": pgd,
                "n_val": len(val),
                "train_seconds": metrics["seconds_per_epoch"] * len(metrics["history"]),
                "final_train_loss": losses[-1],
            }
        )
        record = {
            "profile": args.profile,
            "what": (
                "score lr (search) and dense lr chosen the same way on validation PGD-20 accuracy: seed 0 over the "
                "grid, seed 1 for the best two of each kind, the best mean over both seeds among those finalists "
                "(ties: the smaller lr)"
            ),
            "validation": f"{len(val)} images of the {dataset} training split, disjoint from its first {profile.n_train}",
            "evaluation": {"eps": ev.eps, "step": ev.step, "steps": ev.steps},
            "grid": sorted(set(grid) | set(grids["dense"]) | set(grids["search"])),
            "seeds": sorted({r["seed"] for r in rows}),
            "ratios": ratios,
            "rows": rows,
            "choice": choose(rows),
        }
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        tmp.replace(out_path)
        print(
            f"[sweep] {i}/{len(todo)} {kind} r{ratio:g} lr {lr:g} s{seed}: val clean {clean:.2f}, PGD-20 {pgd:.2f} "
            f"({time.time() - t0:.0f} s)",
            flush=True,
        )
    print(json.dumps(choose(rows), indent=1))


if __name__ == "__main__":
    main()
