"""The commands about a run store: `rst runs` (list, check, repair) and `rst compare` (does a re-run
reproduce a committed store?)."""

from __future__ import annotations

from rstlib.config.params import check_ratio


def store_of(args):
    from rstlib.store.runstore import RunStore

    return RunStore(args.runs)


def runs_command(args) -> int:
    import json

    from rstlib.results_table import runs_table

    store = store_of(args)
    if args.repair:
        actions = store.repair()
        for line in actions:
            print(line)
        changes = [a for a in actions if not a.startswith("skipped ")]
        print(f"repaired {store.root}: {len(changes)} change(s)" if changes else f"nothing to repair in {store.root}")
        return 0
    t = runs_table(store)
    if args.kind:
        t = t[t.kind == args.kind]
    if args.ratio is not None:
        t = t[t.ratio == check_ratio(args.ratio)]
    if args.state:
        t = t[t.state == args.state]
    if args.json:
        for row in t.to_dict(orient="records"):
            print(json.dumps(row, default=str))
        return 0
    if t.empty:
        print(f"no runs in {store.root}" + (" matching the filters" if len(runs_table(store)) else ""))
        return 0
    import pandas as pd

    def shown(value, fmt: str) -> str:
        return "-" if value is None or pd.isna(value) else format(value, fmt)

    show = t.assign(
        ratio=t.ratio.map(lambda r: shown(r, "g")),
        epochs=[f"{d}/{shown(e, 'd')}" for d, e in zip(t.epochs_done, t.epochs)],
        natural=t.natural.map(lambda x: shown(x, ".2f")),
        pgd20=t.pgd20.map(lambda x: shown(x, ".2f")),
        age=[_age(h, state) for h, state in zip(t.age_h, t.state)],
        profile=t.profile.fillna("(none)"),
        id=t.run_id.str[-12:],
    )
    cols = [
        "profile",
        "kind",
        "variant",
        "dataset",
        "arch",
        "ratio",
        "init",
        "seed",
        "precision",
        "state",
        "epochs",
        "natural",
        "pgd20",
        "age",
        "id",
    ]
    print(show[cols].astype(object).fillna("-").to_string(index=False))
    damaged = t[t.state == "damaged"]
    for run_id, problem in zip(damaged.run_id, damaged.problem):
        print(f"damaged {run_id}: {problem}")
    print(
        f"{len(t)} runs in {store.root}; `rst runs --json` for every field"
        + (
            f"; {len(damaged)} damaged: `rst runs --repair` moves what is damaged to {store.root / '_quarantine'}"
            if len(damaged)
            else ""
        )
    )
    return 0


def _age(hours, state: str) -> str:
    """How long ago a run's files were written here; results-only runs were written elsewhere."""
    if state == "results-only":
        return "committed"
    if hours is None or hours != hours:
        return "-"
    return f"{hours:.1f}h" if hours < 48 else f"{hours / 24:.0f}d"


def compare_command(args) -> int:
    from rstlib.store.compare import compare_stores

    report = compare_stores(args.reference, store_of(args).root, tolerance=args.tolerance)
    for difference in report.differences[: args.show]:
        print(difference)
    for name in report.missing[: args.show]:
        print(f"{name}: missing")
    print(report.summary())
    return 0 if report.reproduced else 1
