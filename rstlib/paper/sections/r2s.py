"""Secs. 6 and 8: Random RST Switch over candidate sets of RSTs (Table 3) and of adversarial RTTs (Table 4)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from rstlib.attacks.registry import AttackSpec
from rstlib.config.params import parse_candidate_sets, parse_ratios
from rstlib.data.specs import dataset_spec
from rstlib.nets.models import LABELS as ARCH_LABELS
from rstlib.paper.context import NAN, R2S_COLUMNS, Context, datasets_of, networks_of, pct
from rstlib.paper.sections.result import SectionResult, judged
from rstlib.train import variants as ex


def _r2s_table(ctx: Context, section: str, candidate_sets, archs, names, member: Callable) -> SectionResult:
    return judged(ctx, section, _r2s_rows(ctx, candidate_sets, archs, names, member), names, len(archs))


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
            dense_row = {
                **base,
                "candidate_set": "dense",
                **{c: NAN for c in R2S_COLUMNS},
                "natural": ctx.accuracy(dense, AttackSpec("clean")),
                "pgd20_protocol": dense_pgd,
                "strong": ctx.strong(dense),
            }
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
                result.per_image[f"{group}/{label}"] = (
                    None
                    if rates is None
                    else {"pgd20_protocol": rates["protocol"], "strong": rates["strong"], "natural": np.mean(natural, axis=0)}
                )  # the defender's draw: the mean over the members
    result.tables["r2s"] = pd.DataFrame(rows)
    return result


def _candidate_sets(ratios, candidate_sets, default) -> list[list[float]]:
    """One set (`ratios`), else the sets given, else the profile's."""
    if ratios is not None:
        return [parse_ratios(ratios)]
    return parse_candidate_sets(candidate_sets) or [list(s) for s in default]


def sec6(ctx: Context, networks=None, datasets=None, candidate_sets=None, ratios=None) -> SectionResult:
    """Table 3. `ratios` (one candidate set) overrides `candidate_sets`."""
    p = ctx.profile
    sets = _candidate_sets(ratios, candidate_sets, p.sections.sec6.candidate_sets)
    return _r2s_table(
        ctx,
        "sec6",
        sets,
        networks_of(p, networks),
        datasets_of(p, datasets),
        lambda d, arch, r: ex.search_config(p, d, arch, r, ctx.seed),
    )


def sec8(ctx: Context, network=None, datasets=None, candidate_sets=None, ratios=None) -> SectionResult:
    """Table 4: R2S over adversarial RTTs (all drawn from one adversarially trained network)."""
    p = ctx.profile
    sets = _candidate_sets(ratios, candidate_sets, p.sections.sec8.candidate_sets)
    archs, names = networks_of(p, network)[:1], datasets_of(p, datasets)
    result = _r2s_rows(ctx, sets, archs, names, lambda d, arch, r: ex.rtt_config(p, d, arch, r, "adversarial", ctx.seed))
    # S7.2 sets R2S over adversarial RTTs (Table 4) beside R2S over RSTs (Table 3, Sec. 6's sets)
    rst = _r2s_rows(
        ctx,
        [list(x) for x in p.sections.sec6.candidate_sets],
        archs,
        names,
        lambda d, arch, r: ex.search_config(p, d, arch, r, ctx.seed),
    )
    result.tables["r2s_rst"] = rst.tables["r2s"]
    result.per_image.update({f"rst/{k}": v for k, v in rst.per_image.items()})
    return judged(ctx, "sec8", result, names, len(archs))
