"""The work and the results of each supplementary section (Sec. 3-9).

Each section is one function `secN(ctx, **knobs) -> SectionResult`. It asks the context for
runs and evaluations; with a computing `Context` these are trained or loaded from the run store,
with `Context(dry_run=True)` they are only recorded (the values are NaN), which gives the exact
list of runs a section needs: the notebooks and `rst sweep` / `rst plan` share these functions,
so a sweep computes exactly what the book later loads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from rstlib import experiments as ex
from rstlib.claims import Claim, Facts, claims_table
from rstlib.claims import judge as judge_claims
from rstlib.config import ConfigError, Profile, RunConfig
from rstlib.context import NAN, R2S_COLUMNS, Context, EvalRequest, datasets_of, networks_of, panel_label, pct  # noqa: F401
from rstlib.params import check_number, check_ratio, parse_candidate_sets, parse_list, parse_ratios  # noqa: F401
from rstlib.data import dataset_spec
from rstlib.evaluation import CW_ITERATIONS, AttackSpec
from rstlib.inits import LABELS as INIT_LABELS
from rstlib.inits import check_init
from rstlib.knobs import RECORDED
from rstlib.models import LABELS as ARCH_LABELS

CLEAN = AttackSpec("clean")




@dataclass
class SectionResult:
    """A section's tables and figures, and its claims judged by the registry (`rstlib.claims`)."""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # per test image, which images each model got right (for the paired noise model of the claims)
    per_image: dict[str, Any] = field(default_factory=dict)

    def claims_table(self) -> pd.DataFrame:
        from rstlib.calibration import calibrate
        return claims_table(self.claims, calibrate())


def _judged(ctx: Context, section: str, result: SectionResult, datasets: Sequence[str], networks: int,
            n_robust: int | None = None) -> SectionResult:
    """`result` with the registry's claims of `section` judged on it (a dry run measures nothing,
    so it judges nothing: its claims list stays empty)."""
    if ctx.dry_run:
        return result
    p = ctx.profile
    n_nat = min(p.n_test or 10**9, *(dataset_spec(d).test_size for d in datasets))
    n_rob = n_robust or min(p.eval_n_test or 10**9, *(dataset_spec(d).test_size for d in datasets))
    facts = Facts(result.tables, result.figures, n_natural=n_nat, n_robust=n_rob, networks=networks,
                  datasets=len(datasets), per_image=result.per_image,
                  test_images=min(dataset_spec(d).test_size for d in datasets))
    result.claims = judge_claims(section, facts)
    return result


# -- knobs ----------------------------------------------------------------------------------

def diag_gap(matrix: pd.DataFrame) -> tuple[float, float, float]:
    a = matrix.to_numpy(dtype=float)
    if a.shape[0] < 2:
        return NAN, NAN, NAN
    diag = float(np.mean(np.diag(a)))
    off = float(np.mean(a[~np.eye(len(a), dtype=bool)]))
    return diag, off, off - diag


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
    archs = networks_of(p, networks)
    dataset = datasets_of(p, dataset)[0]
    ratios = parse_ratios(ratios) or list(p.sections.sec3.ratios)
    eps_list = [check_number(e, "eps (1/255 units)", minimum=0)
                for e in parse_list(eps, "eps", float) or list(p.sections.sec3.eps)]
    n_test = n_test if n_test is not None else p.sections.sec3.n_test
    if n_test is not None:
        n_test = check_number(n_test, "n_test", minimum=1, whole=True)
    queries = check_number(bandits_queries if bandits_queries is not None else p.sections.sec3.bandits_queries,
                           "bandits_queries", minimum=2, whole=True)
    attacks = sec3_attacks(p, eps_list, queries)
    rows = []
    per_image = {}
    for arch in archs:
        models = {"dense_adv_trained": (100.0, ex.dense_config(p, dataset, arch, True, ctx.seed))}
        for r in ratios:
            models[f"rst_{r:g}"] = (r, ex.search_config(p, dataset, arch, r, ctx.seed))
        for kind, (ratio, config) in models.items():
            row = {"network": ARCH_LABELS[arch], "model": "dense_adv_trained" if kind.startswith("dense") else "rst",
                   "remaining_ratio_pct": ratio, "natural": ctx.accuracy(config, AttackSpec("clean"), n_test=n_test)}
            for col, spec in attacks.items():
                row[col] = ctx.accuracy(config, spec, n_test=n_test)
                per_image[(ARCH_LABELS[arch], ratio, col)] = ctx.correct(config, spec, n_test=n_test)
                if col == "pgd20":
                    row["strong (ours)"] = ctx.strong(config, n_test=n_test)
            rows.append(row)
    table = pd.DataFrame(rows)
    result = SectionResult(tables={"table1": table}, per_image={"table1": per_image})
    return _judged(ctx, "sec3", result, [dataset], len(archs), n_robust=n_test)


