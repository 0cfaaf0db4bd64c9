"""Scale ladders (`_config.yml`'s `ladders:`): the base profile at several training-set sizes and widths."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import yaml

from rstlib.config.params import check_number, check_ratio
from rstlib.config.profile import Profile, find_config_file, load_profile
from rstlib.errors import ConfigError


@dataclass(frozen=True)
class LadderPoint:
    """One rung of a scale ladder: the base profile with its training-set size and its width
    multiplier replaced (every other knob, the epochs included, is the base profile's); `seeds`,
    where given, replaces the ladder's seeds at this point (more where a point is cheap)."""

    n_train: int
    width: float
    seeds: tuple[int, ...] | None = None

    def __post_init__(self):
        check_number(self.n_train, "ladder point n_train", minimum=1, whole=True)
        check_number(self.width, "ladder point width", above=0)
        for s in self.seeds or ():
            check_number(s, "ladder point seed", minimum=0, whole=True)
        if self.seeds is not None and (not self.seeds or len(set(self.seeds)) != len(self.seeds)):
            raise ConfigError(f"ladder point {self.label}: seeds must be distinct and not empty")

    @property
    def label(self) -> str:
        return f"{self.n_train:,} images, width x{self.width:g}"


@dataclass(frozen=True)
class Ladder:
    """A scale axis for the headline claims (`_config.yml`'s `ladders:`): every point is the base
    profile with one `LadderPoint`'s overrides, searched at `ratios`, over `seeds`."""

    name: str
    base: Profile
    ratios: tuple[float, ...]
    seeds: tuple[int, ...]
    points: tuple[LadderPoint, ...]
    eval_n_test: int | None = None  # images attacked at every point (None: the base profile's)

    def __post_init__(self):
        if self.eval_n_test is not None:
            check_number(self.eval_n_test, f"ladder {self.name!r} eval_n_test", minimum=1, whole=True)
        if len(self.ratios) < 2:
            raise ConfigError(f"ladder {self.name!r} needs >= 2 ratios (C2 compares RSTs of different ratios)")
        for r in self.ratios:
            check_ratio(r)
        if not self.seeds:
            raise ConfigError(f"ladder {self.name!r} lists no seeds")
        for s in self.seeds:
            check_number(s, f"ladder {self.name!r} seed", minimum=0, whole=True)
        budgets = [(p.n_train, p.width) for p in self.points]
        if len(set(budgets)) != len(budgets) or not budgets:
            raise ConfigError(f"ladder {self.name!r} needs distinct points (training images and width)")

    def seeds_of(self, point: LadderPoint) -> tuple[int, ...]:
        return point.seeds if point.seeds is not None else self.seeds

    def profile(self, point: LadderPoint) -> Profile:
        """The base profile at `point`: its n_train and the width of its one network replaced."""
        arch = next(iter(self.base.archs))
        return dataclasses.replace(
            self.base,
            name=f"{self.base.name}@{point.n_train}x{point.width:g}",
            description=f"{self.base.name} at {point.label}",
            n_train=point.n_train,
            archs={arch: point.width},
            eval_n_test=self.eval_n_test or self.base.eval_n_test,
        )

    def score_updates(self, point: LadderPoint) -> int:
        """Optimizer steps of one RST search at `point` (batches per epoch x epochs)."""
        s = self.base.search
        return -(-point.n_train // s.batch_size) * s.epochs


def ladder_names(path: Path | None = None) -> list[str]:
    """The ladders `_config.yml` defines (its `ladders:` mapping)."""
    doc = yaml.safe_load((path or find_config_file()).read_text()) or {}
    return sorted(doc.get("ladders") or {})


def load_ladder(name: str, path: Path | None = None) -> Ladder:
    """The ladder `name` from `_config.yml`'s `ladders:` mapping, its base profile loaded."""
    path = path or find_config_file()
    doc = yaml.safe_load(path.read_text()) or {}
    ladders = doc.get("ladders") or {}
    if not isinstance(ladders, dict):
        raise ConfigError(f"{path}: 'ladders:' must be a mapping of ladder names")
    if name not in ladders:
        raise ConfigError(f"unknown ladder {name!r}; {path} lists {sorted(ladders) or 'none'}")
    spec = ladders[name]
    try:
        base = load_profile(spec["base"], path)
        points = tuple(
            LadderPoint(
                n_train=p["n_train"], width=float(p["width"]), seeds=tuple(p["seeds"]) if p.get("seeds") is not None else None
            )
            for p in spec["points"]
        )
        return Ladder(
            name=name,
            base=base,
            ratios=tuple(float(r) for r in spec["ratios"]),
            seeds=tuple(spec["seeds"]),
            points=points,
            eval_n_test=spec.get("eval_n_test"),
        )
    except (KeyError, TypeError) as e:
        raise ConfigError(f"ladder {name!r} in {path} is malformed: {type(e).__name__} {e}") from None
