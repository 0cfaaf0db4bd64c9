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

from rstlib.paper.claims import rules_attacks, rules_natural, rules_r2s, rules_transfer
from rstlib.paper.claims.facts import Facts
from rstlib.paper.claims.spec import MARK, VERDICTS, Claim, ClaimSpec, basis, claims_table, threshold_text
from rstlib.paper.claims.verdicts import INCONCLUSIVE, deciding

__all__ = ["MARK", "REGISTRY", "VERDICTS", "Claim", "ClaimSpec", "Facts", "claims_table", "judge", "threshold_text"]

_SECTIONS = ("sec3", "sec4", "sec5", "sec6", "sec7", "sec8", "sec9")

REGISTRY: tuple[ClaimSpec, ...] = tuple(
    sorted(
        rules_attacks.CLAIMS + rules_natural.CLAIMS + rules_transfer.CLAIMS + rules_r2s.CLAIMS,
        key=lambda spec: _SECTIONS.index(spec.section),  # stable: each section's claims in their module's order
    )
)
"""Every claim, section by section; each rules module lists its own claims beside the rules that judge them."""


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
        out.append(Claim(spec.id, section, spec.quote, spec.rule_text, j.measured, j.verdict, decide, basis(j.tested)))
    return out