# -- Sec. 4: natural accuracy (Figs. 1-3) ---------------------------------------------------

def sec4(ctx: Context, networks=None, datasets=None, ratios=None, inits=None) -> SectionResult:
    p = ctx.profile
    archs, names = networks_of(p, networks), datasets_of(p, datasets)
    ratios = parse_ratios(ratios) or list(p.sections.sec4.ratios)
    inits = parse_list(inits, "inits") or list(p.sections.sec4.inits)
    for i in inits:
        check_init(i)
    fig1, fig2, fig3 = [], [], []
    bits: dict[str, dict] = {"fig1": {}, "fig2": {}, "fig3": {}}

    def natural(fig: str, panel: str, name: str, r: float, config) -> float:
        """Natural accuracy on the Sec. 4 images, its per-image results kept for the paired band
        (or the run's recorded accuracy, without them, where the profile says "recorded")."""
        if p.sections.sec4.natural_images == RECORDED:
            return ctx.natural(config)
        n = min(p.sections.sec4.natural_images or 10**9, dataset_spec(config.dataset).test_size)
        correct = ctx.correct(config, CLEAN, n_test=n)
        if correct is None:
            return float("nan")
        bits[fig][(panel, name, float(r))] = correct
        return 100.0 * float(correct.mean())

    for d in names:
        for r in ratios:  # Fig. 1: ResNet18 (the first network) only, as in the supplement
            for init in inits:
                config = ex.search_config(p, d, archs[0], r, ctx.seed, init)
                panel, name = panel_label(archs[0], d), INIT_LABELS[init]
                robust = ctx.correct(config)
                if robust is not None:
                    bits["fig1"][(panel, name, float(r), "pgd20")] = robust
                fig1.append({"panel": panel, "init": name, "ratio": r,
                             "natural": natural("fig1", panel, name, r, config), "pgd20": ctx.accuracy(config)})
        for arch in archs:
            panel = panel_label(arch, d)
            for r in ratios:
                rst = natural("fig2", panel, "RST", r, ex.search_config(p, d, arch, r, ctx.seed))
                bits["fig3"][(panel, "RST", float(r))] = bits["fig2"].get((panel, "RST", float(r)))
                fig2 += [{"panel": panel, "variant": "RST", "ratio": r, "natural": rst}]
                fig2 += [{"panel": panel, "variant": f"FT_RST_{how.title()}", "ratio": r,
                          "natural": natural("fig2", panel, f"FT_RST_{how.title()}", r,
                                             ex.finetune_config(p, d, arch, r, how, ctx.seed))}
                         for how in ("inherit", "reinit")]
                fig3 += [{"panel": panel, "variant": "RST", "ratio": r, "natural": rst}]
                fig3 += [{"panel": panel, "variant": variant, "ratio": r,
                          "natural": natural("fig3", panel, variant, r, ex.rtt_config(p, d, arch, r, kind, ctx.seed))}
                         for kind, variant in (("natural", "Natural_RTT"), ("adversarial", "Adv_RTT"))]
    f1, f2, f3 = pd.DataFrame(fig1), pd.DataFrame(fig2), pd.DataFrame(fig3)
    result = SectionResult(tables={"fig1": f1, "fig2": f2, "fig3": f3}, figures={"fig1": f1, "fig2": f2, "fig3": f3},
                           per_image=bits)
    return _judged(ctx, "sec4", result, names, len(archs))


# -- Sec. 5: transferability between RSTs (Fig. 4, Table 2) ---------------------------------

