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

from rstlib.book import tables
from rstlib.config.params import check_number
from rstlib.config.profile import Profile, default_profile_name, load_profile
from rstlib.data.specs import SPECS
from rstlib.errors import ConfigError
from rstlib.nets.models import LABELS as ARCH_LABELS
from rstlib.paper.claims import thresholds
from rstlib.paper.claims.calibration import calibrate
from rstlib.paper.claims.registry import MARK, REGISTRY, claims_table
from rstlib.paper.cost import format_hours
from rstlib.paper.plan import recorded_cost, work_ahead
from rstlib.paper.sections import SECTIONS, Context
from rstlib.paper.sections.result import SectionResult
from rstlib.runtime.device import resolve_device
from rstlib.store.records import atomic_write_json
from rstlib.store.runstore import RunStore

NOT_COMPARABLE = (
    "**This page ran at the `{profile}` profile, not `paper`.** Its networks, data and budgets are smaller "
    "than the supplement's ({desc}), so absolute accuracies are **not comparable** to the paper's column, "
    "which is printed for reference only (difference = ours - paper). The claims check at the end of the page "
    "judges the paper's claims (the gaps it reports between methods) at this scale; that a gap measured here "
    "would be the same at the paper's scale is not shown by this page."
)


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
            timeout=10,
        )
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
    threads = torch.get_num_threads()
    return f"CPU {cpu}, {os.cpu_count()} cores, {threads} torch thread{'s' if threads != 1 else ''}"


class Page:
    """One notebook's session: profile, context, timing and provenance."""

    def __init__(self, profile: str | None = None, device: str = "auto", seed: int = 0, progress: bool = False):
        """Load the profile, pick the device, print the provenance line; `progress`: tqdm bars
        (per-run progress lines always go to stderr)."""
        tables.install()  # every table of the page in the book's one style
        pd.set_option("display.max_colwidth", None)  # claims and settings are sentences: never cut them
        pd.set_option("display.max_columns", None)
        name = profile or default_profile_name()
        self.profile: Profile = load_profile(name)
        self.device = resolve_device(device)
        self.seed = check_number(seed, "seed", minimum=0, whole=True)
        self.ctx = Context(self.profile, device=self.device, seed=self.seed, progress=progress)
        self.started = time.time()
        chosen = "given" if profile else "chosen automatically: " + ("CUDA found" if name == "paper" else "no CUDA")
        print(f"profile: {name} ({chosen}); device: {self.device}; seed: {self.seed}")
        print(f"git commit {git_commit()} | {hardware()} | torch {torch.__version__}")

    @property
    def is_paper(self) -> bool:
        return self.profile.name == "paper"

    def caveat(self) -> str:
        from rstlib.paper.confounds import learning_rates

        scale = "" if self.is_paper else NOT_COMPARABLE.format(profile=self.profile.name, desc=self.profile.description)
        return "\n\n".join(x for x in (scale, learning_rates(self.profile)) if x)

    def ahead(self, check) -> str:
        """What this page will load and compute (from its dry run `check`, a Context, or a plan of
        (runs by id, evaluation requests)), priced here; also written to stderr so that a
        papermill log shows it before the work starts."""
        planned = (check.planned_runs, check.planned_evals) if isinstance(check, Context) else check
        ahead = work_ahead(self.profile, self.ctx.store, device=self.device, planned=planned)
        print(ahead.report(), file=sys.stderr, flush=True)
        # the guard of `make book` (which confirms for the whole book before its pages run), for a
        # page run on its own: papermill with new parameters, or Jupyter
        confirmed = os.environ.get("RST_CONFIRM") == "1" or os.environ.get("RST_BOOK_BUILD") == "1"
        if ahead.needs_confirmation() and not confirmed:
            raise ConfigError(
                f"this page would compute about {format_hours(ahead.hours)} of new work on {self.device} (over one "
                f"device-hour), so it stopped before starting: run it as a sweep first (`rst sweep --profile "
                f"{self.profile.name} --dry-run` says what), or confirm with RST_CONFIRM=1 in the environment "
                "(e.g. `RST_CONFIRM=1 papermill ...`)"
            )
        if ahead.nothing_to_compute:
            return (
                f"All {ahead.runs} training runs and {ahead.evals} evaluations of this page are in the run store: "
                "they are loaded, nothing is trained."
            )
        parts = [f"{len(ahead.to_train)} runs to train"] if ahead.to_train else []
        if ahead.to_retrain:
            parts.append(f"{len(ahead.to_retrain)} runs whose weights are not in the store to retrain")
        parts.append(f"{ahead.evals - ahead.evals_loaded} evaluations to compute")
        return (
            f"**This page computes what the run store does not hold:** {', '.join(parts)}; about "
            f"{format_hours(ahead.hours)} on this device ({ahead.runs_loaded} of {ahead.runs} runs and "
            f"{ahead.evals_loaded} of {ahead.evals} evaluations are loaded). Progress lines go to stderr "
            "(with papermill: `--stderr-file /dev/stderr`)."
        )

    def record(self, name: str, result: SectionResult):
        """Write this page's claims to the run store (`runs/book/<page>-<profile>.json`, the same
        bytes whenever the numbers are the same) and its wall time and provenance beside them
        (`.timing.json`, not tracked), where the intro page collects them."""
        # `make book` records the pages it runs; a page run by hand (papermill with other parameters,
        # Jupyter) keeps its record beside them, untracked, so it never changes a committed file
        local = "" if os.environ.get("RST_BOOK_BUILD") == "1" else ".local"
        base = self.ctx.store.root / "book" / f"{name}-{self.profile.name}{local}"
        atomic_write_json(
            base.with_name(base.name + ".json"),
            {"page": name, "profile": self.profile.name, "seed": self.seed, "claims": [c.record() for c in result.claims]},
        )
        atomic_write_json(
            base.with_name(base.name + ".timing.json"),
            {
                "seconds": time.time() - self.started,
                "git_commit": git_commit(),
                "hardware": hardware(),
                "torch": torch.__version__,
            },
        )

    def footer(self) -> str:
        return (
            f"Ran at profile `{self.profile.name}`, seed {self.seed}, on {hardware()}, git commit "
            f"`{git_commit()}`, in {time.time() - self.started:.0f} s (training runs loaded from the run store "
            "when already there)."
        )


