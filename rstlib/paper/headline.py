"""The intro's headline claims C1-C3 at one seed, on the first network and dataset of a profile:
the per-seed numbers (`headline`) and what they are made of per test image (`headline_per_image`,
for the one noise model). The scale page runs the same code at every point of its ladder."""

from __future__ import annotations

import numpy as np

from rstlib.config.params import parse_ratios
from rstlib.paper.context import NAN, Context, datasets_of, diag_gap, networks_of, pct
from rstlib.train import variants as ex

HEADLINE_SEEDS = (0, 1, 2)  # the intro's C1-C3 over seeds


def headline(ctx: Context, ratios=None, dataset=None, network=None) -> dict:
    """C1-C3 at one seed (ctx.seed) on the first network and dataset:
    C1: best RST at 5-30% minus dense adversarial PGD-20 accuracy;
    C2: mean off-diagonal minus diagonal of the RST transfer matrix;
    C3: R2S (paper protocol, candidate set = `ratios`) minus dense PGD-20 accuracy."""
    p = ctx.profile
    arch = networks_of(p, network)[0]
    d = datasets_of(p, dataset)[0]
    ratios = parse_ratios(ratios) or list(p.sections.sec5.ratios)
    dense = ex.dense_config(p, d, arch, True, ctx.seed)
    dense_acc = ctx.accuracy(dense)
    members = {pct(r): ex.search_config(p, d, arch, r, ctx.seed) for r in ratios}
    matrix = ctx.matrix(members)
    diag = np.diag(matrix.to_numpy(dtype=float))
    low = [v for r, v in zip(ratios, diag) if 5 <= r <= 30]
    c1 = float(max(low)) - dense_acc if low else NAN
    _, _, c2 = diag_gap(matrix)
    c2_last = diag_gap(ctx.matrix(members, ctx.last_iterate))[2] if ctx.last_iterate is not None else NAN
    c3 = float(matrix.to_numpy(dtype=float).mean()) - dense_acc
    # the same C1 and C3 under the strong figure (ours): worst attack per example
    dense_strong = ctx.strong(dense)
    low_strong = [ctx.strong(c) for r, c in zip(ratios, members.values()) if 5 <= r <= 30]
    c1_strong = float(max(low_strong)) - dense_strong if low_strong else NAN
    c3_strong = ctx.r2s(members)["strong"] - dense_strong
    return {
        "seed": ctx.seed,
        "dense_pgd20": dense_acc,
        "dense_strong": dense_strong,
        "C1_best_rst_minus_dense": c1,
        "C2_offdiag_minus_diag": c2,
        "C2_last_iterate": c2_last,
        "C3_r2s_minus_dense": c3,
        "C1_strong": c1_strong,
        "C3_strong": c3_strong,
    }


def headline_per_image(ctx: Context, ratios=None, dataset=None, network=None) -> dict:
    """What C1-C3 are made of at one seed, per test image (the same images at every seed), for the
    paired noise model (`rstlib.paper.claims.noise`): the dense network's and each RST's correctness under
    PGD-20 and under the strong figure (RSTs at 5-30%, C1's candidates), the per-image gap of the
    transfer matrix (mean off-diagonal minus mean diagonal, C2) and R2S's expected correctness
    under the paper's protocol and under the strong figure (C3)."""
    p = ctx.profile
    arch = networks_of(p, network)[0]
    d = datasets_of(p, dataset)[0]
    ratios = parse_ratios(ratios) or list(p.sections.sec5.ratios)
    dense = ex.dense_config(p, d, arch, True, ctx.seed)
    members = {pct(r): ex.search_config(p, d, arch, r, ctx.seed) for r in ratios}
    low = {pct(r): members[pct(r)] for r in ratios if 5 <= r <= 30}
    out = {
        "dense": ctx.correct(dense),
        "dense_strong": ctx.strong_correct(dense),
        "rst": {k: ctx.correct(c) for k, c in low.items()},
        "rst_strong": {k: ctx.strong_correct(c) for k, c in low.items()},
    }
    cells = ctx.matrix_correct(members)
    last = ctx.matrix_correct(members, ctx.last_iterate) if ctx.last_iterate is not None else None
    rates = ctx.r2s_per_image(members)
    if cells is None or rates is None:
        return {**out, "c2": None, "c2_last": None, "r2s": None, "r2s_strong": None}
    return {
        **out,
        "c2": _off_minus_diag(cells, list(members)),
        "c2_last": _off_minus_diag(last, list(members)),
        "r2s": rates["protocol"],
        "r2s_strong": rates["strong"],
    }


def _off_minus_diag(cells, labels: list[str]):
    """Per image, a transfer matrix's mean off-diagonal minus its mean diagonal (None below 2 x 2 or without cells)."""
    if cells is None or len(labels) < 2:
        return None
    diag = np.mean([cells[(k, k)] for k in labels], axis=0)
    return np.mean([cells[(s, t)] for s in labels for t in labels if s != t], axis=0) - diag