def sec5(ctx: Context, networks=None, datasets=None, ratios=None, table2_ratios=None) -> SectionResult:
    p = ctx.profile
    archs, names = networks_of(p, networks), datasets_of(p, datasets)
    ratios = parse_ratios(ratios) or list(p.sections.sec5.ratios)
    t2_ratios = parse_ratios(table2_ratios, "table2_ratios") or list(p.sections.sec5.table2_ratios)
    result = SectionResult()
    matrices = {}
    diagonal = []
    for d in names:
        for arch in archs:
            members = {pct(r): ex.search_config(p, d, arch, r, ctx.seed) for r in ratios}
            m = ctx.matrix(members)
            matrices[panel_label(arch, d)] = m
            result.per_image[f"fig4/{panel_label(arch, d)}"] = ctx.matrix_correct(members)
            diagonal += _diagonal_rows(ctx, panel_label(arch, d), members, m)
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
    per_image = {}
    for i, r in enumerate(t2_ratios):
        target = targets[f"rst_{r:g}"]
        other = ex.search_config(p, d, arch, r, ctx.seed + 1)
        for row_index, src in enumerate((nat, adv, other, None)):
            per_image[(row_index, f"rst_{r:g}")] = ctx.correct(target, source=src)
    result.per_image["table2"] = per_image
    t2 = pd.DataFrame(rows)
    result.tables["table2"] = t2
    return _judged(ctx, "sec5", result, names, len(archs))


# -- Sec. 6 / 8: R2S over candidate sets (Tables 3, 4) --------------------------------------

def _r2s_table(ctx: Context, section: str, candidate_sets, archs, names, member: Callable) -> SectionResult:
    return _judged(ctx, section, _r2s_rows(ctx, candidate_sets, archs, names, member), names, len(archs))


def _r2s_rows(ctx: Context, candidate_sets, archs, names, member: Callable) -> SectionResult:
    """R2S over each candidate set of `member(dataset, arch, ratio)` runs beside the dense network:
    the table and the per-image results (not yet judged)."""
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
            group = f"r2s/{base['network']} @ {base['dataset']}"
            clean = AttackSpec("clean")
            result.per_image[f"{group}/dense"] = {"pgd20_protocol": ctx.correct(dense), "natural": ctx.correct(dense, clean)}
            for cs in candidate_sets:
                members = {pct(x): member(d, arch, x) for x in cs}
                r = ctx.r2s(members)
                label = ", ".join(pct(x) for x in cs)
                rows.append({**base, "candidate_set": label, **{k: r[k] for k in R2S_COLUMNS}})
                rates = ctx.r2s_per_image(members)
                natural = [ctx.correct(c, clean) for c in members.values()]
                result.per_image[f"{group}/{label}"] = None if rates is None else {
                    "pgd20_protocol": rates["protocol"], "strong": rates["strong"],
                    "natural": np.mean(natural, axis=0)}  # the defender's draw: the mean over the members
    result.tables["r2s"] = pd.DataFrame(rows)
    return result


def sec6(ctx: Context, networks=None, datasets=None, candidate_sets=None, ratios=None) -> SectionResult:
    """Table 3. `ratios` (one candidate set) overrides `candidate_sets`."""
    p = ctx.profile
    sets = [parse_ratios(ratios)] if ratios is not None else (
        parse_candidate_sets(candidate_sets) or [list(s) for s in p.sections.sec6.candidate_sets])
    return _r2s_table(ctx, "sec6", sets, networks_of(p, networks), datasets_of(p, datasets),
                      lambda d, arch, r: ex.search_config(p, d, arch, r, ctx.seed))


