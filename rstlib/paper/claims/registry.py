"""The claims registry: every textual claim of the supplement's Secs. 3-9, quoted, with the rule
that judges it and the numbers it is judged on.

Each claim is judged from a section's tables (`SectionResult`) with three outcomes:

- **holds**: the measured gap clears the claim's threshold by more than its noise band;
- **does not hold**: it misses the threshold by more than the band;
- **inconclusive**: the threshold lies inside the band.

The band: two models always meet the same test images, so every section and the intro's headline
use the 95% band of `rstlib.paper.claims.noise` (paired per image, seeds and images crossed, t quantile at the
Satterthwaite degrees of freedom; a best or largest of several candidates judged over every
candidate; S4.2's rank correlation by a paired bootstrap over images). Only a table without
per-image results (the paper's own numbers, `rstlib.paper.claims.calibration`) falls back on two independent
binomial errors, sqrt(p (1 - p) / n) each, added in quadrature.
An inconclusive claim carries what would decide it at the observed gap and variance.
A claim a profile cannot test (e.g. a comparison of two networks when the profile has one) is
listed as **not testable** with the reason, never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from rstlib.paper.claims.facts import Facts, Judged
from rstlib.paper.claims.rules_attacks import s3_not_overfit, s3_robust_to_all, s3_wrn_vs_dense_resnet, s3_wrn_vs_dense_wrn
from rstlib.paper.claims.rules_natural import (
    comparable,
    s4_adv_rtt_best,
    s4_inherit_mostly_best,
    s4_rank_matches_robust,
    s4_skc_best,
    s4_wrn_reinit_better,
)
from rstlib.paper.claims.rules_r2s import (
    r2s_gain,
    s6_extremes_cost_natural,
    s6_recommended_set_robust,
    s6_up_to,
    s6_wider_more_robust,
    s7_rtt_r2s_better,
    s8_quoted_set_comparable_natural,
)
from rstlib.paper.claims.rules_transfer import poor_transfer, s9_consistent, s9_up_to, sources_alike, table2_transfer
from rstlib.paper.claims.verdicts import COMPARABLE, FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE, deciding

VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE)
MARK = {HOLDS: "✓ holds", FAILS: "✗ does not hold", INCONCLUSIVE: "? inconclusive", NOT_TESTABLE: "– not testable"}


@dataclass(frozen=True)
class Claim:
    """One judged claim: the supplement's words, our rule, what we measured, the verdict."""
    id: str
    section: str
    quote: str
    rule: str
    measured: str
    verdict: str
    decide: str = ""  # an inconclusive claim: what would decide it, at the observed gap and variance

    def record(self) -> dict:
        return {"id": self.id, "section": self.section, "quote": self.quote, "rule": self.rule,
                "measured": self.measured, "verdict": self.verdict, "decide": self.decide}


# -- the registry -----------------------------------------------------------------------------

def threshold_text(t: float) -> str:
    """A threshold as a rule's sentence writes it: 1/3 as a fraction, else the number."""
    thirds = t * 3
    if abs(thirds - round(thirds)) < 1e-9 and round(thirds) % 3:
        return f"{round(thirds)}/3"
    return f"{t:g}"


@dataclass(frozen=True)
class ClaimSpec:
    """A claim of the supplement (its words), the rule that judges it and the rule's one threshold:
    `rule` is written with `{t}` where the threshold goes, and `judge(facts, threshold)` compares
    against the same number (no rule holds a threshold of its own)."""
    id: str
    section: str
    quote: str
    rule: str
    judge: Callable[[Facts, float], Judged]
    threshold: float

    @property
    def rule_text(self) -> str:
        return self.rule.replace("{t}", threshold_text(self.threshold))


C = COMPARABLE  # the book's one meaning of "comparable" (rstlib.paper.claims.verdicts)

