"""Each section's knobs at a profile (ratios, eps budgets, candidate sets, ...): one frozen
dataclass per section, parsed and validated when the profile loads, read by attribute."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from rstlib.config.params import parse_candidate_sets, parse_list, parse_ratios
from rstlib.errors import ConfigError
from rstlib.nets import inits


@dataclass(frozen=True)
class Sec3Knobs:
    """Table 1: RST ratios, the two eps budgets (1/255), attacked images (None: all), Bandits queries."""

    ratios: tuple[float, ...]
    eps: tuple[float, ...]
    n_test: int | None
    bandits_queries: int


RECORDED = "recorded"  # Sec. 4's natural accuracies: the runs' own, as recorded when they were trained


@dataclass(frozen=True)
class Sec4Knobs:
    """Figs. 1-3: RST ratios, initialisations, and the images their natural accuracies are scored
    on per image (None: the whole test set; clean evaluations are cheap), or "recorded": each run's
    natural accuracy as its training recorded it (the profile's test subset, no per-image results,
    so the claims get binomial bands)."""

    ratios: tuple[float, ...]
    inits: tuple[str, ...]
    natural_images: int | str | None


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
class Sec9Knobs:
    """Fig. 6: RST ratios, and the images each task's models are attacked on (None: the profile's
    `eval_n_test`; capped at each task's test set)."""

    ratios: tuple[float, ...]
    n_test: int | None = None


@dataclass(frozen=True)
class SectionKnobs:
    """Every section's knobs at a profile, typed and validated when the profile loads."""

    sec3: Sec3Knobs
    sec4: Sec4Knobs
    sec5: Sec5Knobs
    sec6: CandidateSets
    sec7: Ratios
    sec8: CandidateSets
    sec9: Sec9Knobs

    def items(self):
        """(section, knobs as a dict) pairs, for tables."""
        return [(f.name, dataclasses.asdict(getattr(self, f.name))) for f in dataclasses.fields(self)]


def _listed(values: list | None, name: str) -> list:
    if values is None:
        raise ConfigError(f"{name}: a list is required (none given)")
    return values


KNOBS = {
    "sec3": ("ratios", "eps", "n_test", "bandits_queries"),
    "sec4": ("ratios", "inits", "natural_images"),
    "sec5": ("ratios", "table2_ratios"),
    "sec6": ("candidate_sets",),
    "sec7": ("ratios",),
    "sec8": ("candidate_sets",),
    "sec9": ("ratios", "n_test"),
}


def section_knobs(profile: str, spec: Any, path) -> SectionKnobs:
    spec = spec or {}
    unknown = [f"{s}" for s in spec if s not in KNOBS]
    unknown += [f"{s}.{k}" for s, knobs in spec.items() if s in KNOBS for k in (knobs or {}) if k not in KNOBS[s]]
    if unknown:  # a typo (ratioz) is named, never read as a missing knob or ignored
        raise ConfigError(f"profile {profile!r} in {path}: unknown key(s) sections.{', sections.'.join(unknown)}")

    def get(section: str, name: str):
        if name not in (spec.get(section) or {}):
            raise ConfigError(f"profile {profile!r} in {path} sets no sections.{section}.{name}")
        return spec[section][name]

    def ratios(section, name="ratios"):
        return tuple(parse_ratios(get(section, name), f"sections.{section}.{name}"))

    def sets(section):
        return tuple(tuple(s) for s in parse_candidate_sets(get(section, "candidate_sets"), f"sections.{section}"))

    eps = tuple(_listed(parse_list(get("sec3", "eps"), "sections.sec3.eps", float), "sections.sec3.eps"))
    if any(not math.isfinite(e) or e < 0 for e in eps):
        raise ConfigError(f"profile {profile!r}: sections.sec3.eps must be finite and >= 0, got {list(eps)}")

    def count(section: str, name: str, required: bool = True) -> int | None:
        """A knob that is null or a whole number >= 1 (an optional one defaults to null)."""
        value = get(section, name) if required else (spec.get(section) or {}).get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            extra = ', "recorded"' if (section, name) == ("sec4", "natural_images") else ""
            raise ConfigError(f"profile {profile!r}: sections.{section}.{name} must be null{extra} or a whole number >= 1")
        return value

    n_test, queries = count("sec3", "n_test"), get("sec3", "bandits_queries")
    if not isinstance(queries, int) or queries < 2:
        raise ConfigError(f"profile {profile!r}: sections.sec3.bandits_queries must be a whole number >= 2")
    natural_images = get("sec4", "natural_images")
    if natural_images != RECORDED:
        natural_images = count("sec4", "natural_images")
    inits_ = tuple(_listed(parse_list(get("sec4", "inits"), "sections.sec4.inits"), "sections.sec4.inits"))
    for i in inits_:
        inits.check_init(i)
    return SectionKnobs(
        sec3=Sec3Knobs(ratios("sec3"), eps, n_test, queries),
        sec4=Sec4Knobs(ratios("sec4"), inits_, natural_images),
        sec5=Sec5Knobs(ratios("sec5"), ratios("sec5", "table2_ratios")),
        sec6=CandidateSets(sets("sec6")),
        sec7=Ratios(ratios("sec7")),
        sec8=CandidateSets(sets("sec8")),
        sec9=Sec9Knobs(ratios("sec9"), count("sec9", "n_test", required=False)),
    )
