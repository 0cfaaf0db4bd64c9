"""Our tables in the paper's layout (Tables 1-4: the paper's rows and columns, our extra columns
to the right and marked "(ours)"), and compact "beside the paper" tables: one cell per number the
paper prints, reading `ours (paper, difference)`, with no rows the paper does not have."""
from __future__ import annotations

import math

import pandas as pd

from rstlib import reference

# Which of the paper's networks / datasets each of ours stands for in the comparison tables.
PAPER_NETWORK = {"resnet18": "ResNet18", "wrn34_10": "WideResNet32", "cnn_small": "ResNet18"}
PAPER_NETWORK_KEY = {"ResNet18": "resnet18", "WideResNet32": "wrn32"}
PAPER_DATASET = {"cifar10": "cifar10", "cifar100": "cifar100", "fashion_mnist": "cifar10", "svhn": "svhn",
                 "digits": "svhn"}
R2S_OURS = {"pgd20_eot_loss": "EOT loss, CE", "pgd20_eot_logits": "EOT logits, CE",
            "pgd20_eot_loss_margin": "EOT loss, margin", "pgd20_eot_logits_margin": "EOT logits, margin",
            "autoattack_rand": "AutoAttack rand", "strong": "strong"}


def cell(ours: float, paper: float) -> str:
    """'41.20 (46.39, -5.19)': ours, then the paper's number and the difference."""
    if paper is None or (isinstance(paper, float) and math.isnan(paper)):
        return f"{ours:.2f}"
    return f"{ours:.2f} ({paper:.2f}, {ours - paper:+.2f})"


def _paper_eps_col(col: str, eps_list) -> str:
    for ours, paper in zip(list(eps_list)[:2], (8, 12)):
        col = col.replace(f"_eps{float(ours):g}", f"_eps{paper}")
    return col


def table1(ours: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as the paper prints it: rows network x remaining ratio (dense first), columns the
    attacks; natural, PGD-20 and the strong figure marked as ours."""
    t = ours.copy()
    t["model"] = t["model"].map({"dense_adv_trained": "dense", "rst": "RST"})
    t = t.rename(columns={"remaining_ratio_pct": "ratio (%)", "natural": "natural (ours)", "pgd20": "PGD-20 (ours)"})
    t = t.set_index(["network", "model", "ratio (%)"])
    extra = [c for c in t.columns if "(ours)" in c]
    return t[[c for c in t.columns if c not in extra] + extra].round(2)


def table1_beside_paper(ours: pd.DataFrame, eps_list, arch_of: dict[str, str]) -> pd.DataFrame:
    """Our Table 1 cells beside the paper's, for the rows and attacks the paper has (our eps pair
    maps onto the paper's n=8 / n=12 columns in order)."""
    ref = reference.table("table1")
    rows = []
    for _, r in ours.iterrows():
        net = PAPER_NETWORK[arch_of[r["network"]]]
        match = ref[(ref.network == net) & (ref.model == r["model"]) & (ref.remaining_ratio_pct == r["remaining_ratio_pct"])]
        if match.empty:
            continue
        row = {"network": f"{r['network']} (paper: {net})", "model": r["model"], "ratio (%)": r["remaining_ratio_pct"]}
        for col in ours.columns:
            paper_col = _paper_eps_col(col, eps_list)
            if paper_col in ref.columns and paper_col not in ("network", "model", "remaining_ratio_pct"):
                row[col] = cell(float(r[col]), float(match.iloc[0][paper_col]))
        rows.append(row)
    return pd.DataFrame(rows).set_index(["network", "model", "ratio (%)"]) if rows else pd.DataFrame()


def table2_beside_paper(ours: pd.DataFrame) -> pd.DataFrame:
    """Table 2 in the paper's layout, each cell beside the paper's (the white-box row is ours)."""
    ref = reference.table("table2").set_index("attack_source")
    out = ours.set_index("attack_source").astype(float).copy().astype(object)
    for src in out.index:
        for col in out.columns:
            paper = ref.loc[src, col] if src in ref.index and col in ref.columns else float("nan")
            out.loc[src, col] = cell(float(ours.set_index("attack_source").loc[src, col]),
                                     float(paper) if pd.notna(paper) else float("nan"))
    return out.rename(index={"white_box (for comparison)": "white-box (ours)"})


def r2s_table(ours: pd.DataFrame) -> pd.DataFrame:
    """Tables 3 / 4 as the paper prints them: rows the candidate sets (dense first), columns
    dataset x network x (natural, PGD-20 paper protocol); our adaptive attacks and the strong
    figure to the right, marked (ours)."""
    t = ours.rename(columns={"natural": "natural", "pgd20_protocol": "PGD-20", **{k: f"{v} (ours)" for k, v in R2S_OURS.items()}})
    metrics = ["natural", "PGD-20"] + [f"{v} (ours)" for v in R2S_OURS.values()]
    wide = t.set_index(["candidate_set", "dataset", "network"])[metrics].unstack(["dataset", "network"])
    pairs = list(dict.fromkeys(zip(ours["dataset"], ours["network"])))
    wide = wide[[(m, d, n) for d, n in pairs for m in metrics]]
    wide.columns = pd.MultiIndex.from_tuples([(d, n, m) for m, d, n in wide.columns])
    sets = list(dict.fromkeys(ours["candidate_set"]))
    wide = wide.loc[sets]
    wide.index.name = "candidate set"
    wide.columns.names = ["dataset", "network", ""]
    wide = wide.astype(float).round(2)
    return wide.astype(object).where(wide.notna(), "–")  # the dense baseline has no R2S columns


def r2s_beside_paper(ours: pd.DataFrame, table: str, arch_of: dict[str, str], dataset_of: dict[str, str]) -> pd.DataFrame:
    """Tables 3 / 4: natural and PGD-20 (paper protocol) of each candidate set beside the paper's,
    only for the sets the paper has."""
    ref = reference.table(table).set_index("candidate_set_pct")
    rows = []
    for _, r in ours.iterrows():
        net = PAPER_NETWORK_KEY[PAPER_NETWORK[arch_of[r["network"]]]]
        ds = PAPER_DATASET[dataset_of[r["dataset"]]]
        key = "dense" if r["candidate_set"] == "dense" else reference.candidate_set_key(
            float(x.strip().rstrip("%")) for x in r["candidate_set"].split(","))
        if key not in ref.index:
            continue
        row = {"candidate set": r["candidate_set"], "ours on": f"{r['network']} @ {r['dataset']}",
               "paper's column": f"{ds} / {net}"}
        for ours_col, paper_suffix, label in (("natural", "natural", "natural"), ("pgd20_protocol", "pgd20", "PGD-20")):
            col = f"{ds}_{net}_{paper_suffix}"
            row[label] = cell(float(r[ours_col]), float(ref.loc[key, col]) if col in ref.columns else float("nan"))
        rows.append(row)
    return pd.DataFrame(rows).set_index("candidate set") if rows else pd.DataFrame()