def sec8(ctx: Context, network=None, datasets=None, candidate_sets=None, ratios=None) -> SectionResult:
    """Table 4: R2S over adversarial RTTs (all drawn from one adversarially trained network)."""
    p = ctx.profile
    sets = [parse_ratios(ratios)] if ratios is not None else (
        parse_candidate_sets(candidate_sets) or [list(s) for s in p.sections.sec8.candidate_sets])
    archs, names = networks_of(p, network)[:1], datasets_of(p, datasets)
    result = _r2s_rows(ctx, sets, archs, names, lambda d, arch, r: ex.rtt_config(p, d, arch, r, "adversarial", ctx.seed))
    # S7.2 sets R2S over adversarial RTTs (Table 4) beside R2S over RSTs (Table 3, Sec. 6's sets)
    rst = _r2s_rows(ctx, [list(x) for x in p.sections.sec6.candidate_sets], archs, names,
                    lambda d, arch, r: ex.search_config(p, d, arch, r, ctx.seed))
    result.tables["r2s_rst"] = rst.tables["r2s"]
    result.per_image.update({f"rst/{k}": v for k, v in rst.per_image.items()})
    return _judged(ctx, "sec8", result, names, len(archs))


# -- Sec. 7: transferability between adversarial RTTs (Fig. 5) ------------------------------

def sec7(ctx: Context, network=None, datasets=None, ratios=None) -> SectionResult:
    p = ctx.profile
    arch = networks_of(p, network)[0]
    ratios = parse_ratios(ratios) or list(p.sections.sec7.ratios)
    result = SectionResult()
    matrices = {}
    diagonal = []
    for d in datasets_of(p, datasets):
        members = {pct(r): ex.rtt_config(p, d, arch, r, "adversarial", ctx.seed) for r in ratios}
        m = ctx.matrix(members)
        matrices[panel_label(arch, d)] = m
        result.per_image[f"fig5/{panel_label(arch, d)}"] = ctx.matrix_correct(members)
        diagonal += _diagonal_rows(ctx, panel_label(arch, d), members, m)
    result.figures["fig5"] = matrices
    result.tables["fig5_diagonal"] = pd.DataFrame(diagonal)
    return _judged(ctx, "sec7", result, datasets_of(p, datasets), 1)


# -- Sec. 9: RSTs vs transferred adversarial RTTs across tasks (Fig. 6) ---------------------

def sec9(ctx: Context, network=None, task_a=None, task_b=None, ratios=None, n_test=None) -> SectionResult:
    p = ctx.profile
    arch = networks_of(p, network)[0]
    a = datasets_of(p, task_a)[0]
    b = datasets_of(p, task_b or p.second_task)[0]
    if dataset_spec(a).channels != dataset_spec(b).channels or dataset_spec(a).num_classes != dataset_spec(b).num_classes:
        raise ConfigError(f"tasks {a} and {b} must share input channels and class count to share one network")
    ratios = parse_ratios(ratios) or list(p.sections.sec9.ratios)
    n_test = n_test if n_test is not None else (p.sections.sec9.n_test or p.eval_n_test)
    if n_test is not None:
        n_test = check_number(n_test, "n_test", minimum=1, whole=True)
    rows = []
    per_image = {}  # (panel, ratio) -> (RST, transferred RTT) correctness per image under PGD-20
    for task, other in ((b, a), (a, b)):  # (a) task B-specific, (b) task A-specific, as in Fig. 6
        n = min(n_test or 10**9, dataset_spec(task).test_size)  # a task's test set caps its images
        for r in ratios:
            rst = ex.search_config(p, task, arch, r, ctx.seed)
            rtt = ex.rtt_config(p, task, arch, r, "adversarial", ctx.seed, source_dataset=other)
            panel = f"{dataset_spec(task).label}-specific"
            per_image[(panel, r)] = (ctx.correct(rst, n_test=n), ctx.correct(rtt, n_test=n))
            rows.append({"panel": panel, "variant": "RST", "ratio": r,
                         "pgd20": ctx.accuracy(rst, n_test=n), "strong": ctx.strong(rst)})
            rows.append({"panel": panel, "variant": f"Adv_RTT transferred from {dataset_spec(other).label}", "ratio": r,
                         "pgd20": ctx.accuracy(rtt, n_test=n), "strong": ctx.strong(rtt)})
    f6 = pd.DataFrame(rows)
    test_images = {f"{dataset_spec(t).label}-specific": dataset_spec(t).test_size for t in (a, b)}
    result = SectionResult(tables={"fig6": f6}, figures={"fig6": f6},
                           per_image={"fig6": per_image, "fig6/test_images": test_images})
    return _judged(ctx, "sec9", result, [a, b], 1)


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
