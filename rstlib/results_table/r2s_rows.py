"""The R2S rows of the results table: each candidate set of the store's shared evaluations, its
adaptive attacks as they are, and where every cell of its transfer matrix is cached, the paper's
protocol and R2S's strong figure."""

from __future__ import annotations

from typing import Iterable

from rstlib.results_table.reading import evaluations
from rstlib.store.files import SHARED_EVALS
from rstlib.store.runstore import RunStore


def spec_id(spec: dict) -> tuple:
    return tuple(sorted((k, v) for k, v in spec.items()))


def r2s_rows(
    store: RunStore, configs: dict[str, dict], cells: dict, clean: dict, profile_by_run: dict[str, str | None]
) -> list[dict]:
    """Candidate sets of the store's R2S evaluations (`_evals/`): their adaptive attacks as
    they are, and where every cell of their transfer matrix is cached, the paper's protocol and
    R2S's strong figure (rstlib.evaluation.r2s.strong_value)."""
    from rstlib.evaluation.r2s import strong_value

    sets: dict[tuple, dict] = {}
    for r in evaluations(store.root / SHARED_EVALS, folder=True):
        key, res = r["key"], r["result"]
        members = tuple(sorted(m[0] for m in key.get("members", [])))
        if not members:
            continue
        spec = key.get("attack") or {}
        ident = (members, key.get("n_test"), key.get("seed"))
        group = sets.setdefault(ident, {"eot": [], "aa": None, "spec": None})
        if key.get("name") == "r2s-autoattack-rand":
            group["aa"] = res
        else:
            group["eot"].append(res)
            group["spec"] = spec
        rows_of = group.setdefault("rows", [])
        rows_of.append(
            {
                "evaluation": "r2s-adaptive",
                "attack": key.get("name"),
                "eps": spec.get("eps", key.get("eps")),
                "step": spec.get("step"),
                "steps": spec.get("steps"),
                "n_images": res.get("images") or key.get("n_test"),
                "acc": res.get("acc"),
            }
        )
    out = []
    for (members, n_test, seed), group in sets.items():
        first = configs.get(members[0]) or {}
        ratios = tuple(sorted(float((configs.get(m) or {}).get("ratio", float("nan"))) for m in members))
        common = {
            "kind": "r2s",
            "variant": first.get("kind", "-"),
            "dataset": first.get("dataset"),
            "arch": first.get("arch"),
            "width": first.get("width"),
            "init": first.get("init"),
            "seed": first.get("seed"),
            "precision": first.get("precision"),
            "state": "done",
            "profile": _common_profile(members, profile_by_run),
            "candidate_set": ratios,
            "members": members,
        }
        rows = [{**common, **row} for row in group["rows"]]
        spec = group["spec"]
        matrix = [cells.get((t, s, spec_id(spec), n_test, seed)) for s in members for t in members] if spec else []
        naturals = [clean.get((m, n_test, seed)) for m in members]
        cells_found = [c for c in matrix if c is not None]
        naturals_found = [c for c in naturals if c is not None]
        if spec and matrix and len(cells_found) == len(matrix):
            n = cells_found[0]["n"]
            for row in rows:  # the EOT attacks ran on the same images as the matrix
                if row["attack"] != "r2s-autoattack-rand":
                    row["n_images"] = n
            protocol = {
                "evaluation": "r2s-protocol",
                "eps": spec.get("eps"),
                "step": spec.get("step"),
                "steps": spec.get("steps"),
                "n_images": n,
            }
            rows.append({**common, **protocol, "attack": "pgd20", "acc": sum(c["acc"] for c in cells_found) / len(cells_found)})
            if len(naturals_found) == len(naturals):
                rows.append(
                    {
                        **common,
                        "evaluation": "r2s-protocol",
                        "attack": "clean",
                        "n_images": naturals_found[0]["n"],
                        "acc": sum(c["acc"] for c in naturals_found) / len(naturals_found),
                    }
                )
            if len(group["eot"]) == 4:  # every EOT attack of the strong figure is cached
                rows.append(
                    {
                        **common,
                        **protocol,
                        "evaluation": "r2s-adaptive",
                        "attack": "strong",
                        "acc": strong_value(matrix, group["eot"], group["aa"], n),
                    }
                )
        out += rows
    return out


def _common_profile(members: Iterable[str], profile_by_run: dict[str, str | None]) -> str | None:
    names = {profile_by_run.get(m) for m in members}
    return names.pop() if len(names) == 1 else None