REGISTRY: tuple[ClaimSpec, ...] = (
    ClaimSpec("S3.1", "sec3", "the RSTs searched by PGD-7 training are also robust against other attacks",
              "under every attack of Table 1, the best RST is comparable with the adversarially trained dense "
              "network (gap >= {t} over every RST, 95% band paired per image)", s3_robust_to_all, C),
    ClaimSpec("S3.2", "sec3", "under the Auto-Attack with n=8/12, the RST with a remaining ratio of 5% in WideResNet32 "
              "achieves (1) only a 0.76%/0.21% drop in robust accuracy [...] as compared to the adversarially trained "
              "dense WideResNet32", "AutoAttack: the second network's RST at 5% minus its dense network >= {t} "
              "(95% band, paired per image) at both budgets", s3_wrn_vs_dense_wrn, C),
    ClaimSpec("S3.3", "sec3", "(2) a 2.51%/3.63% higher robust accuracy and a 80% reduction in the model size, compared "
              "with the adversarially trained dense ResNet18", "AutoAttack: the second network's RST at 5% minus the "
              "first network's dense model > {t} (95% band, paired per image) at both budgets", s3_wrn_vs_dense_resnet, 0.0),
    ClaimSpec("S3.4", "sec3", "the identified RSTs are generally robust without overfitting to one specific type of "
              "attacks", "the best RST's gap to the dense network under each other attack minus its gap under "
              "PGD-20, the attack it was searched with, >= {t} (95% band, paired per image)", s3_not_overfit, C),
    ClaimSpec("S4.1", "sec4", "RSTs under Signed Kaiming Constant initialization consistently achieve the best natural "
              "accuracy", "at every (panel, ratio) point Signed Kaiming Constant minus each other initialisation "
              ">= {t} (95% band, paired per image)", s4_skc_best, 0.0),
    ClaimSpec("S4.2", "sec4", "the overall ranking between different initialization methods is generally consistent "
              "with the robust accuracy ranking", "Kendall tau between the four initialisations' mean natural and mean "
              "PGD-20 accuracy >= {t} (at most two of the six pairs ranked discordantly; 95% band, bootstrap over "
              "test images, paired)", s4_rank_matches_robust, 1 / 3),
    ClaimSpec("S4.3", "sec4", "the vanilla RSTs can generally achieve a comparable natural accuracy with that of the "
              "fine-tuned RSTs", "RST minus each fine-tuned variant, mean over points, >= {t} (95% band, paired per image)",
              lambda f, t: comparable(f, t, "fig2", "RST", ["FT_RST_Inherit", "FT_RST_Reinit"]), C),
    ClaimSpec("S4.4", "sec4", "under low weight remaining ratios (1%~20%), fine-tuned RSTs with inherited weights mostly "
              "achieve the best natural accuracy among the three RST variants", "inherited-weight fine-tune minus each "
              "other variant >= {t}, clearly (95% band, paired per image) at more than half of the points at <= 20%",
              s4_inherit_mostly_best, 0.0),
    ClaimSpec("S4.5", "sec4", "the vanilla RSTs on ResNet18 without any training can achieve a comparable natural "
              "accuracy compared with fine-tuned RSTs with re-initialization", "first network: RST minus "
              "re-initialised fine-tune, mean over points, >= {t} (95% band, paired per image)",
              lambda f, t: comparable(f, t, "fig2", "RST", ["FT_RST_Reinit"], network=0), C),
    ClaimSpec("S4.6", "sec4", "while the latter ones on WideResNet32 can achieve a slightly better natural accuracy",
              "second network: re-initialised fine-tune minus RST (mean) > {t} (95% band, paired per image)",
              s4_wrn_reinit_better, 0.0),
    ClaimSpec("S4.7", "sec4", "RSTs drawn from randomly initialized networks achieve a comparable natural accuracy with "
              "the RTTs drawn from naturally/adversarially trained networks", "RST minus each RTT variant, mean over "
              "points, >= {t} (95% band, paired per image)",
              lambda f, t: comparable(f, t, "fig3", "RST", ["Natural_RTT", "Adv_RTT"]), C),
    ClaimSpec("S4.8", "sec4", "adversarial RTTs generally achieve the best natural accuracy", "adversarial RTT minus each "
              "other variant >= {t}, clearly (95% band, paired per image) at more than half of the points",
              s4_adv_rtt_best, 0.0),
    ClaimSpec("S5.1", "sec5", "the adversarial transferability between RSTs with different weight remaining ratios is "
              "consistently poor among all the considered networks and datasets", "every panel of Fig. 4: mean "
              "off-diagonal minus mean diagonal >= {t} points (95% band, paired per image)", poor_transfer("fig4"), 10.0),
    ClaimSpec("S5.2", "sec5", "the adversarial transferability from the naturally [...] trained dense models to RSTs is "
              "still poor", "Table 2: RST accuracy under attacks from the naturally trained dense net minus white-box, "
              "mean over ratios, >= {t} (95% band, paired per image)", table2_transfer(0), 10.0),
    ClaimSpec("S5.3", "sec5", "the adversarial transferability from the [...] adversarially trained dense models to RSTs "
              "is still poor", "the same for the adversarially trained dense net (>= {t})", table2_transfer(1), 10.0),
    ClaimSpec("S5.4", "sec5", "the robust accuracy against the attacks from RSTs of the same remaining ratio still "
              "surpasses the robust accuracy against white-box attacks [...] indicating RSTs of the same weight "
              "remaining ratio as an effective proxy", "the same for the same-ratio RST of another seed (>= {t})",
              table2_transfer(2), 10.0),
    ClaimSpec("S2.1", "sec5", "the average robust accuracy under each attack RST (i.e., the RST with a specific weight "
              "remaining ratio for generating adversarial examples) is similar", "every panel of Fig. 4: each attack "
              "source's mean accuracy over the targets minus the mean over every source >= {t} (an adversary gains "
              "at most 3 points by choosing the source; 95% band, paired per image)", sources_alike("fig4"), C),
    ClaimSpec("S6.1", "sec6", "R2S consistently and aggressively improves the robust accuracy compared with the "
              "adversarially trained dense baselines", "every candidate set, network and dataset: R2S (paper "
              "protocol) minus dense >= {t} points (95% band, paired per image)", r2s_gain(), 5.0),
    ClaimSpec("S6.2", "sec6", "up to a 13.83%/15.59% and 13.62%/13.70% robust accuracy improvement on top of "
              "ResNet18/WideResNet32 on CIFAR-10 and CIFAR-100", "the largest gain of each (network, dataset) >= {t} "
              "points (95% band, paired per image); the paper's figures printed beside", s6_up_to, 5.0),
    ClaimSpec("S6.3", "sec6", "R2S when using a candidate RST set with a wider range can generally achieve a better "
              "robust accuracy", "the set spanning the widest range of ratios minus every other set (paper protocol) "
              ">= {t} (95% band, paired per image)", s6_wider_more_robust, 0.0),
    ClaimSpec("S6.4", "sec6", "RSTs with weight remaining ratios that are too low or too high will influence the "
              "average natural accuracy", "both halves: the recommended set (the paper's last row: without the lowest "
              "ratios, nor higher ones) minus every set reaching below its range, and minus every set reaching above "
              "it, natural accuracy >= {t} (95% band, paired per image)", s6_extremes_cost_natural, 0.0),
    ClaimSpec("S6.5", "sec6", "it is suggested that the candidate RST sets are constructed within a specific range, "
              "e.g., the last row in Tab. 3", "the recommended set (the last row) minus every other "
              "set, PGD-20 (paper protocol), >= {t}: as robust as the others (comparable) while S6.4 asks for its "
              "natural accuracy (95% band, paired per image)", s6_recommended_set_robust, C),
    ClaimSpec("S7.1", "sec7", "the adversarial transferability between adversarial RTTs with different weight remaining "
              "ratios is also poor", "every panel of Fig. 5: mean off-diagonal minus mean diagonal >= {t} (95% band, "
              "paired per image)", poor_transfer("fig5"), 10.0),
    ClaimSpec("S7.2", "sec8", "R2S [...] can be also applied on top of adversarial RTTs [...] which can potentially "
              "achieve better performance", "judged where Tables 3 and 4 meet (the Sec. 8 page): at every row, R2S over "
              "adversarial RTTs minus R2S over RSTs (the k-th candidate set of each, paper protocol) > {t} (95% band, "
              "paired per image)", s7_rtt_r2s_better, 0.0),
    ClaimSpec("S8.1", "sec8", "it can also aggressively improve the robust accuracy, e.g., a 14.95% and 15.09% robust "
              "accuracy improvement over the adversarially trained dense networks", "every candidate set: R2S over "
              "adversarial RTTs (paper protocol) minus dense >= {t} (95% band, paired per image)", r2s_gain(), 5.0),
    ClaimSpec("S8.2", "sec8", "with a comparable natural accuracy", "the set behind the quoted gains (the widest, "
              "the paper's second row: 65.14 - 50.19 = 14.95, 42.03 - 26.94 = 15.09): its natural accuracy minus the "
              "dense network's >= {t} (95% band, paired per image)", s8_quoted_set_comparable_natural, C),
    ClaimSpec("S9.1", "sec9", "RSTs consistently outperform the transferred adversarial RTTs drawn from the "
              "adversarially trained network on another task (second-task panel)", "at every ratio, RST PGD-20 "
              "accuracy minus the transferred adversarial RTT's > {t} (95% band, paired per image)", s9_consistent(0), 0.0),
    ClaimSpec("S9.2", "sec9", "RSTs consistently outperform the transferred adversarial RTTs drawn from the "
              "adversarially trained network on another task (first-task panel)", "the same on the first task (> {t})",
              s9_consistent(1), 0.0),
    ClaimSpec("S9.3", "sec9", "RSTs achieve up to a 2.75% higher robust accuracy than transferred adversarial RTTs on "
              "SVHN under the same weight remaining ratio", "second task: the largest RST advantage > {t} (95% band, "
              "paired per image); the paper's figure printed beside", s9_up_to, 0.0),
)


