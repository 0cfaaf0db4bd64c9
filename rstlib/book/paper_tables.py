"""Our tables in the paper's layout (Tables 1-4: the paper's rows and columns, our extra columns
to the right and marked "(ours)"), and "beside the paper" tables: one row per number the paper
prints (or one column group per measure), with ours, the paper's and the difference in columns of
their own, and no rows the paper does not have."""

from __future__ import annotations

import pandas as pd

from rstlib.paper import reference

# Which of the paper's networks / datasets each of ours stands for in the comparison tables.
PAPER_NETWORK = {"resnet18": "ResNet18", "wrn34_10": "WideResNet32", "cnn_small": "ResNet18"}
PAPER_NETWORK_KEY = {"ResNet18": "resnet18", "WideResNet32": "wrn32"}
PAPER_DATASET = {"cifar10": "cifar10", "cifar100": "cifar100", "fashion_mnist": "cifar10", "svhn": "svhn", "digits": "svhn"}
R2S_OURS = {
    "pgd20_eot_loss": "EOT loss, CE",
    "pgd20_eot_logits": "EOT logits, CE",
    "pgd20_eot_loss_margin": "EOT loss, margin",
    "pgd20_eot_logits_margin": "EOT logits, margin",
    "autoattack_rand": "AutoAttack rand",
    "autoattack_transfer": "AutoAttack from members",
    "strong": "strong",
}


BESIDE = ("ours", "paper", "difference")


def beside(ours: float, paper: float | None) -> dict[str, float]:
    """{ours, paper, difference (ours - paper)}; the paper's and the difference are NaN where the
    paper prints no number."""
    paper = float("nan") if paper is None else float(paper)
    return {"ours": float(ours), "paper": paper, "difference": float(ours) - paper}


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
    """Our Table 1 beside the paper's: one row per model and attack the paper has (our eps pair
    maps onto the paper's n=8 / n=12 columns in order)."""
    ref = reference.table("table1")
    rows = []
    for _, r in ours.iterrows():
        net = PAPER_NETWORK[arch_of[r["network"]]]
        match = ref[(ref.network == net) & (ref.model == r["model"]) & (ref.remaining_ratio_pct == r["remaining_ratio_pct"])]
        if match.empty:
            continue
        for col in ours.columns:
            paper_col = _paper_eps_col(col, eps_list)
            if paper_col in ref.columns and paper_col not in ("network", "model", "remaining_ratio_pct"):
                rows.append(
                    {
                        "network": f"{r['network']} (paper: {net})",
                        "model": r["model"],
                        "ratio (%)": r["remaining_ratio_pct"],
                        "attack": col,
                        **beside(r[col], match.iloc[0][paper_col]),
                    }
                )
    index = ["network", "model", "ratio (%)", "attack"]
    return pd.DataFrame(rows).set_index(index) if rows else pd.DataFrame()


def table2_beside_paper(ours: pd.DataFrame) -> pd.DataFrame:
    """Table 2 beside the paper's: one row per attack source and target RST (the white-box row is
    ours alone)."""
    ref = reference.table("table2").set_index("attack_source")
    rows = []
    for _, r in ours.iterrows():
        src = r["attack_source"]
        for col in ours.columns.drop("attack_source"):
            paper = ref.loc[src, col] if src in ref.index and col in ref.columns else None
            rows.append(
                {
                    "attack source": "white-box (ours)" if src == "white_box (for comparison)" else src,
                    "target": col,
                    **beside(r[col], paper if pd.notna(paper) else None),
                }
            )
    return pd.DataFrame(rows).set_index(["attack source", "target"])


def r2s_table(ours: pd.DataFrame) -> pd.DataFrame:
    """Tables 3 / 4 as the paper prints them: rows the candidate sets (dense first), columns
    dataset x network x (natural, PGD-20 paper protocol); our adaptive attacks and the strong
    figure to the right, marked (ours)."""
    t = ours.rename(columns={"natural": "natural", "pgd20_protocol": "PGD-20", **{k: f"{v} (ours)" for k, v in R2S_OURS.items()}})
    # an attack of ours that this profile does not run (e.g. AutoAttack rand at 0 images) is left out, not a column of dashes
    ran = [f"{v} (ours)" for v in R2S_OURS.values() if t.get(f"{v} (ours)", pd.Series()).notna().any()]
    metrics = ["natural", "PGD-20", *ran]
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
    only for the sets the paper has; columns (measure, ours / paper / difference)."""
    ref = reference.table(table).set_index("candidate_set_pct")
    rows = []
    for _, r in ours.iterrows():
        net = PAPER_NETWORK_KEY[PAPER_NETWORK[arch_of[r["network"]]]]
        ds = PAPER_DATASET[dataset_of[r["dataset"]]]
        key = (
            "dense"
            if r["candidate_set"] == "dense"
            else reference.candidate_set_key(float(x.strip().rstrip("%")) for x in r["candidate_set"].split(","))
        )
        if key not in ref.index:
            continue
        row = {
            ("candidate set", ""): r["candidate_set"],
            ("ours on", ""): f"{r['network']} @ {r['dataset']}",
            ("paper's column", ""): f"{ds} / {net}",
        }
        for ours_col, paper_suffix, label in (("natural", "natural", "natural"), ("pgd20_protocol", "pgd20", "PGD-20")):
            col = f"{ds}_{net}_{paper_suffix}"
            paper = ref.loc[key, col] if col in ref.columns else None
            row.update({(label, k): v for k, v in beside(r[ours_col], paper).items()})
        rows.append(row)
    if not rows:
        return pd.DataFrame()
    out = pd.DataFrame(rows)
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out.set_index(("candidate set", "")).rename_axis("candidate set")
