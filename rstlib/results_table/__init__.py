"""Every result of a run store as one tidy table, read from the JSON files alone (committed results
load without any weights and without training).

One row is one number, and every column that tells two numbers apart is explicit, so that a
filter or a pivot cannot silently average different things:

- `evaluation`: `training` (natural accuracy at the end of training, on the run's own test
  images), `white-box` (an attack crafted on the model itself), `transfer` (crafted on
  `attack_source_run`), `r2s-protocol` (the paper's R2S protocol over `candidate_set`: mean
  natural accuracy of the members, mean of the transfer matrix), `r2s-adaptive` (EOT attacks and
  AutoAttack rand through the whole set, and R2S's strong figure);
- `attack`: one name per measure (`clean` is natural accuracy everywhere), with its budget in
  `eps`, `step` (1/255 units), `steps`, `queries`;
- `n_images`: the images the number is measured on; `profile`: the `_config.yml` profile whose
  settings built the run (None: a configuration of no profile).

`results(...)` with filters is a view for the common questions: one row per run (or candidate
set) and measure, at the largest image count. The book's tables come back from it, e.g. Sec. 3
Table 1 and Sec. 6 Table 3 (see `table1` and `table3`, which are exactly those queries).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from rstlib.results_table.r2s_rows import r2s_rows, spec_id
from rstlib.results_table.reading import evaluations, read_or_none
from rstlib.results_table.run_rows import RUN_COLUMNS, profiles_here, run_row
from rstlib.store.files import METRICS
from rstlib.store.runstore import RunStore

MEASURE_COLUMNS = [
    "evaluation",
    "attack",
    "eps",
    "step",
    "steps",
    "queries",
    "n_images",
    "attack_source_run",
    "candidate_set",
    "members",
    "acc",
]
COLUMNS = RUN_COLUMNS + MEASURE_COLUMNS
INTEGER_COLUMNS = ["seed", "epochs", "steps", "queries", "n_images"]
EVALUATIONS = ("training", "white-box", "transfer", "r2s-protocol", "r2s-adaptive")
# what tells two numbers of one run (or candidate set) apart; the view keeps the largest n_images of each
IDENTITY = [
    "run_id",
    "candidate_set",
    "kind",
    "dataset",
    "evaluation",
    "attack",
    "eps",
    "step",
    "steps",
    "queries",
    "attack_source_run",
]


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    for col in INTEGER_COLUMNS:
        df[col] = pd.array([None if v is None or v != v else int(v) for v in df[col]], dtype="Int64")
    for col in ("width", "ratio", "eps", "step", "acc"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def _pgd20_budget(profile) -> dict | None:
    """The attack key of the profile's white-box PGD-20 (its eps, step and steps); None without a
    profile (a run of no profile shows no PGD-20 column: `results()` lists every budget it has)."""
    from rstlib.attacks.registry import AttackSpec

    return AttackSpec.pgd20(profile.evaluation).key() if profile is not None else None


def runs_table(store: RunStore | None = None) -> pd.DataFrame:
    """One row per run, sorted by kind, dataset, network, ratio (as a number) and seed: its
    configuration and profile, state, epochs done, natural and PGD-20 accuracy (at its profile's
    budget, on the most images evaluated) where known, the
    age of its newest file (`age_h`; None for results-only runs, whose files came from elsewhere,
    e.g. a clone of committed results), and for a `damaged` run what is damaged (`problem`)."""
    store = store or RunStore()
    profiles = profiles_here()
    rows = []
    for path, config, state in store.all_runs():
        row = run_row(path, config, state, profiles)
        metrics = read_or_none(path / METRICS)
        row["natural"] = metrics.get("natural_acc") if metrics else None
        ckpts = sorted(path.glob("ckpt-*.pt"))
        row["epochs_done"] = (
            len(metrics["history"])
            if metrics and "history" in metrics
            else (int(ckpts[-1].stem.split("-")[1]) + 1 if ckpts else 0)
        )
        budget = _pgd20_budget(profiles.get(row["profile"]))  # the profile's own PGD-20, never another eps
        pgd = [r for r in evaluations(path) if r["key"].get("source") is None and r["key"].get("attack") == budget]
        row["pgd20"] = max(pgd, key=lambda r: r["result"].get("n", 0))["result"]["acc"] if pgd else None
        if state == "results-only":
            row["age_h"] = None
        else:
            newest = max((p.stat().st_mtime for p in path.iterdir()), default=time.time())
            row["age_h"] = (time.time() - newest) / 3600
        row["problem"] = (
            "; ".join(f"{p.relative_to(path)}: {why}" for p, why in store.problems(path)) if state == "damaged" else None
        )
        rows.append(row)
    table = pd.DataFrame(rows, columns=RUN_COLUMNS + ["epochs_done", "natural", "pgd20", "age_h", "problem"])
    for col in ("seed", "epochs", "epochs_done"):
        table[col] = pd.array([None if v is None or v != v else int(v) for v in table[col]], dtype="Int64")
    table["ratio"] = pd.to_numeric(table["ratio"], errors="coerce")
    return table.sort_values(
        ["kind", "dataset", "arch", "variant", "ratio", "init", "seed", "run_id"], na_position="last", kind="stable"
    ).reset_index(drop=True)


def results(
    store: RunStore | str | Path | None = None,
    *,
    kind: str | None = None,
    attack: str | None = None,
    white_box: bool | None = None,
    evaluation: str | None = None,
    dataset: str | None = None,
    profile: str | None = None,
) -> pd.DataFrame:
    """Every run and every cached evaluation of `store` (default: ./runs or $RST_RUNS) as one tidy
    DataFrame, one row per number (see the module doc for the columns).

    With any filter it is a view: the rows that match (`white_box=True`: evaluation `white-box`;
    False: every other), one per run (or candidate set) and measure, at the largest image count,
    e.g. `results(kind="search", attack="pgd20", white_box=True)` is the PGD-20 figure of every
    RST, one row each."""
    store = store if isinstance(store, RunStore) else RunStore(store)
    profiles = profiles_here()
    rows: list[dict] = []
    configs: dict[str, dict] = {}
    profile_by_run: dict[str, str | None] = {}
    cells: dict[tuple, dict] = {}  # (target, source, attack key, n_test, seed) -> result, for R2S protocol
    clean: dict[tuple, dict] = {}
    for path, config, state in store.all_runs():
        configs[path.name] = config
        base = run_row(path, config, state, profiles)
        profile_by_run[path.name] = base["profile"]
        metrics = read_or_none(path / METRICS)
        if metrics:
            rows.append(
                {
                    **base,
                    "evaluation": "training",
                    "attack": "clean",
                    "acc": metrics.get("natural_acc"),
                    "n_images": metrics.get("n_test"),
                }
            )
        for r in evaluations(path):
            key, res = r["key"], r["result"]
            spec = key.get("attack") or {}
            source = key.get("source")
            rows.append(
                {
                    **base,
                    "evaluation": "transfer" if source else "white-box",
                    "attack": key.get("name"),
                    "eps": spec.get("eps"),
                    "step": spec.get("step"),
                    "steps": spec.get("steps"),
                    "queries": spec.get("queries"),
                    "n_images": res.get("n", key.get("n_test")),
                    "attack_source_run": source,
                    "acc": res.get("acc"),
                }
            )
            ident = (key.get("n_test"), key.get("seed"))
            if key.get("name") == "clean" and not source:
                clean[(path.name, *ident)] = res
            elif key.get("name") == "pgd20":
                cells[(path.name, source or path.name, spec_id(spec), *ident)] = res
    rows += r2s_rows(store, configs, cells, clean, profile_by_run)
    df = _typed(pd.DataFrame(rows, columns=COLUMNS))
    if all(v is None for v in (kind, attack, white_box, evaluation, dataset, profile)):
        return df
    return view(df, kind=kind, attack=attack, white_box=white_box, evaluation=evaluation, dataset=dataset, profile=profile)


def view(
    df: pd.DataFrame, *, kind=None, attack=None, white_box=None, evaluation=None, dataset=None, profile=None
) -> pd.DataFrame:
    """The rows of `results()`'s table that match, one per run (or candidate set) and measure at
    the largest image count."""
    if evaluation is not None and evaluation not in EVALUATIONS:
        from rstlib.errors import ConfigError

        raise ConfigError(f"unknown evaluation {evaluation!r}; choose one of {EVALUATIONS}")
    keep = pd.Series(True, index=df.index)
    for col, value in (
        ("kind", kind),
        ("attack", attack),
        ("evaluation", evaluation),
        ("dataset", dataset),
        ("profile", profile),
    ):
        if value is not None:
            keep &= df[col] == value
    if white_box is not None:
        keep &= (df.evaluation == "white-box") == white_box
    out = df[keep].sort_values("n_images", ascending=False, kind="stable", na_position="last")
    out = out.drop_duplicates(subset=IDENTITY, keep="first")
    return out.sort_index().reset_index(drop=True)
