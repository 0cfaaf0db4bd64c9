"""The work and the results of each supplementary section (Sec. 3-9).

Each section is one function `secN(ctx, **knobs) -> SectionResult`. It asks the context for
runs and evaluations; with a computing `Context` these are trained or loaded from the run store,
with `Context(dry_run=True)` they are only recorded (the values are NaN), which gives the exact
list of runs a section needs: the notebooks and `rst sweep` / `rst plan` share these functions,
so a sweep computes exactly what the book later loads.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from rstlib import experiments as ex
from rstlib.config import ConfigError, Profile, RunConfig, check_ratio
from rstlib.data import canonical_name, check_dataset, dataset_spec
from rstlib.evaluation import CW_ITERATIONS, AttackSpec, Evaluator
from rstlib.inits import LABELS as INIT_LABELS
from rstlib.inits import check_init
from rstlib.models import LABELS as ARCH_LABELS
from rstlib.models import check_arch
from rstlib.r2s import EOT_ATTACKS, evaluate_r2s
from rstlib.runner import results as run_results
from rstlib.store import RunDir, RunStore
from rstlib.train import RunOptions

NAN = float("nan")
R2S_COLUMNS = ("natural", "pgd20_protocol", "pgd20_eot_loss", "pgd20_eot_logits", "pgd20_eot_loss_margin",
               "pgd20_eot_logits_margin", "autoattack_rand", "strong")


@dataclass(frozen=True)
class Claim:
    section: str
    claim: str
    measured: str
    held: bool | None  # None: not measurable at this scale / dry run


@dataclass
class SectionResult:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def claims_table(self) -> pd.DataFrame:
        return pd.DataFrame([{"claim": c.claim, "measured": c.measured,
                              "held": {True: "held", False: "did not hold", None: "n/a"}[c.held]}
                             for c in self.claims])


@dataclass(frozen=True)
class EvalRequest:
    target: RunConfig
    attack: AttackSpec
    source: RunConfig | None = None
    n_test: int | None = None
    members: tuple[tuple[str, RunConfig], ...] = ()  # an R2S attack over these (label, config)
    eot_over: str | None = None  # loss | logits (an EOT PGD over the members) | rand (AutoAttack rand)
    eot_loss: str = "ce"  # ce | cw (margin)
    strong_images: int | None = None  # the strong figure of `target` (APGD-T on this many images) / AA rand images


class Context:
    """Loads runs and evaluations for a section from the run store, computing only what is not
    there; or, with dry_run=True, only records what it would ask for (the plan).

    A run whose results are in the store (committed results without weights included) is read,
    never retrained; weights are trained only when an evaluation that is not cached needs them.
    """

    def __init__(self, profile: Profile, store: RunStore | None = None, device="auto", seed: int = 0,
                 progress: bool = True, dry_run: bool = False, announce: bool = True):
        self.profile = profile
        self.store = store or RunStore()
        self.device = device
        self.seed = seed
        self.progress = progress
        self.dry_run = dry_run
        self.options = RunOptions.of(profile, device=str(device), progress=progress, announce=announce)
        self.planned_runs: dict[str, RunConfig] = {}
        self.planned_evals: list[EvalRequest] = []
        self.pgd = AttackSpec.pgd20(profile.evaluation)

    # -- runs -------------------------------------------------------------------------------
    def _plan(self, config: RunConfig):
        if config.parent is not None:
            self._plan(config.parent)
        self.planned_runs.setdefault(config.run_id(), config)

    def run(self, config: RunConfig) -> RunDir | None:
        """The finished run (its results; trained only if they are not in the store)."""
        self._plan(config)
        if self.dry_run:
            return None
        return run_results(self.store, config, self.options)

    def natural(self, config: RunConfig) -> float:
        """Natural test accuracy (%) of a run, on the profile's test subset."""
        run = self.run(config)
        return NAN if run is None else run.metrics()["natural_acc"]

    def evaluator(self, n_test: int | None = None) -> Evaluator:
        return Evaluator(self.store, n_test=n_test if n_test is not None else self.profile.eval_n_test,
                         batch_size=self.profile.evaluation.batch_size, device=self.device,
                         progress=self.progress, run_options=self.options)

    # -- evaluations ------------------------------------------------------------------------
    def accuracy(self, config: RunConfig, attack: AttackSpec | None = None, source: RunConfig | None = None,
                 n_test: int | None = None) -> float:
        """Accuracy (%) of `config`'s run under `attack` (default: the profile's PGD-20), crafted on
        `source` (default: white-box), on `n_test` images (default: the profile's); cached."""
        attack = attack or self.pgd
        self.planned_evals.append(EvalRequest(config, attack, source, n_test))
        run, src = self.run(config), (self.run(source) if source is not None else None)
        if run is None:
            return NAN
        return self.evaluator(n_test).evaluate(run, attack, src)["acc"]

    def strong(self, config: RunConfig, n_test: int | None = None) -> float:
        """The strong robust accuracy (%) of `config`'s run: per example, the worst of PGD-20 on the
        cross-entropy, PGD-20 on the CW margin loss and (on the profile's first `apgd_t_images`
        images) APGD-T. Ours, beside the paper's PGD-20; never above any of them."""
        k = self.profile.evaluation.apgd_t_images
        self.planned_evals.append(EvalRequest(config, self.pgd, n_test=n_test, strong_images=k))
        run = self.run(config)
        if run is None:
            return NAN
        return self.evaluator(n_test).strong(run, self.pgd, k)["acc"]

    def matrix(self, configs: dict[str, RunConfig], attack: AttackSpec | None = None) -> pd.DataFrame:
        """Transfer matrix (rows: source, columns: target) of PGD-20 examples."""
        attack = attack or self.pgd
        for s in configs.values():
            for t in configs.values():
                self.planned_evals.append(EvalRequest(t, attack, s if s is not t else None))
        runs = {k: self.run(c) for k, c in configs.items()}
        if self.dry_run:
            return pd.DataFrame(NAN, index=pd.Index(list(configs), name="source"),
                                columns=pd.Index(list(configs), name="target"))
        return self.evaluator().transfer_matrix(runs, attack)

    def r2s(self, configs: dict[str, RunConfig], adaptive: bool = True, strong: bool = True) -> dict:
        """R2S over the candidate set: natural, paper protocol, adaptive EOT (loss, logits; CE and,
        with `strong`, CW margin), AutoAttack rand on the profile's first `aa_rand_images` images and
        the per-example strong figure."""
        matrix = self.matrix(configs)
        for c in configs.values():
            self.planned_evals.append(EvalRequest(c, AttackSpec("clean")))
        k = self.profile.evaluation.aa_rand_images
        if adaptive:  # EOT attacks: one PGD-20 through the whole set each
            members = tuple(configs.items())
            for over, loss in EOT_ATTACKS if strong else EOT_ATTACKS[:2]:
                self.planned_evals.append(EvalRequest(members[0][1], self.pgd, members=members, eot_over=over,
                                                      eot_loss=loss))
            if strong and k:
                self.planned_evals.append(EvalRequest(members[0][1], self.pgd, members=members, eot_over="rand",
                                                      strong_images=k))
        if self.dry_run:
            return {**{c: NAN for c in R2S_COLUMNS}, "matrix": matrix}
        runs = {label: self.run(c) for label, c in configs.items()}
        result = evaluate_r2s(self.evaluator(), runs, self.pgd, adaptive=adaptive,
                              strong_images=k if strong else None)
        return {**result.row(), "matrix": result.matrix}


