"""Every result of a run store as one tidy table, read from the JSON files alone (committed results
load without any weights and without training)."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from rstlib.store import RunStore, read_json

RUN_COLUMNS = ["run_id", "kind", "dataset", "arch", "width", "ratio", "init", "seed", "precision", "finetune_weights",
               "parent", "train_attack", "variant", "epochs", "state"]


def _variant(config: dict) -> str:
    """What tells runs of one kind apart: adv/nat (dense), inherit/reinit (fine-tune), the trained
    network an RTT is drawn from (and its task when it is another)."""
    kind, train, parent = config.get("kind"), config.get("train") or {}, config.get("parent") or {}
    if kind == "dense":
        return "nat" if train.get("attack") == "none" else "adv"
    if kind == "finetune":
        return config.get("finetune_weights") or "-"
    if kind == "rtt" and parent:
        src = "from nat" if (parent.get("train") or {}).get("attack") == "none" else "from adv"
        return src + (f" on {parent.get('dataset')}" if parent.get("dataset") != config.get("dataset") else "")
    return "-"


def _run_row(path: Path, config: dict, state: str) -> dict:
    train = config.get("train") or {}
    parent = config.get("parent") or {}
    return {"run_id": path.name, "kind": config.get("kind"), "dataset": config.get("dataset"),
            "arch": config.get("arch"), "width": config.get("width"), "ratio": config.get("ratio"),
            "init": config.get("init"), "seed": config.get("seed"), "precision": config.get("precision"),
            "finetune_weights": config.get("finetune_weights"),
            "parent": f"{parent.get('kind')} ({(parent.get('train') or {}).get('attack')})" if parent else None,
            "train_attack": train.get("attack"), "variant": _variant(config) if config else "-",
            "epochs": train.get("epochs"), "state": state}


def runs_table(store: RunStore | None = None) -> pd.DataFrame:
    """One row per run: its configuration, state, epochs done, natural and PGD-20 accuracy where
    known, the age of its last file, and for a `damaged` run what is damaged (`problem`)."""
    store = store or RunStore()
    rows = []
    for path, config, state in store.all_runs():
        row = _run_row(path, config, state)
        metrics = _read(path / "metrics.json")
        row["natural"] = metrics.get("natural_acc") if metrics else None
        ckpts = sorted(path.glob("ckpt-*.pt"))
        row["epochs_done"] = len(metrics["history"]) if metrics and "history" in metrics else (
            int(ckpts[-1].stem.split("-")[1]) + 1 if ckpts else 0)
        pgd = [r for r in _evals(path) if r["key"].get("name") == "pgd20" and r["key"].get("source") is None]
        row["pgd20"] = pgd[0]["result"]["acc"] if pgd else None
        newest = max((p.stat().st_mtime for p in path.iterdir()), default=time.time())
        row["age_h"] = (time.time() - newest) / 3600
        row["problem"] = ("; ".join(f"{p.relative_to(path)}: {why}" for p, why in store.problems(path))
                          if state == "damaged" else None)
        rows.append(row)
    return pd.DataFrame(rows, columns=RUN_COLUMNS + ["epochs_done", "natural", "pgd20", "age_h", "problem"])


def results(store: RunStore | str | Path | None = None) -> pd.DataFrame:
    """Every run and every cached evaluation of `store` (default: ./runs or $RST_RUNS) as one
    tidy DataFrame: one row per (run, measurement), with the run's configuration columns and
    `measure` (natural_test = the training metrics' natural accuracy, or an attack name), `eps`,
    `steps`, `n_test`, `source` (transfer attacks), `acc`. R2S evaluations of a candidate set
    (in `_evals/`) have kind 'r2s' and their members in `source`."""
    store = store if isinstance(store, RunStore) else RunStore(store)
    rows = []
    for path, config, state in store.all_runs():
        base = _run_row(path, config, state)
        metrics = _read(path / "metrics.json")
        if metrics:
            rows.append({**base, "measure": "natural_test", "acc": metrics.get("natural_acc"),
                         "n_test": metrics.get("n_test")})
        for r in _evals(path):
            key, res = r["key"], r["result"]
            attack = key.get("attack") or {}
            rows.append({**base, "measure": key.get("name"), "eps": attack.get("eps"), "steps": attack.get("steps"),
                         "n_test": res.get("n", key.get("n_test")), "source": key.get("source"), "acc": res.get("acc")})
    for r in _evals(store.root / "_evals", folder=True):
        key, res = r["key"], r["result"]
        members = ", ".join(m[0] for m in key.get("members", []))
        rows.append({"run_id": None, "kind": "r2s", "measure": key.get("name"),
                     "eps": (key.get("attack") or {}).get("eps", key.get("eps")), "n_test": key.get("n_test"),
                     "source": members, "acc": res.get("acc"), "state": "done"})
    cols = RUN_COLUMNS + ["measure", "eps", "steps", "n_test", "source", "acc"]
    return pd.DataFrame(rows, columns=cols)


def _read(path: Path) -> dict | None:
    try:
        return read_json(path) if path.is_file() else None
    except (OSError, ValueError):
        return None


def _evals(path: Path, folder: bool = False) -> list[dict]:
    out = []
    for p in sorted((path if folder else path / "evals").glob("*.json")):
        obj = _read(p)
        if isinstance(obj, dict) and "key" in obj and "result" in obj:
            out.append(obj)
    return out
