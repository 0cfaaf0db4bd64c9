"""Secs. 5, 7 and 9: adversarial transferability between RSTs (Fig. 4, Table 2), between adversarial
RTTs (Fig. 5), and across tasks (Fig. 6)."""

from __future__ import annotations

import pandas as pd

from rstlib.config.params import check_number, parse_ratios
from rstlib.config.profile import ConfigError, RunConfig
from rstlib.data.specs import dataset_spec
from rstlib.paper.context import NAN, Context, datasets_of, diag_gap, networks_of, panel_label, pct  # noqa: F401 (diag_gap: the pages' API)
from rstlib.paper.sections.result import SectionResult, judged
from rstlib.train import variants as ex


def _diagonal_rows(ctx: Context, panel: str, members: dict[str, RunConfig], matrix: pd.DataFrame) -> list[dict]:
    """The white-box diagonal of a transfer matrix beside each model's strong figure."""
    return [
        {"panel": panel, "ratio": label, "pgd20 (paper's)": float(matrix.loc[label, label]), "strong (ours)": ctx.strong(c)}
        for label, c in members.items()
    ]


def _transfer_matrices(ctx: Context, result: SectionResult, fig: str, panels: dict[str, dict]) -> None:
    """Each panel's transfer matrix among its members (`fig`, e.g. fig4), their per-image results
    and the matrix diagonal beside the strong figure (`<fig>_diagonal`)."""
    matrices, last = {}, {}
    diagonal = []
    for panel, members in panels.items():
        m = ctx.matrix(members)
        matrices[panel] = m
        result.per_image[f"{fig}/{panel}"] = ctx.matrix_correct(members)
        diagonal += _diagonal_rows(ctx, panel, members, m)
        if ctx.last_iterate is not None:  # the same matrix on the last iterate, beside the authors' early stop
            last[panel] = ctx.matrix(members, ctx.last_iterate)
            result.per_image[f"{fig}_last/{panel}"] = ctx.matrix_correct(members, ctx.last_iterate)
    result.figures[fig] = matrices
    if last:
        result.figures[f"{fig}_last"] = last
    result.tables[f"{fig}_diagonal"] = pd.DataFrame(diagonal)


def sec5(ctx: Context, networks=None, datasets=None, ratios=None, table2_ratios=None) -> SectionResult:
    p = ctx.profile
    archs, names = networks_of(p, networks), datasets_of(p, datasets)
    ratios = parse_ratios(ratios) or list(p.sections.sec5.ratios)
    t2_ratios = parse_ratios(table2_ratios, "table2_ratios") or list(p.sections.sec5.table2_ratios)
    result = SectionResult()
    panels = {
        panel_label(arch, d): {pct(r): ex.search_config(p, d, arch, r, ctx.seed) for r in ratios} for d in names for arch in archs
    }
    _transfer_matrices(ctx, result, "fig4", panels)
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
    return judged(ctx, "sec5", result, names, len(archs))


def sec7(ctx: Context, network=None, datasets=None, ratios=None) -> SectionResult:
    p = ctx.profile
    arch = networks_of(p, network)[0]
    ratios = parse_ratios(ratios) or list(p.sections.sec7.ratios)
    result = SectionResult()
    panels = {
        panel_label(arch, d): {pct(r): ex.rtt_config(p, d, arch, r, "adversarial", ctx.seed) for r in ratios}
        for d in datasets_of(p, datasets)
    }
    _transfer_matrices(ctx, result, "fig5", panels)
    return judged(ctx, "sec7", result, datasets_of(p, datasets), 1)


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
            rows.append(
                {"panel": panel, "variant": "RST", "ratio": r, "pgd20": ctx.accuracy(rst, n_test=n), "strong": ctx.strong(rst)}
            )
            rows.append(
                {
                    "panel": panel,
                    "variant": f"Adv_RTT transferred from {dataset_spec(other).label}",
                    "ratio": r,
                    "pgd20": ctx.accuracy(rtt, n_test=n),
                    "strong": ctx.strong(rtt),
                }
            )
    f6 = pd.DataFrame(rows)
    test_images = {f"{dataset_spec(t).label}-specific": dataset_spec(t).test_size for t in (a, b)}
    result = SectionResult(
        tables={"fig6": f6}, figures={"fig6": f6}, per_image={"fig6": per_image, "fig6/test_images": test_images}
    )
    return judged(ctx, "sec9", result, [a, b], 1)