def judge(section: str, facts: Facts) -> list[Claim]:
    """Every registered claim of `section`, judged on `facts`."""
    out = []
    for spec in REGISTRY:
        if spec.section != section:
            continue
        j = spec.judge(facts, spec.threshold)  # a rule that raises is a bug: it fails the page, never a verdict
        if j.verdict not in VERDICTS:
            raise ValueError(f"claim {spec.id}: its rule returned {j.verdict!r}, not one of {VERDICTS}")
        decide = deciding(j.tested, j.test_images or facts.test_images) if j.verdict == INCONCLUSIVE else ""
        out.append(Claim(spec.id, section, spec.quote, spec.rule_text, j.measured, j.verdict, decide))
    return out


def claims_table(claims: list[Claim], paper: dict | None = None) -> pd.DataFrame:
    """The verdict comes first after the id, so that it stays on screen on a phone; beside it, where
    `paper` is given (`rstlib.paper.claims.calibration.calibrate()`), the same rule's verdict on the paper's own
    numbers."""
    def on_paper(c: Claim) -> str:
        v = paper[c.id].verdict if c.id in paper else None
        return MARK[v] if v else "– no numbers"
    return pd.DataFrame([{"id": c.id, "verdict": MARK[c.verdict],
                          **({"on the paper's numbers": on_paper(c)} if paper is not None else {}),
                          "claim (the supplement's words)": c.quote, "rule": c.rule, "measured": c.measured,
                          "what would decide it": c.decide or None}
                         for c in claims]).set_index("id")
