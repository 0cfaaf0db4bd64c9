"""Secs. 3 and 4: RSTs against more attacks (Table 1), and the natural accuracy of RSTs, fine-tuned RSTs and RTTs (Figs. 1-3)."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from rstlib.attacks.registry import AttackSpec
from rstlib.config.params import check_number, parse_list, parse_ratios
from rstlib.config.profile import Profile
from rstlib.config.section_knobs import RECORDED
from rstlib.data.specs import dataset_spec
from rstlib.nets.inits import LABELS as INIT_LABELS
from rstlib.nets.inits import check_init
from rstlib.nets.models import LABELS as ARCH_LABELS
from rstlib.paper.context import Context, datasets_of, networks_of, panel_label
from rstlib.paper.sections.result import CLEAN, SectionResult, judged
from rstlib.train import variants as ex


def sec3_attacks(profile: Profile, eps_list: Sequence[float], queries: int) -> dict[str, AttackSpec]:
    """Table 1's columns: PGD-20, then AutoAttack, CW-L2, CW-Inf and Bandits at each eps."""
    e = profile.evaluation
    attacks = {"pgd20": AttackSpec.pgd20(e)}
    for k in eps_list:
        attacks[f"autoattack_eps{k:g}"] = AttackSpec.of("autoattack", e, eps=k)
    attacks["cw_l2"] = AttackSpec.of("cw-l2", e)
    for k in eps_list:
        attacks[f"cw_inf_eps{k:g}"] = AttackSpec.of("cw-inf", e, eps=k)
    for k in eps_list:
        attacks[f"bandits_eps{k:g}"] = AttackSpec.of("bandits", e, eps=k, queries=queries)
    return attacks


def sec3(ctx: Context, networks=None, dataset=None, ratios=None, eps=None, n_test=None, bandits_queries=None) -> SectionResult:
    p = ctx.profile
    archs = networks_of(p, networks)
    dataset = datasets_of(p, dataset)[0]
    ratios = parse_ratios(ratios) or list(p.sections.sec3.ratios)
    eps_list = [
        check_number(e, "eps (1/255 units)", minimum=0) for e in parse_list(eps, "eps", float) or list(p.sections.sec3.eps)
    ]
    n_test = n_test if n_test is not None else p.sections.sec3.n_test
    if n_test is not None:
        n_test = check_number(n_test, "n_test", minimum=1, whole=True)
    queries = check_number(
        bandits_queries if bandits_queries is not None else p.sections.sec3.bandits_queries,
        "bandits_queries",
        minimum=2,
        whole=True,
    )
    attacks = sec3_attacks(p, eps_list, queries)
    rows = []
    per_image = {}
    for arch in archs:
        models = {"dense_adv_trained": (100.0, ex.dense_config(p, dataset, arch, True, ctx.seed))}
        for r in ratios:
            models[f"rst_{r:g}"] = (r, ex.search_config(p, dataset, arch, r, ctx.seed))
        for kind, (ratio, config) in models.items():
            row = {
                "network": ARCH_LABELS[arch],
                "model": "dense_adv_trained" if kind.startswith("dense") else "rst",
                "remaining_ratio_pct": ratio,
                "natural": ctx.accuracy(config, AttackSpec("clean"), n_test=n_test),
            }
            for col, spec in attacks.items():
                row[col] = ctx.accuracy(config, spec, n_test=n_test)
                per_image[(ARCH_LABELS[arch], ratio, col)] = ctx.correct(config, spec, n_test=n_test)
                if col == "pgd20":
                    row["strong (ours)"] = ctx.strong(config, n_test=n_test)
            rows.append(row)
    table = pd.DataFrame(rows)
    result = SectionResult(tables={"table1": table}, per_image={"table1": per_image})
    return judged(ctx, "sec3", result, [dataset], len(archs), n_robust=n_test)


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
                fig1.append(
                    {
                        "panel": panel,
                        "init": name,
                        "ratio": r,
                        "natural": natural("fig1", panel, name, r, config),
                        "pgd20": ctx.accuracy(config),
                    }
                )
        for arch in archs:
            panel = panel_label(arch, d)
            for r in ratios:
                rst = natural("fig2", panel, "RST", r, ex.search_config(p, d, arch, r, ctx.seed))
                bits["fig3"][(panel, "RST", float(r))] = bits["fig2"].get((panel, "RST", float(r)))
                fig2 += [{"panel": panel, "variant": "RST", "ratio": r, "natural": rst}]
                fig2 += [
                    {
                        "panel": panel,
                        "variant": f"FT_RST_{how.title()}",
                        "ratio": r,
                        "natural": natural(
                            "fig2", panel, f"FT_RST_{how.title()}", r, ex.finetune_config(p, d, arch, r, how, ctx.seed)
                        ),
                    }
                    for how in ("inherit", "reinit")
                ]
                fig3 += [{"panel": panel, "variant": "RST", "ratio": r, "natural": rst}]
                fig3 += [
                    {
                        "panel": panel,
                        "variant": variant,
                        "ratio": r,
                        "natural": natural("fig3", panel, variant, r, ex.rtt_config(p, d, arch, r, kind, ctx.seed)),
                    }
                    for kind, variant in (("natural", "Natural_RTT"), ("adversarial", "Adv_RTT"))
                ]
    f1, f2, f3 = pd.DataFrame(fig1), pd.DataFrame(fig2), pd.DataFrame(fig3)
    result = SectionResult(
        tables={"fig1": f1, "fig2": f2, "fig3": f3}, figures={"fig1": f1, "fig2": f2, "fig3": f3}, per_image=bits
    )
    return judged(ctx, "sec4", result, names, len(archs))