# -- knobs ----------------------------------------------------------------------------------

def parse_list(value, name: str, item: Callable[[Any], Any] = str) -> list | None:
    """A list parameter given as a list, as the string '[7,10,15]' (papermill's -p), or '7,10,15'."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        parts = [p.strip().strip("'\"") for p in text.split(",")]
        value = [p for p in parts if p]
    elif not isinstance(value, (list, tuple)):
        value = [value]
    if not value:
        raise ConfigError(f"parameter {name!r} is empty")
    try:
        return [item(v) for v in value]
    except (TypeError, ValueError) as e:
        raise ConfigError(f"parameter {name!r} has a bad entry: {e}") from None


def parse_ratios(value, name: str = "ratios") -> list[float] | None:
    ratios = parse_list(value, name, check_ratio)
    if ratios is not None and len(set(ratios)) != len(ratios):
        raise ConfigError(f"parameter {name!r} repeats a ratio: {ratios}")
    return ratios


def parse_candidate_sets(value, name: str = "candidate_sets") -> list[list[float]] | None:
    """[[3,5],[7,10]] or '[[3,5],[7,10]]' or '3,5;7,10'."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[["):
            groups = [g for g in text[1:-1].replace("],", "];").split(";")]
        else:
            groups = text.split(";")
        return [parse_ratios(g, name) for g in groups if g.strip()]
    return [parse_ratios(g, name) for g in value]


