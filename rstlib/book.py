"""Helpers for the book's notebooks: set-up (profile, device, provenance), our tables beside the
paper's, and the claims check. Notebooks call these and rstlib's sections; nothing else."""
from __future__ import annotations

import os
import platform as _platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from rstlib import reference
from rstlib.config import ConfigError, Profile, default_profile_name, load_profile
from rstlib.data import dataset_spec
from rstlib.models import LABELS as ARCH_LABELS
from rstlib.platform import resolve_device
from rstlib.sections import Context, SectionResult

# Which of the paper's networks / datasets each of ours stands for in the comparison tables.
PAPER_NETWORK = {"resnet18": "ResNet18", "wrn34_10": "WideResNet32", "cnn_small": "ResNet18"}
PAPER_NETWORK_KEY = {"ResNet18": "resnet18", "WideResNet32": "wrn32"}
PAPER_DATASET = {"cifar10": "cifar10", "cifar100": "cifar100", "fashion_mnist": "cifar10", "svhn": "svhn",
                 "digits": "svhn"}

NOT_COMPARABLE = (
    "**This page ran at the `{profile}` profile, not `paper`.** Its networks, data and budgets are smaller "
    "than the supplement's ({desc}), so absolute accuracies are **not comparable** to the paper's column, "
    "which is printed for reference only (`diff` = ours - paper). Compare the *claims* instead: the gaps "
    "the paper reports (RST vs dense, R2S gain over dense, diagonal vs off-diagonal transfer), listed in the "
    "claims check at the end of the page.")


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent.parent, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def hardware() -> str:
    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name(0)}"
    cpu = _platform.processor() or _platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU {cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


class Page:
    """One notebook's session: profile, context, timing and provenance."""

    def __init__(self, profile: str | None = None, device: str = "auto", seed: int = 0, progress: bool = False):
        """Load the profile, pick the device, print the provenance line; `progress`: tqdm bars
        (per-run progress lines always go to stderr)."""
        name = profile or default_profile_name()
        self.profile: Profile = load_profile(name)
        self.device = resolve_device(device)
        self.seed = int(seed)
        self.ctx = Context(self.profile, device=self.device, seed=self.seed, progress=progress)
        self.started = time.time()
        chosen = "given" if profile else "chosen automatically: " + ("CUDA found" if name == "paper" else "no CUDA")
        print(f"profile: {name} ({chosen}); device: {self.device}; seed: {self.seed}")
        print(f"git commit {git_commit()} | {hardware()} | torch {torch.__version__}")

    @property
    def is_paper(self) -> bool:
        return self.profile.name == "paper"

    def caveat(self) -> str:
        return "" if self.is_paper else NOT_COMPARABLE.format(profile=self.profile.name, desc=self.profile.description)

    def ahead(self, check: Context) -> str:
        """What this page will load and compute (from its dry run `check`), priced here; also
        written to stderr so that a papermill log shows it before the work starts."""
        from rstlib.bill import work_ahead
        from rstlib.plan import format_hours
        ahead = work_ahead(self.profile, self.ctx.store, device=self.device,
                           planned=(check.planned_runs, check.planned_evals))
        print(ahead.report(), file=sys.stderr, flush=True)
        if ahead.nothing_to_compute:
            return (f"All {ahead.runs} training runs and {ahead.evals} evaluations of this page are in the run store: "
                    "they are loaded, nothing is trained.")
        parts = [f"{len(ahead.to_train)} runs to train"] if ahead.to_train else []
        if ahead.to_retrain:
            parts.append(f"{len(ahead.to_retrain)} runs whose weights are not in the store to retrain")
        parts.append(f"{ahead.evals - ahead.evals_loaded} evaluations to compute")
        return (f"**This page computes what the run store does not hold:** {', '.join(parts)}; about "
                f"{format_hours(ahead.hours)} on this device ({ahead.runs_loaded} of {ahead.runs} runs and "
                f"{ahead.evals_loaded} of {ahead.evals} evaluations are loaded). Progress lines go to stderr "
                "(with papermill: `--stderr-file /dev/stderr`).")

    def record(self, name: str, result: SectionResult):
        """Write this page's claims to the run store (`runs/book/<page>-<profile>.json`, the same
        bytes whenever the numbers are the same) and its wall time and provenance beside them
        (`.timing.json`, not tracked), where the intro page collects them."""
        from rstlib.store import atomic_write_json
        base = self.ctx.store.root / "book" / f"{name}-{self.profile.name}"
        atomic_write_json(base.with_name(base.name + ".json"), {
            "page": name, "profile": self.profile.name, "seed": self.seed,
            "claims": [{"claim": c.claim, "measured": c.measured, "held": c.held} for c in result.claims]})
        atomic_write_json(base.with_name(base.name + ".timing.json"), {
            "seconds": time.time() - self.started, "git_commit": git_commit(), "hardware": hardware(),
            "torch": torch.__version__})

    def footer(self) -> str:
        return (f"Ran at profile `{self.profile.name}`, seed {self.seed}, on {hardware()}, git commit "
                f"`{git_commit()}`, in {time.time() - self.started:.0f} s (training runs loaded from the run store "
                "when already there).")


def records(store_root, profile: str) -> list[dict]:
    """The pages' records written by `Page.record` for `profile`, with their wall time and
    provenance where this machine ran the page (else None)."""
    import json
    out = []
    for p in sorted(Path(store_root, "book").glob(f"*-{profile}.json")):
        if p.name.endswith(".timing.json"):
            continue
        timing = p.with_name(p.name[:-len(".json")] + ".timing.json")
        extra = json.loads(timing.read_text()) if timing.is_file() else {
            "seconds": None, "git_commit": None, "hardware": None, "torch": None}
        out.append({**json.loads(p.read_text()), **extra})
    return out


# -- beside the paper -----------------------------------------------------------------------

def _with_diff(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["diff"] = (df["ours"] - df["paper"]).round(2)
    return df


def table1_beside_paper(ours: pd.DataFrame, eps_list, arch_of: dict[str, str]) -> pd.DataFrame:
    """Long table: network, model, ratio, attack, ours, paper, diff. Our eps list maps onto the
    paper's n=8 / n=12 columns in order."""
    ref = reference.table("table1")
    paper_eps = [8, 12]
    rows = []
    for _, r in ours.iterrows():
        paper_net = PAPER_NETWORK[arch_of[r["network"]]]
        match = ref[(ref.network == paper_net) & (ref.model == r["model"]) &
                    (ref.remaining_ratio_pct == r["remaining_ratio_pct"])]
        for col in ours.columns:
            if col in ("network", "model", "remaining_ratio_pct", "natural"):
                continue
            paper_col = col
            for i, e in enumerate(eps_list[:2]):
                paper_col = paper_col.replace(f"_eps{e:g}", f"_eps{paper_eps[i]}")
            paper = float(match.iloc[0][paper_col]) if len(match) and paper_col in ref.columns else float("nan")
            rows.append({"network": r["network"], "model": r["model"], "ratio": r["remaining_ratio_pct"],
                         "attack": col, "ours": round(float(r[col]), 2), "paper": paper})
    return _with_diff(pd.DataFrame(rows))


def table2_beside_paper(ours: pd.DataFrame) -> pd.DataFrame:
    ref = reference.table("table2").set_index("attack_source")
    rows = []
    for _, r in ours.iterrows():
        for col in ours.columns[1:]:
            src = r["attack_source"]
            paper = float(ref.loc[src, col]) if src in ref.index and col in ref.columns and pd.notna(ref.loc[src, col]) else float("nan")
            rows.append({"attack_source": src, "target": col, "ours": round(float(r[col]), 2), "paper": paper})
    return _with_diff(pd.DataFrame(rows))


def r2s_beside_paper(ours: pd.DataFrame, table: str, arch_of: dict[str, str], dataset_of: dict[str, str]) -> pd.DataFrame:
    """Tables 3/4: our R2S rows with the paper's natural and PGD-20 for the same candidate set."""
    ref = reference.table(table).set_index("candidate_set_pct")
    rows = []
    for _, r in ours.iterrows():
        net = PAPER_NETWORK_KEY[PAPER_NETWORK[arch_of[r["network"]]]]
        ds = PAPER_DATASET[dataset_of[r["dataset"]]]
        key = "dense" if r["candidate_set"] == "dense" else reference.candidate_set_key(
            float(x.strip().rstrip("%")) for x in r["candidate_set"].split(","))
        out = {"dataset": r["dataset"], "network": r["network"], "candidate_set": r["candidate_set"]}
        for ours_col, paper_suffix in (("natural", "natural"), ("pgd20_protocol", "pgd20")):
            col = f"{ds}_{net}_{paper_suffix}"
            paper = float(ref.loc[key, col]) if key in ref.index and col in ref.columns else float("nan")
            out[f"{ours_col} (ours)"] = round(float(r[ours_col]), 2)
            out[f"{ours_col} (paper)"] = paper
            out[f"{ours_col} diff"] = round(float(r[ours_col]) - paper, 2)
        for col in ("pgd20_eot_loss", "pgd20_eot_logits", "pgd20_eot_loss_margin", "pgd20_eot_logits_margin",
                    "autoattack_rand", "strong"):
            if col in r:
                out[f"{col} (ours)"] = round(float(r[col]), 2) if r[col] is not None else float("nan")
        rows.append(out)
    return pd.DataFrame(rows)


def arch_lookup(profile: Profile) -> dict[str, str]:
    return {ARCH_LABELS[a]: a for a in ARCH_LABELS}


def dataset_lookup() -> dict[str, str]:
    from rstlib.data import SPECS
    return {s.label: name for name, s in SPECS.items()}


def claims_markdown(result: SectionResult) -> str:
    lines = ["| claim | measured | held? |", "| --- | --- | --- |"]
    mark = {True: "held", False: "**did not hold**", None: "n/a"}
    for c in result.claims:
        lines.append(f"| {c.claim} | {c.measured} | {mark[c.held]} |")
    return "\n".join(lines)


__all__ = ["Page", "records", "table1_beside_paper", "table2_beside_paper", "r2s_beside_paper",
           "arch_lookup", "dataset_lookup", "claims_markdown", "dataset_spec"]
