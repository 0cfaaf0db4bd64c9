"""The claims registry: every textual claim of the supplement's Secs. 3-9, quoted, with the rule
that judges it and the numbers it is judged on.

Each claim is judged from a section's tables (`SectionResult`) with three outcomes:

- **holds**: the measured gap clears the claim's threshold by more than its noise band;
- **does not hold**: it misses the threshold by more than the band;
- **inconclusive**: the threshold lies inside the band.

The band: where two models meet the same test images (Secs. 3, 5-9 and the intro's headline), the
95% band of `rstlib.noise` (paired per image, seeds and images crossed, t quantile at the
Satterthwaite degrees of freedom; a best or largest of several candidates judged over every
candidate); elsewhere (Sec. 4's natural accuracies, which the runs record without per-image
results) +- 2 binomial standard errors, sqrt(p (1 - p) / n), added in quadrature for a difference.
An inconclusive claim carries what would decide it at the observed gap and variance.
A claim a profile cannot test (e.g. a comparison of two networks when the profile has one) is
listed as **not testable** with the reason, never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from rstlib.judges import (Facts, Judged, comparable, s3_not_overfit, s3_robust_to_all, s3_wrn_vs_dense_resnet,
                           s3_wrn_vs_dense_wrn, s4_adv_rtt_best, s4_inherit_mostly_best, s4_rank_matches_robust,
                           s4_resnet_rst_vs_reinit, s4_skc_best, s4_wrn_reinit_better)
from rstlib.judges_transfer import (poor_transfer, r2s_gain, s6_extremes_cost_natural, s6_up_to, s6_wider_more_robust,
                                    s8_comparable_natural, s9_consistent, s9_up_to, table2_transfer)
from rstlib.verdicts import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE, deciding

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

@dataclass(frozen=True)
class ClaimSpec:
    id: str
    section: str
    quote: str
    rule: str
    judge: Callable[[Facts], Judged]


REGISTRY: tuple[ClaimSpec, ...] = (
    ClaimSpec("S3.1", "sec3", "the RSTs searched by PGD-7 training are also robust against other attacks",
              "under every attack of Table 1, the best RST is within 3 points of the adversarially trained dense "
              "network (gap >= -3 over every RST, 95% band paired per image)", s3_robust_to_all),
    ClaimSpec("S3.2", "sec3", "under the Auto-Attack with n=8/12, the RST with a remaining ratio of 5% in WideResNet32 "
              "achieves (1) only a 0.76%/0.21% drop in robust accuracy [...] as compared to the adversarially trained "
              "dense WideResNet32", "AutoAttack: the second network's RST at 5% minus its dense network >= -3 "
              "(+- 2 SE) at both budgets", s3_wrn_vs_dense_wrn),
    ClaimSpec("S3.3", "sec3", "(2) a 2.51%/3.63% higher robust accuracy and a 80% reduction in the model size, compared "
              "with the adversarially trained dense ResNet18", "AutoAttack: the second network's RST at 5% minus the "
              "first network's dense model > 0 (+- 2 SE) at both budgets", s3_wrn_vs_dense_resnet),
    ClaimSpec("S3.4", "sec3", "the identified RSTs are generally robust without overfitting to one specific type of "
              "attacks", "the best RST's gap to the dense network under each other attack is no more than 3 points "
              "worse than its gap under PGD-20, the attack it was searched with", s3_not_overfit),
    ClaimSpec("S4.1", "sec4", "RSTs under Signed Kaiming Constant initialization consistently achieve the best natural "
              "accuracy", "at every (panel, ratio) point Signed Kaiming Constant is at least as accurate as the best "
              "other initialisation (+- 2 SE)", s4_skc_best),
    ClaimSpec("S4.2", "sec4", "the overall ranking between different initialization methods is generally consistent "
              "with the robust accuracy ranking", "Kendall tau between the four initialisations' mean natural and mean "
              "PGD-20 accuracy >= 1/3 (at most one discordant pair of six); <= 0 does not hold", s4_rank_matches_robust),
    ClaimSpec("S4.3", "sec4", "the vanilla RSTs can generally achieve a comparable natural accuracy with that of the "
              "fine-tuned RSTs", "RST minus each fine-tuned variant, mean over points, >= -3 (+- 2 SE)",
              lambda f: comparable(f, "fig2", "RST", ["FT_RST_Inherit", "FT_RST_Reinit"])),
    ClaimSpec("S4.4", "sec4", "under low weight remaining ratios (1%~20%), fine-tuned RSTs with inherited weights mostly "
              "achieve the best natural accuracy among the three RST variants", "clearly best (+- 2 SE) at more than "
              "half of the points at <= 20%", s4_inherit_mostly_best),
    ClaimSpec("S4.5", "sec4", "the vanilla RSTs on ResNet18 without any training can achieve a comparable natural "
              "accuracy compared with fine-tuned RSTs with re-initialization", "first network: |RST minus "
              "re-initialised fine-tune| (mean) + 2 SE <= 3 points", s4_resnet_rst_vs_reinit),
    ClaimSpec("S4.6", "sec4", "while the latter ones on WideResNet32 can achieve a slightly better natural accuracy",
              "second network: re-initialised fine-tune minus RST (mean) > 0 (+- 2 SE)", s4_wrn_reinit_better),
    ClaimSpec("S4.7", "sec4", "RSTs drawn from randomly initialized networks achieve a comparable natural accuracy with "
              "the RTTs drawn from naturally/adversarially trained networks", "RST minus each RTT variant, mean over "
              "points, >= -3 (+- 2 SE)", lambda f: comparable(f, "fig3", "RST", ["Natural_RTT", "Adv_RTT"])),
    ClaimSpec("S4.8", "sec4", "adversarial RTTs generally achieve the best natural accuracy", "clearly best (+- 2 SE) "
              "at more than half of the points", s4_adv_rtt_best),
    ClaimSpec("S5.1", "sec5", "the adversarial transferability between RSTs with different weight remaining ratios is "
              "consistently poor among all the considered networks and datasets", "every panel of Fig. 4: mean "
              "off-diagonal minus mean diagonal >= 10 points (95% band, paired per image)", poor_transfer("fig4")),
    ClaimSpec("S5.2", "sec5", "the adversarial transferability from the naturally [...] trained dense models to RSTs is "
              "still poor", "Table 2: RST accuracy under attacks from the naturally trained dense net minus white-box, "
              "mean over ratios, >= 10 (95% band, paired per image)", table2_transfer(0)),
    ClaimSpec("S5.3", "sec5", "the adversarial transferability from the [...] adversarially trained dense models to RSTs "
              "is still poor", "the same for the adversarially trained dense net", table2_transfer(1)),
    ClaimSpec("S5.4", "sec5", "the robust accuracy against the attacks from RSTs of the same remaining ratio still "
              "transfer poorly, indicating that the adversaries cannot train or search another subnetwork of the same "
              "remaining ratio as an effective proxy", "the same for the same-ratio RST of another seed", table2_transfer(2)),
    ClaimSpec("S6.1", "sec6", "R2S consistently and aggressively improves the robust accuracy compared with the "
              "adversarially trained dense baselines", "every candidate set, network and dataset: R2S (paper "
              "protocol) minus dense >= 5 points (95% band, paired per image)", r2s_gain(5.0)),
    ClaimSpec("S6.2", "sec6", "up to a 13.83%/15.59% and 13.62%/13.70% robust accuracy improvement on top of "
              "ResNet18/WideResNet32 on CIFAR-10 and CIFAR-100", "the largest gain of each (network, dataset) >= 5 "
              "points (95% band, paired per image); the paper's figures printed beside", s6_up_to),
    ClaimSpec("S6.3", "sec6", "R2S when using a candidate RST set with a wider range can generally achieve a better "
              "robust accuracy", "the set spanning the widest range of ratios is at least as robust (paper "
              "protocol) as every other set (95% band, paired per image)", s6_wider_more_robust),
    ClaimSpec("S6.4", "sec6", "RSTs with weight remaining ratios that are too low or too high will influence the "
              "average natural accuracy", "the set without the lowest ratios (the paper's recommended last row) has "
              "the best natural accuracy (95% band, paired per image)", s6_extremes_cost_natural),
    ClaimSpec("S7.1", "sec7", "the adversarial transferability between adversarial RTTs with different weight remaining "
              "ratios is also poor", "every panel of Fig. 5: mean off-diagonal minus mean diagonal >= 10 (95% band, paired per image)",
              poor_transfer("fig5")),
    ClaimSpec("S8.1", "sec8", "it can also aggressively improve the robust accuracy, e.g., a 14.95% and 15.09% robust "
              "accuracy improvement over the adversarially trained dense networks", "every candidate set: R2S over "
              "adversarial RTTs (paper protocol) minus dense >= 5 (95% band, paired per image)", r2s_gain(5.0)),
    ClaimSpec("S8.2", "sec8", "with a comparable natural accuracy", "the best set's natural accuracy minus the dense "
              "network's >= -3 (95% band, paired per image)", s8_comparable_natural),
    ClaimSpec("S9.1", "sec9", "RSTs consistently outperform the transferred adversarial RTTs drawn from the "
              "adversarially trained network on another task (second-task panel)", "at every ratio, RST PGD-20 "
              "accuracy > the transferred adversarial RTT's (95% band, paired per image)", s9_consistent(0)),
    ClaimSpec("S9.2", "sec9", "RSTs consistently outperform the transferred adversarial RTTs drawn from the "
              "adversarially trained network on another task (first-task panel)", "the same on the first task",
              s9_consistent(1)),
    ClaimSpec("S9.3", "sec9", "RSTs achieve up to a 2.75% higher robust accuracy than transferred adversarial RTTs on "
              "SVHN under the same weight remaining ratio", "second task: the largest RST advantage > 0 (95% band, paired per image); "
              "the paper's figure printed beside", s9_up_to),
)


def judge(section: str, facts: Facts) -> list[Claim]:
    """Every registered claim of `section`, judged on `facts`."""
    out = []
    for spec in REGISTRY:
        if spec.section != section:
            continue
        try:
            j = spec.judge(facts)
        except (KeyError, IndexError, ValueError, TypeError) as e:  # a table without what the claim needs
            j = Judged(f"not measured at these knobs ({type(e).__name__}: {e})", NOT_TESTABLE)
        if j.verdict != NOT_TESTABLE and ("n/a" in j.measured or "nan" in j.measured):
            j = Judged(j.measured, INCONCLUSIVE)  # a dry run, or a number that is missing
        decide = deciding(j.tested) if j.verdict == INCONCLUSIVE else ""
        out.append(Claim(spec.id, section, spec.quote, spec.rule, j.measured, j.verdict, decide))
    return out


def claims_table(claims: list[Claim]) -> pd.DataFrame:
    """The verdict comes first after the id, so that it stays on screen on a phone."""
    return pd.DataFrame([{"id": c.id, "verdict": MARK[c.verdict], "claim (the supplement's words)": c.quote,
                          "rule": c.rule, "measured": c.measured, "what would decide it": c.decide or None}
                         for c in claims]).set_index("id")