def _knob(profile: Profile, section: str, name: str, given):
    if given is not None:
        return given
    settings = profile.sections.get(section, {})
    if name not in settings:
        raise ConfigError(f"profile {profile.name!r} sets no {section}.{name} in _config.yml")
    return settings[name]


def _networks(profile: Profile, networks) -> list[str]:
    archs = parse_list(networks, "networks") or list(profile.archs)
    for a in archs:
        check_arch(a)
        if a not in profile.archs:
            raise ConfigError(f"network {a!r} has no width in profile {profile.name!r} "
                              f"(it lists {sorted(profile.archs)})")
    return archs


def _datasets(profile: Profile, datasets) -> list[str]:
    names = [canonical_name(d) for d in (parse_list(datasets, "datasets") or list(profile.datasets))]
    for d in names:
        check_dataset(d)
    return names


def _label(arch: str, dataset: str) -> str:
    return f"{ARCH_LABELS[arch]} @ {dataset_spec(dataset).label}"


def _pct(r: float) -> str:
    return f"{r:g}%"


def _fmt(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def _held(cond) -> bool | None:
    return None if cond is None or (isinstance(cond, float) and math.isnan(cond)) else bool(cond)


def _diag_gap(matrix: pd.DataFrame) -> tuple[float, float, float]:
    a = matrix.to_numpy(dtype=float)
    if a.shape[0] < 2:
        return NAN, NAN, NAN
    diag = float(np.mean(np.diag(a)))
    off = float(np.mean(a[~np.eye(len(a), dtype=bool)]))
    return diag, off, off - diag


def _transfer_claim(section: str, claim: str, matrix: pd.DataFrame) -> Claim:
    """Poor transfer: the off-diagonal mean at least 10 points above the diagonal (white-box)."""
    diag, off, gap = _diag_gap(matrix)
    return Claim(section, claim, f"diagonal {_fmt(diag)}, off-diagonal {_fmt(off)}, gap {_fmt(gap)}",
                 _held(gap >= 10 if not math.isnan(gap) else NAN))


def _diagonal_rows(ctx: Context, panel: str, members: dict[str, RunConfig], matrix: pd.DataFrame) -> list[dict]:
    """The white-box diagonal of a transfer matrix beside each model's strong figure."""
    return [{"panel": panel, "ratio": label, "pgd20 (paper's)": float(matrix.loc[label, label]),
             "strong (ours)": ctx.strong(c)} for label, c in members.items()]


# -- Sec. 3: more attacks (Table 1) ---------------------------------------------------------

def sec3_attacks(profile: Profile, eps_list: Sequence[float], queries: int) -> dict[str, AttackSpec]:
    """Table 1's columns: PGD-20, then AutoAttack, CW-L2, CW-Inf and Bandits at each eps."""
    attacks = {"pgd20": AttackSpec.pgd20(profile.evaluation)}
    for k in eps_list:
        attacks[f"autoattack_eps{k:g}"] = AttackSpec("autoattack", eps=k)
    attacks["cw_l2"] = AttackSpec("cw-l2")
    for k in eps_list:
        attacks[f"cw_inf_eps{k:g}"] = AttackSpec("cw-inf", eps=k, step=k / 4, steps=CW_ITERATIONS)
    for k in eps_list:
        attacks[f"bandits_eps{k:g}"] = AttackSpec("bandits", eps=k, queries=queries)
    return attacks


def sec3(ctx: Context, networks=None, dataset=None, ratios=None, eps=None, n_test=None,
         bandits_queries=None) -> SectionResult:
    p = ctx.profile
    archs = _networks(p, networks)
    dataset = _datasets(p, dataset)[0]
    ratios = parse_ratios(_knob(p, "sec3", "ratios", ratios))
    eps_list = parse_list(_knob(p, "sec3", "eps", eps), "eps", float)
    if any(e < 0 for e in eps_list):
        raise ConfigError(f"eps must be >= 0 (1/255 units), got {eps_list}")
    n_test = n_test if n_test is not None else p.sections.get("sec3", {}).get("n_test")
    queries = int(_knob(p, "sec3", "bandits_queries", bandits_queries))
    attacks = sec3_attacks(p, eps_list, queries)
    rows = []
    for arch in archs:
        models = {"dense_adv_trained": (100.0, ex.dense_config(p, dataset, arch, True, ctx.seed))}
        for r in ratios:
            models[f"rst_{r:g}"] = (r, ex.search_config(p, dataset, arch, r, ctx.seed))
        for kind, (ratio, config) in models.items():
            row = {"network": ARCH_LABELS[arch], "model": "dense_adv_trained" if kind.startswith("dense") else "rst",
                   "remaining_ratio_pct": ratio, "natural": ctx.accuracy(config, AttackSpec("clean"), n_test=n_test)}
            for col, spec in attacks.items():
                row[col] = ctx.accuracy(config, spec, n_test=n_test)
                if col == "pgd20":
                    row["strong (ours)"] = ctx.strong(config, n_test=n_test)
            rows.append(row)
    table = pd.DataFrame(rows)
    result = SectionResult(tables={"table1": table})
    attack_cols = [c for c in attacks if c != "pgd20"]
    for arch in archs:
        t = table[table.network == ARCH_LABELS[arch]]
        dense, rst = t[t.model == "dense_adv_trained"].iloc[0], t[t.model == "rst"]
        gaps = {c: float(rst[c].max() - dense[c]) for c in attack_cols}
        worst = min(gaps.values())
        result.claims.append(Claim(
            "sec3", f"{ARCH_LABELS[arch]}: under every attack, the best RST comes within 3 points of the "
            "adversarially trained dense network",
            "best RST minus dense: " + ", ".join(f"{c} {_fmt(g)}" for c, g in gaps.items()),
            _held(worst >= -3.0 if not math.isnan(worst) else NAN)))
        low = rst[(rst.remaining_ratio_pct >= 5) & (rst.remaining_ratio_pct <= 30)]
        for col, what in (("pgd20", "PGD-20 (the paper's)"), ("strong (ours)", "the strong figure (ours)")):
            gap = float(low[col].max() - dense[col]) if len(low) else NAN
            result.claims.append(Claim(
                "sec3", f"C1 existence ({ARCH_LABELS[arch]}), under {what}: an RST at 5-30% reaches the dense "
                "network's robust accuracy (within 3 points or above)",
                f"best RST at 5-30% minus dense: {_fmt(gap)} (dense {_fmt(float(dense[col]))})",
                _held(gap >= -3.0 if not math.isnan(gap) else NAN)))
    return result


# -- Sec. 4: natural accuracy (Figs. 1-3) ---------------------------------------------------

def sec4(ctx: Context, networks=None, datasets=None, ratios=None, inits=None) -> SectionResult:
    p = ctx.profile
    archs, names = _networks(p, networks), _datasets(p, datasets)
    ratios = parse_ratios(_knob(p, "sec4", "ratios", ratios))
    inits = parse_list(_knob(p, "sec4", "inits", inits), "inits")
    for i in inits:
        check_init(i)
    fig1, fig2, fig3 = [], [], []
    for d in names:
        for r in ratios:  # Fig. 1: ResNet18 (the first network) only, as in the supplement
            for init in inits:
                fig1.append({"panel": _label(archs[0], d), "init": INIT_LABELS[init], "ratio": r,
                             "natural": ctx.natural(ex.search_config(p, d, archs[0], r, ctx.seed, init))})
        for arch in archs:
            for r in ratios:
                rst = ctx.natural(ex.search_config(p, d, arch, r, ctx.seed))
                fig2 += [{"panel": _label(arch, d), "variant": "RST", "ratio": r, "natural": rst},
                         {"panel": _label(arch, d), "variant": "FT_RST_Inherit", "ratio": r,
                          "natural": ctx.natural(ex.finetune_config(p, d, arch, r, "inherit", ctx.seed))},
                         {"panel": _label(arch, d), "variant": "FT_RST_Reinit", "ratio": r,
                          "natural": ctx.natural(ex.finetune_config(p, d, arch, r, "reinit", ctx.seed))}]
                fig3 += [{"panel": _label(arch, d), "variant": "RST", "ratio": r, "natural": rst},
                         {"panel": _label(arch, d), "variant": "Natural_RTT", "ratio": r,
                          "natural": ctx.natural(ex.rtt_config(p, d, arch, r, "natural", ctx.seed))},
                         {"panel": _label(arch, d), "variant": "Adv_RTT", "ratio": r,
                          "natural": ctx.natural(ex.rtt_config(p, d, arch, r, "adversarial", ctx.seed))}]
    f1, f2, f3 = pd.DataFrame(fig1), pd.DataFrame(fig2), pd.DataFrame(fig3)
    result = SectionResult(tables={"fig1": f1, "fig2": f2, "fig3": f3}, figures={"fig1": f1, "fig2": f2, "fig3": f3})
    means = f1.groupby("init")["natural"].mean()
    best = means.idxmax() if means.notna().all() else None
    result.claims.append(Claim("sec4", "Fig. 1: Signed Kaiming Constant gives the best natural accuracy (mean over ratios)",
                               ", ".join(f"{k} {_fmt(v)}" for k, v in means.items()),
                               _held(None if best is None else best == INIT_LABELS["signed_kaiming_constant"])))
    piv = f2.pivot_table(index=["panel", "ratio"], columns="variant", values="natural")
    if len(piv.columns) == 3:
        gap = float((piv["RST"] - piv[["FT_RST_Inherit", "FT_RST_Reinit"]].max(axis=1)).mean())
        low = piv[piv.index.get_level_values("ratio") <= 20]
        wins = int((low["FT_RST_Inherit"] >= low[["RST", "FT_RST_Reinit"]].max(axis=1)).sum())
        result.claims.append(Claim("sec4", "Fig. 2: vanilla RSTs reach a natural accuracy comparable to fine-tuned RSTs "
                                   "(within 3 points of the better fine-tuned variant on average)",
                                   f"RST minus best fine-tuned, mean: {_fmt(gap)}", _held(gap >= -3 if not math.isnan(gap) else NAN)))
        result.claims.append(Claim("sec4", "Fig. 2: at low ratios (<= 20%) fine-tuning with inherited weights is mostly best",
                                   f"inherit best at {wins} of {len(low)} (panel, ratio) points",
                                   _held(None if piv.isna().any().any() else wins > len(low) / 2)))
    piv3 = f3.pivot_table(index=["panel", "ratio"], columns="variant", values="natural")
    if len(piv3.columns) == 3:
        m = piv3.mean()
        result.claims.append(Claim("sec4", "Fig. 3: adversarial RTTs give the best natural accuracy; RSTs are comparable to RTTs",
                                   ", ".join(f"{k} {_fmt(v)}" for k, v in m.items()),
                                   _held(None if m.isna().any() else m.idxmax() == "Adv_RTT")))
    return result


# -- Sec. 5: transferability between RSTs (Fig. 4, Table 2) ---------------------------------

def sec5(ctx: Context, networks=None, datasets=None, ratios=None, table2_ratios=None) -> SectionResult:
    p = ctx.profile
    archs, names = _networks(p, networks), _datasets(p, datasets)
    ratios = parse_ratios(_knob(p, "sec5", "ratios", ratios))
    t2_ratios = parse_ratios(_knob(p, "sec5", "table2_ratios", table2_ratios))
    result = SectionResult()
    matrices = {}
    diagonal = []
    for d in names:
        for arch in archs:
            members = {_pct(r): ex.search_config(p, d, arch, r, ctx.seed) for r in ratios}
            m = ctx.matrix(members)
            matrices[_label(arch, d)] = m
            diagonal += _diagonal_rows(ctx, _label(arch, d), members, m)
            result.claims.append(_transfer_claim("sec5", f"C2 poor transfer ({_label(arch, d)}): mean off-diagonal "
                                                 "robust accuracy at least 10 points above the diagonal (white-box)", m))
    result.figures["fig4"] = matrices
    result.tables["fig4_diagonal"] = pd.DataFrame(diagonal)
    # Table 2: first network, first dataset
    arch, d = archs[0], names[0]
    nat = ex.dense_config(p, d, arch, adversarial=False, seed=ctx.seed)
    adv = ex.dense_config(p, d, arch, adversarial=True, seed=ctx.seed)
    targets = {f"rst_{r:g}": ex.search_config(p, d, arch, r, ctx.seed) for r in t2_ratios}
    rows = []
    for src_name, src in (("dense_nat_trained", nat), ("dense_adv_trained", adv)):
        row = {"attack_source": src_name}
        for t_name, t in {**targets, "dense_nat_trained": nat, "dense_adv_trained": adv}.items():
            row[t_name] = ctx.accuracy(t, source=None if t is src else src)
        rows.append(row)
    row = {"attack_source": "same_ratio_other_seed"}
    white = {"attack_source": "white_box (for comparison)"}
    for r in t2_ratios:
        other = ex.search_config(p, d, arch, r, ctx.seed + 1)
        row[f"rst_{r:g}"] = ctx.accuracy(targets[f"rst_{r:g}"], source=other)
        white[f"rst_{r:g}"] = ctx.accuracy(targets[f"rst_{r:g}"])
    white["dense_nat_trained"] = ctx.accuracy(nat)
    white["dense_adv_trained"] = ctx.accuracy(adv)
    rows += [row, white]
    t2 = pd.DataFrame(rows)
    result.tables["table2"] = t2
    rst_cols = list(targets)
    wb = t2.iloc[3][rst_cols].astype(float)
    for i, what in ((0, "naturally trained dense"), (1, "adversarially trained dense"), (2, "same-ratio RST of another seed")):
        gap = float((t2.iloc[i][rst_cols].astype(float) - wb).mean())
        result.claims.append(Claim("sec5", f"Table 2: attacks from the {what} network transfer poorly to RSTs "
                                   "(RST accuracy under them >= 10 points above white-box)",
                                   f"mean gain over white-box: {_fmt(gap)}", _held(gap >= 10 if not math.isnan(gap) else NAN)))
    return result


# -- Sec. 6 / 8: R2S over candidate sets (Tables 3, 4) --------------------------------------

def _r2s_table(ctx: Context, section: str, candidate_sets, archs, names, member: Callable) -> SectionResult:
    p = ctx.profile
    rows = []
    result = SectionResult()
    for d in names:
        for arch in archs:
            dense = ex.dense_config(p, d, arch, True, ctx.seed)
            base = {"dataset": dataset_spec(d).label, "network": ARCH_LABELS[arch]}
            dense_pgd = ctx.accuracy(dense)  # a deterministic model: every attack is white-box
            dense_row = {**base, "candidate_set": "dense", **{c: NAN for c in R2S_COLUMNS},
                         "natural": ctx.accuracy(dense, AttackSpec("clean")), "pgd20_protocol": dense_pgd,
                         "strong": ctx.strong(dense)}
            rows.append(dense_row)
            for cs in candidate_sets:
                r = ctx.r2s({_pct(x): member(d, arch, x) for x in cs})
                rows.append({**base, "candidate_set": ", ".join(_pct(x) for x in cs), **{k: r[k] for k in R2S_COLUMNS}})
                gain = r["pgd20_protocol"] - dense_row["pgd20_protocol"]
                eot_gain = r["pgd20_eot_loss"] - dense_row["pgd20_protocol"]
                nat_gap = r["natural"] - dense_row["natural"]
                result.claims.append(Claim(section, f"C3 R2S {{{', '.join(_pct(x) for x in cs)}}} ({_label(arch, d)}): "
                                           "paper-protocol PGD-20 accuracy >= dense + 5 points",
                                           f"R2S {_fmt(r['pgd20_protocol'])} vs dense {_fmt(dense_row['pgd20_protocol'])} "
                                           f"(gain {_fmt(gain)}); natural {_fmt(r['natural'])} vs dense "
                                           f"{_fmt(dense_row['natural'])} ({_fmt(nat_gap)})",
                                           _held(gain >= 5 if not math.isnan(gain) else NAN)))
                result.claims.append(Claim(section, f"R2S {{{', '.join(_pct(x) for x in cs)}}} ({_label(arch, d)}) under the "
                                           "adaptive EOT attack still beats dense (our addition, not a claim of the paper)",
                                           f"EOT-loss {_fmt(r['pgd20_eot_loss'])}, EOT-logits {_fmt(r['pgd20_eot_logits'])} "
                                           f"vs dense {_fmt(dense_row['pgd20_protocol'])} (gain {_fmt(eot_gain)})",
                                           _held(eot_gain > 0 if not math.isnan(eot_gain) else NAN)))
    result.tables["r2s"] = pd.DataFrame(rows)
    return result


def sec6(ctx: Context, networks=None, datasets=None, candidate_sets=None, ratios=None) -> SectionResult:
    """Table 3. `ratios` (one candidate set) overrides `candidate_sets`."""
    p = ctx.profile
    sets = [parse_ratios(ratios)] if ratios is not None else parse_candidate_sets(
        _knob(p, "sec6", "candidate_sets", candidate_sets))
    return _r2s_table(ctx, "sec6", sets, _networks(p, networks), _datasets(p, datasets),
                      lambda d, arch, r: ex.search_config(p, d, arch, r, ctx.seed))


def sec8(ctx: Context, network=None, datasets=None, candidate_sets=None, ratios=None) -> SectionResult:
    """Table 4: R2S over adversarial RTTs (all drawn from one adversarially trained network)."""
    p = ctx.profile
    sets = [parse_ratios(ratios)] if ratios is not None else parse_candidate_sets(
        _knob(p, "sec8", "candidate_sets", candidate_sets))
    return _r2s_table(ctx, "sec8", sets, _networks(p, network)[:1], _datasets(p, datasets),
                      lambda d, arch, r: ex.rtt_config(p, d, arch, r, "adversarial", ctx.seed))


# -- Sec. 7: transferability between adversarial RTTs (Fig. 5) ------------------------------

def sec7(ctx: Context, network=None, datasets=None, ratios=None) -> SectionResult:
    p = ctx.profile
    arch = _networks(p, network)[0]
    ratios = parse_ratios(_knob(p, "sec7", "ratios", ratios))
    result = SectionResult()
    matrices = {}
    diagonal = []
    for d in _datasets(p, datasets):
        members = {_pct(r): ex.rtt_config(p, d, arch, r, "adversarial", ctx.seed) for r in ratios}
        m = ctx.matrix(members)
        matrices[_label(arch, d)] = m
        diagonal += _diagonal_rows(ctx, _label(arch, d), members, m)
        result.claims.append(_transfer_claim("sec7", f"Fig. 5 ({_label(arch, d)}): adversarial RTTs transfer poorly "
                                             "to each other (off-diagonal >= 10 points above the diagonal)", m))
    result.figures["fig5"] = matrices
    result.tables["fig5_diagonal"] = pd.DataFrame(diagonal)
    return result


# -- Sec. 9: RSTs vs transferred adversarial RTTs across tasks (Fig. 6) ---------------------

def sec9(ctx: Context, network=None, task_a=None, task_b=None, ratios=None) -> SectionResult:
    p = ctx.profile
    arch = _networks(p, network)[0]
    a = _datasets(p, task_a)[0]
    b = _datasets(p, task_b or p.second_task)[0]
    if dataset_spec(a).channels != dataset_spec(b).channels or dataset_spec(a).num_classes != dataset_spec(b).num_classes:
        raise ConfigError(f"tasks {a} and {b} must share input channels and class count to share one network")
    ratios = parse_ratios(_knob(p, "sec9", "ratios", ratios))
    rows = []
    for task, other in ((b, a), (a, b)):  # (a) task B-specific, (b) task A-specific, as in Fig. 6
        for r in ratios:
            rst = ex.search_config(p, task, arch, r, ctx.seed)
            rtt = ex.rtt_config(p, task, arch, r, "adversarial", ctx.seed, source_dataset=other)
            rows.append({"panel": f"{dataset_spec(task).label}-specific", "variant": "RST", "ratio": r,
                         "pgd20": ctx.accuracy(rst), "strong": ctx.strong(rst)})
            rows.append({"panel": f"{dataset_spec(task).label}-specific",
                         "variant": f"Adv_RTT transferred from {dataset_spec(other).label}", "ratio": r,
                         "pgd20": ctx.accuracy(rtt), "strong": ctx.strong(rtt)})
    f6 = pd.DataFrame(rows)
    result = SectionResult(tables={"fig6": f6}, figures={"fig6": f6})
    for panel, t in f6.groupby("panel", sort=False):
        piv = t.pivot_table(index="ratio", columns="variant", values="pgd20")
        rtt_col = [c for c in piv.columns if c != "RST"]
        if not rtt_col:
            continue
        diff = piv["RST"] - piv[rtt_col[0]]
        wins = int((diff > 0).sum())
        result.claims.append(Claim("sec9", f"Fig. 6 ({panel}): RSTs drawn from one shared random network beat adversarial "
                                   "RTTs transferred from the other task",
                                   f"RST ahead at {wins} of {len(diff)} ratios; largest gap {_fmt(float(diff.max()))}, "
                                   f"mean {_fmt(float(diff.mean()))}",
                                   _held(None if diff.isna().any() else wins > len(diff) / 2)))
    return result


SECTIONS: dict[str, Callable[..., SectionResult]] = {
    "sec3": sec3, "sec4": sec4, "sec5": sec5, "sec6": sec6, "sec7": sec7, "sec8": sec8, "sec9": sec9,
}

TITLES = {
    "sec3": "Sec. 3: RSTs against more attacks (Table 1)",
    "sec4": "Sec. 4: natural accuracy of RSTs, fine-tuned RSTs and RTTs (Figs. 1-3)",
    "sec5": "Sec. 5: adversarial transferability between RSTs (Fig. 4, Table 2)",
    "sec6": "Sec. 6: R2S with more candidate RST sets (Table 3)",
    "sec7": "Sec. 7: adversarial transferability between adversarial RTTs (Fig. 5)",
    "sec8": "Sec. 8: R2S on adversarial RTTs (Table 4)",
    "sec9": "Sec. 9: RSTs vs transferred adversarial RTTs across tasks (Fig. 6)",
}


HEADLINE_SEEDS = (0, 1, 2)  # the intro's C1-C3 over seeds
PLANNABLE = (*SECTIONS, "intro")


def plan(profile: Profile, sections: Sequence[str] | None = None, seed: int = 0) -> tuple[dict[str, RunConfig], list[EvalRequest], dict[str, int]]:
    """Every run and evaluation the given sections need at `profile` (default knobs). `intro` is
    the intro page's headline claims over `HEADLINE_SEEDS`; no sections given = every page."""
    sections = list(sections or PLANNABLE)
    for s in sections:
        if s not in PLANNABLE:
            raise ConfigError(f"unknown section {s!r}; choose from {sorted(PLANNABLE)}")
    runs: dict[str, RunConfig] = {}
    evals: list[EvalRequest] = []
    per_section = {}
    for s in sections:
        ctx = Context(profile, dry_run=True, seed=seed)
        if s == "intro":
            for headline_seed in HEADLINE_SEEDS:
                ctx.seed = headline_seed
                headline(ctx)
        else:
            SECTIONS[s](ctx)
        per_section[s] = len(ctx.planned_runs)
        runs.update(ctx.planned_runs)
        evals += ctx.planned_evals
    return runs, evals, per_section


def headline(ctx: Context, ratios=None, dataset=None, network=None) -> dict:
    """C1-C3 at one seed (ctx.seed) on the first network and dataset:
    C1: best RST at 5-30% minus dense adversarial PGD-20 accuracy;
    C2: mean off-diagonal minus diagonal of the RST transfer matrix;
    C3: R2S (paper protocol, candidate set = `ratios`) minus dense PGD-20 accuracy."""
    p = ctx.profile
    arch = _networks(p, network)[0]
    d = _datasets(p, dataset)[0]
    ratios = parse_ratios(_knob(p, "sec5", "ratios", ratios))
    dense = ex.dense_config(p, d, arch, True, ctx.seed)
    dense_acc = ctx.accuracy(dense)
    members = {_pct(r): ex.search_config(p, d, arch, r, ctx.seed) for r in ratios}
    matrix = ctx.matrix(members)
    diag = np.diag(matrix.to_numpy(dtype=float))
    low = [v for r, v in zip(ratios, diag) if 5 <= r <= 30]
    c1 = float(max(low)) - dense_acc if low else NAN
    _, _, c2 = _diag_gap(matrix)
    c3 = float(matrix.to_numpy(dtype=float).mean()) - dense_acc
    # the same C1 and C3 under the strong figure (ours): worst attack per example
    dense_strong = ctx.strong(dense)
    low_strong = [ctx.strong(c) for r, c in zip(ratios, members.values()) if 5 <= r <= 30]
    c1_strong = float(max(low_strong)) - dense_strong if low_strong else NAN
    c3_strong = ctx.r2s(members)["strong"] - dense_strong
    return {"seed": ctx.seed, "dense_pgd20": dense_acc, "dense_strong": dense_strong,
            "C1_best_rst_minus_dense": c1, "C2_offdiag_minus_diag": c2, "C3_r2s_minus_dense": c3,
            "C1_strong": c1_strong, "C3_strong": c3_strong}