def records(store_root, profile: str) -> list[dict]:
    """The pages' records written by `Page.record` for `profile`, with their wall time and
    provenance where this machine ran the page (else None)."""
    import json

    out = []
    for p in sorted(Path(store_root, "book").glob(f"*-{profile}.json")):
        if p.name.endswith((".timing.json", ".local.json")):
            continue
        timing = p.with_name(p.name[: -len(".json")] + ".timing.json")
        extra = (
            json.loads(timing.read_text())
            if timing.is_file()
            else {"seconds": None, "git_commit": None, "hardware": None, "torch": None}
        )
        out.append({**json.loads(p.read_text()), **extra})
    return out


def page_costs(store: RunStore, profile: Profile) -> pd.DataFrame:
    """One row per section page and one for the whole book: the training and evaluation time the
    run store recorded for what the page needs (each run and evaluation counted once), the wall
    time of this machine's last execution of the page (None where it has not run here) and the
    claims that hold."""
    recs = {r["page"].split("_")[0]: r for r in records(store.root, profile.name)}
    rows = []
    for section in [*SECTIONS, "scale", None]:
        cost = recorded_cost(profile, store, [section] if section else None)
        rec = recs.get(section) if section else None
        claims = [c for r in recs.values() for c in r["claims"]] if section is None else rec["claims"] if rec else []
        executed = (
            sum(r["seconds"] for r in recs.values() if r["seconds"] is not None)
            if section is None
            else rec["seconds"]
            if rec
            else None
        )
        rows.append(
            {
                "page": ("Beyond the paper: scale" if section == "scale" else f"Sec. {section[3:]}")
                if section
                else "the whole book",
                "training runs": f"{cost.runs_recorded} of {cost.runs}",
                "training (min)": cost.training_s / 60,
                "evaluations": cost.evals,
                "evaluations timed": cost.evals_timed,
                "evaluation time (min)": cost.evaluation_s / 60 if cost.evals_timed else None,
                "this execution (min)": executed / 60 if executed is not None else None,
                "claims that hold": f"{sum(c['verdict'] == 'holds' for c in claims)} of {len(claims)}" if claims else None,
            }
        )
    return pd.DataFrame(rows)


def arch_lookup(profile: Profile | None = None) -> dict[str, str]:
    return {ARCH_LABELS[a]: a for a in ARCH_LABELS}


def dataset_lookup() -> dict[str, str]:
    return {s.label: name for name, s in SPECS.items()}


CLAIMS_NOTE = (
    "Each claim of this section of the supplement, in its words, judged by the stated rule: ✓ holds, ✗ does not hold, "
    "? inconclusive (the threshold lies inside the claim's 95% band: paired per image where two models meet the same "
    'test images; a best or largest judged over every candidate; "does not hold" under an "every" at the '
    "family-wise level), – not testable at this profile (with the reason). *seeds x images* says what each verdict rests "
    "on: where the section trained one seed per model, its bands carry the seed-to-seed spread measured over the "
    "introduction's seeds on the nearest comparison of the same kinds. Beside an inconclusive claim: the cheapest "
    "budget of seeds and images that would decide it at the observed gap and variance, or, computed, that none on this "
    "test set does. The column *on the paper's numbers* runs the same rule on the supplement's own table, where it "
    "prints one (10,000 test images, binomial errors; see the introduction). " + thresholds.NOTE
)


def claims_check(result: SectionResult) -> pd.DataFrame:
    """The page's claims as a table: the supplement's words, our rule, the numbers, the verdict."""
    return claims_table(result.claims, calibrate())


def claims_summary(store_root, profiles=("paper", "laptop", "smoke")) -> pd.DataFrame:
    """Every registered claim with its verdict at each profile whose pages have run into this store,
    and the same rule's verdict on the paper's own numbers (`rstlib.paper.claims.calibration`)."""
    verdicts: dict[str, dict[str, str]] = {}
    for profile in profiles:
        for rec in records(store_root, profile):
            for c in rec["claims"]:
                verdicts.setdefault(c["id"], {})[profile] = MARK.get(c["verdict"], c["verdict"])
    ran = [p for p in profiles if any(p in v for v in verdicts.values())]
    paper = calibrate()
    rows = []
    for spec in REGISTRY:
        row = {"id": spec.id}
        for p in ran:  # the verdicts first, so that they stay on screen on a phone
            row[p] = verdicts.get(spec.id, {}).get(p, "not run")
        row["the paper's numbers"] = MARK[paper[spec.id].verdict] if paper[spec.id].verdict else "– no numbers"
        rows.append({**row, "section": spec.section, "claim (the supplement's words)": spec.quote})
    return pd.DataFrame(rows).set_index("id")


__all__ = ["CLAIMS_NOTE", "Page", "records", "page_costs", "arch_lookup", "dataset_lookup", "claims_check", "claims_summary"]
