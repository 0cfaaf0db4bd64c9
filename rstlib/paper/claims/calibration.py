"""Every rule of the registry run on the paper's own numbers: the supplement's Tables 1, 3 and 4
(`rstlib.paper.reference`) scored as if measured on the CIFAR test sets' 10,000 images. The paper
prints no per-image results, so its gaps get two independent binomial errors (the fallback of
`rstlib.paper.claims.rules_attacks`), and a maximum is judged over every candidate as ours is.

A reader sees, beside our verdict, whether the paper's data would pass the same rule: a claim the
paper's own numbers do not decide (e.g. a "comparable" gap of -3.16 against -3) is a property of
the claim, not of our reproduction. Claims whose evidence the supplement draws only as a figure,
or whose rule needs a number the supplement does not print, are listed with that reason."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from rstlib.paper import reference
from rstlib.paper.claims.facts import Facts
from rstlib.paper.claims.registry import MARK, REGISTRY

PAPER_TEST_IMAGES = 10_000  # CIFAR-10 and CIFAR-100 test sets
NETWORKS = {"resnet18": "ResNet18", "wrn32": "WideResNet32"}
DATASETS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}

# what the supplement prints no number for (the reason a claim cannot be calibrated)
FIGURE_ONLY = {
    "sec4": "Figs. 1-3 (natural accuracies) are drawn without numbers",
    "sec5": "Fig. 4 is a heat map whose cells the text does not list",
    "sec7": "Fig. 5 is a heat map whose cells the text does not list",
    "sec9": "Fig. 6 is drawn without numbers",
}
MISSING = {
    "S3.4": "Table 1 prints no PGD-20 column for its models",
    "S5.2": "Table 2 prints no white-box PGD-20 of its RSTs",
    "S5.3": "Table 2 prints no white-box PGD-20 of its RSTs",
    "S5.4": "Table 2 prints no white-box PGD-20 of its RSTs",
}


@dataclass(frozen=True)
class Calibrated:
    """One claim judged on the paper's numbers, or the reason it cannot be."""

    id: str
    verdict: str | None  # None: not calibratable
    measured: str


def _table1() -> pd.DataFrame:
    return reference.table("table1")


def _r2s(name: str) -> pd.DataFrame:
    """Table 3 / 4 in the layout of our Sec. 6 / 8 tables: one row per (dataset, network, set)."""
    t = reference.table(name)
    rows = []
    for col in t.columns[1:]:
        ds, net, metric = col.split("_")
        if metric != "natural":
            continue
        for _, r in t.iterrows():
            key = r["candidate_set_pct"]
            label = "dense" if key == "dense" else ", ".join(f"{x}%" for x in key.split(";"))
            rows.append(
                {
                    "dataset": DATASETS[ds],
                    "network": NETWORKS[net],
                    "candidate_set": label,
                    "natural": float(r[col]),
                    "pgd20_protocol": float(r[f"{ds}_{net}_pgd20"]),
                }
            )
    return pd.DataFrame(rows)


def paper_facts(section: str) -> Facts | None:
    """The facts of `section` as the supplement prints them, or None where it prints no table."""
    n = PAPER_TEST_IMAGES
    if section == "sec3":
        return Facts({"table1": _table1()}, {}, n, n, networks=2, datasets=1)
    if section == "sec6":
        return Facts({"r2s": _r2s("table3")}, {}, n, n, networks=2, datasets=2)
    if section == "sec8":
        rst = _r2s("table3")
        return Facts({"r2s": _r2s("table4"), "r2s_rst": rst[rst.network == "ResNet18"]}, {}, n, n, networks=1, datasets=2)
    return None


@lru_cache(maxsize=1)
def calibrate() -> dict[str, Calibrated]:
    """Every registered claim on the paper's own numbers (pure table arithmetic: instant)."""
    out = {}
    for spec in REGISTRY:
        facts = paper_facts(spec.section)
        if spec.id in MISSING or facts is None:
            out[spec.id] = Calibrated(spec.id, None, MISSING.get(spec.id) or FIGURE_ONLY[spec.section])
            continue
        j = spec.judge(facts, spec.threshold)
        # the rule's sentence names its noise model; here it fell back on binomial errors
        measured = j.measured.replace("paired per image", "two binomial errors, no per-image results")
        out[spec.id] = Calibrated(spec.id, j.verdict, measured)
    return out


def calibration_table() -> pd.DataFrame:
    """The registry's rules on the paper's numbers: one row per claim."""
    return pd.DataFrame(
        [
            {
                "id": c.id,
                "on the paper's numbers": MARK[c.verdict] if c.verdict else "– no numbers",
                "measured on the paper's numbers (10,000 test images, binomial errors)": c.measured,
            }
            for c in calibrate().values()
        ]
    ).set_index("id")


def summary_sentence() -> str:
    """How many rules the paper's own numbers pass, fail, leave open or cannot reach."""
    from rstlib.paper.claims.verdicts import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE

    c = list(calibrate().values())
    scored = [x for x in c if x.verdict is not None]
    n = {v: sum(x.verdict == v for x in scored) for v in (HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE)}
    open_ = ", ".join(x.id for x in scored if x.verdict == INCONCLUSIVE) or "none"
    untestable = ", ".join(x.id for x in scored if x.verdict == NOT_TESTABLE) or "none"
    return (
        f"Of {len(c)} claims, the supplement prints the numbers behind {len(scored)}. On them, the paper's own "
        f"numbers pass {n[HOLDS]} rules, fail {n[FAILS]}, leave {n[INCONCLUSIVE]} open ({open_}: the paper's gap "
        f"sits inside its own noise band at the rule's threshold) and cannot test {n[NOT_TESTABLE]} ({untestable}: "
        f"no row of its table reaches what the rule compares). The other {len(c) - len(scored)} rest on figures "
        "or on numbers the supplement does not print."
    )
