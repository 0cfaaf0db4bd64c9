"""Each section's knobs at a profile (ratios, eps budgets, candidate sets, ...): one frozen
dataclass per section, parsed and validated when the profile loads, read by attribute."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from rstlib import inits
from rstlib.errors import ConfigError
from rstlib.params import parse_candidate_sets, parse_list, parse_ratios


@dataclass(frozen=True)
class Sec3Knobs:
    """Table 1: RST ratios, the two eps budgets (1/255), attacked images (None: all), Bandits queries."""
    ratios: tuple[float, ...]
    eps: tuple[float, ...]
    n_test: int | None
    bandits_queries: int


@dataclass(frozen=True)
class Sec4Knobs:
    ratios: tuple[float, ...]
    inits: tuple[str, ...]


@dataclass(frozen=True)
class Sec5Knobs:
    ratios: tuple[float, ...]  # Fig. 4 (and the intro's headline claims)
    table2_ratios: tuple[float, ...]


@dataclass(frozen=True)
class CandidateSets:
    """Tables 3 / 4: the R2S candidate sets (remaining ratios in %)."""
    candidate_sets: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Ratios:
    ratios: tuple[float, ...]


@dataclass(frozen=True)
class SectionKnobs:
    """Every section's knobs at a profile, typed and validated when the profile loads."""
    sec3: Sec3Knobs
    sec4: Sec4Knobs
    sec5: Sec5Knobs
    sec6: CandidateSets
    sec7: Ratios
    sec8: CandidateSets
    sec9: Ratios

    def items(self):
        """(section, knobs as a dict) pairs, for tables."""
        return [(f.name, dataclasses.asdict(getattr(self, f.name))) for f in dataclasses.fields(self)]


def section_knobs(profile: str, spec: Any, path) -> SectionKnobs:
    spec = spec or {}

    def get(section: str, name: str):
        if name not in (spec.get(section) or {}):
            raise ConfigError(f"profile {profile!r} in {path} sets no sections.{section}.{name}")
        return spec[section][name]

    def ratios(section, name="ratios"):
        return tuple(parse_ratios(get(section, name), f"sections.{section}.{name}"))

    def sets(section):
        return tuple(tuple(s) for s in parse_candidate_sets(get(section, "candidate_sets"), f"sections.{section}"))

    eps = tuple(parse_list(get("sec3", "eps"), "sections.sec3.eps", float))
    if any(not math.isfinite(e) or e < 0 for e in eps):
        raise ConfigError(f"profile {profile!r}: sections.sec3.eps must be finite and >= 0, got {list(eps)}")
    n_test, queries = get("sec3", "n_test"), get("sec3", "bandits_queries")
    if n_test is not None and (not isinstance(n_test, int) or n_test < 1):
        raise ConfigError(f"profile {profile!r}: sections.sec3.n_test must be null or a whole number >= 1")
    if not isinstance(queries, int) or queries < 2:
        raise ConfigError(f"profile {profile!r}: sections.sec3.bandits_queries must be a whole number >= 2")
    inits_ = tuple(parse_list(get("sec4", "inits"), "sections.sec4.inits"))
    for i in inits_:
        inits.check_init(i)
    return SectionKnobs(sec3=Sec3Knobs(ratios("sec3"), eps, n_test, queries), sec4=Sec4Knobs(ratios("sec4"), inits_),
                        sec5=Sec5Knobs(ratios("sec5"), ratios("sec5", "table2_ratios")), sec6=CandidateSets(sets("sec6")),
                        sec7=Ratios(ratios("sec7")), sec8=CandidateSets(sets("sec8")), sec9=Ratios(ratios("sec9")))
