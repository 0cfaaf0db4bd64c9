"""The evaluation attacks, one registry entry each: what identifies an attack's budget (and so its
cache key), the budget the supplement gives it, its cost in forward passes per attacked image, and
how it is built. Adding an attack is one `Attack(...)` entry in ATTACKS (and its test in the GPU
check, `benchmarks/gpu_check.py`, which every registered attack must appear in).

`AttackSpec` is one attack with its budget (eps and step in 1/255 pixel units); `AttackSpec.of`
gives the supplement's budget for a name at a profile's evaluation settings, the one place where
e.g. CW-Inf's 100 iterations of step eps/4 are set (`rst eval --attack cw-inf` and the book's
Table 1 run the same attack).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from rstlib.config.params import check_number
from rstlib.errors import ConfigError

if TYPE_CHECKING:  # the attacks themselves load when one is built (`rst --help` needs no torch)
    import torch

    from rstlib.attacks.adapters import AttackFn

CW_ITERATIONS = 100  # the supplement's CW-L2 / CW-Inf iterations (Sec. 2)
BANDITS_QUERIES = 10_000  # the supplement's Bandits budget per image (Sec. 2)
# the largest budgets an evaluation accepts (a typo such as --steps 1000000000 would run for days):
# 100x the supplement's largest (CW's 100 iterations, Bandits' 10,000 queries); eps and step at most
# the whole pixel range
MAX_STEPS = 10_000
MAX_QUERIES = 1_000_000
MAX_PIXEL_UNITS = 255.0
BUDGET_FIELDS = ("eps", "step", "steps", "queries")


@dataclass(frozen=True)
class Attack:
    """One registered evaluation attack.

    budget: the AttackSpec fields that identify it (the others are None in its cache key).
    supplement: its budget at a profile's evaluation settings and an eps (the supplement's).
    forwards: forward (and backward) passes per attacked image, the cost a plan prices.
    build: the attack function, or None for no attack (clean)."""

    name: str
    help: str
    budget: tuple[str, ...]
    supplement: Callable[[object, float], dict]
    forwards: Callable[["AttackSpec"], float]
    build: Callable[["AttackSpec", int, torch.device, int], AttackFn | None]
    linf: bool = True  # an L-inf attack bounded by eps


def _pgd_budget(settings, eps: float) -> dict:
    return {"eps": eps, "step": settings.step, "steps": settings.steps}


def _pgd(loss: str, early_stop: bool = True) -> Callable:
    def build(s, num_classes, device, seed):
        from rstlib.attacks.pgd import PGD

        return PGD(s.eps / 255, s.step / 255, s.steps, random_start=True, early_stop=early_stop, loss=loss)

    return build


def _cw_l2(s, num_classes, device, seed):
    from rstlib.attacks.adapters import cw_l2

    return cw_l2(num_classes, CW_ITERATIONS)


def _cw_inf(s, num_classes, device, seed):
    from rstlib.attacks.adapters import cw_inf

    return cw_inf(s.eps / 255, s.step / 255, s.steps)


def _autoattack(attacks: list[str] | None = None) -> Callable:
    def build(s, num_classes, device, seed):
        from rstlib.attacks.adapters import autoattack_fn

        return autoattack_fn(s.eps / 255, device, seed, attacks=attacks, num_classes=num_classes)

    return build


def _bandits(s, num_classes, device, seed):
    from rstlib.attacks.bandits import Bandits

    return Bandits(s.eps / 255, max_queries=s.queries)


REGISTRY = (
    Attack(
        "clean",
        "no attack (natural accuracy)",
        (),
        lambda settings, eps: {},
        lambda s: 1,
        lambda s, num_classes, device, seed: None,
        linf=False,
    ),
    Attack(
        "pgd20",
        "the paper's PGD-20: random start, per-example early stop, highest loss kept, cross-entropy",
        ("eps", "step", "steps"),
        _pgd_budget,
        lambda s: 2 * s.steps + 1,
        _pgd("ce"),
    ),
    Attack(
        "pgd20-last",
        "PGD-20 with every step taken on every image and the last iterate kept (no early stop): for transfer, an "
        "example is not frozen at the first iterate that fools its source (ours, beside the authors' early stop)",
        ("eps", "step", "steps"),
        _pgd_budget,
        lambda s: 2 * s.steps + 1,
        _pgd("ce", early_stop=False),
    ),
    Attack(
        "pgd20-margin",
        "PGD-20 on the Carlini-Wagner margin loss (ours: part of the strong figure)",
        ("eps", "step", "steps"),
        _pgd_budget,
        lambda s: 2 * s.steps + 1,
        _pgd("cw"),
    ),
    Attack(
        "cw-l2",
        f"AdverTorch Carlini-Wagner L2, {CW_ITERATIONS} iterations (Sec. 2; not eps-bounded)",
        (),
        lambda settings, eps: {},
        lambda s: 3 * CW_ITERATIONS,
        _cw_l2,
        linf=False,
    ),
    Attack(
        "cw-inf",
        f"AdverTorch L-inf PGD on the CW margin loss, {CW_ITERATIONS} iterations of step eps/4 (Sec. 2)",
        ("eps", "step", "steps"),
        lambda settings, eps: {"eps": eps, "step": eps / 4, "steps": CW_ITERATIONS},
        lambda s: 2 * s.steps + 1,
        _cw_inf,
    ),
    # AutoAttack standard: APGD-CE, APGD-T, FAB-T, Square (5,000 queries), each on the images still
    # robust: about 4,400 passes on a robust image, half of that on an average subset
    Attack(
        "autoattack",
        "the official AutoAttack, standard version (APGD-CE, APGD-T, FAB-T, Square)",
        ("eps",),
        lambda settings, eps: {"eps": eps},
        lambda s: 2200,
        _autoattack(),
    ),
    Attack(
        "apgd-t",
        "AutoAttack's targeted APGD alone (9 target classes; part of the strong figure)",
        ("eps",),
        lambda settings, eps: {"eps": eps},
        lambda s: 2700,
        _autoattack(["apgd-t"]),
    ),
    Attack(
        "apgd-ce",
        "AutoAttack's APGD on the cross-entropy alone (100 iterations, 1 restart)",
        ("eps",),
        lambda settings, eps: {"eps": eps},
        lambda s: 300,
        _autoattack(["apgd-ce"]),
    ),
    Attack(
        "bandits",
        f"Bandits-TD L-inf, {BANDITS_QUERIES:,} queries per image (Sec. 2)",
        ("eps", "step", "steps", "queries"),
        lambda settings, eps: {"eps": eps, "queries": BANDITS_QUERIES},
        lambda s: 0.75 * s.queries,
        _bandits,
    ),  # 1.5 passes per query, half the budget spent on average
)
ATTACK_REGISTRY = {a.name: a for a in REGISTRY}
ATTACKS = tuple(ATTACK_REGISTRY)
LINF_ATTACKS = tuple(a.name for a in REGISTRY if a.linf)


def attack_help() -> str:
    """Every registered attack with its one-line description (for `rst eval --help`)."""
    return "; ".join(f"{a.name}: {a.help}" for a in REGISTRY)


@dataclass(frozen=True)
class AttackSpec:
    """An evaluation attack and its budget (eps and step in 1/255 pixel units); see ATTACK_REGISTRY."""

    name: str
    eps: float = 8.0
    step: float = 2.0
    steps: int = 20
    queries: int = BANDITS_QUERIES

    def __post_init__(self):
        if self.name not in ATTACK_REGISTRY:
            raise ConfigError(f"unknown attack {self.name!r}; choose one of {ATTACKS}")
        check_number(self.eps, "eps (1/255 units)", minimum=0, maximum=MAX_PIXEL_UNITS)
        check_number(self.step, "step (1/255 units)", minimum=0, maximum=MAX_PIXEL_UNITS)
        check_number(self.steps, "steps", minimum=1, maximum=MAX_STEPS, whole=True)
        check_number(self.queries, "queries", minimum=2, maximum=MAX_QUERIES, whole=True)

    @property
    def entry(self) -> Attack:
        return ATTACK_REGISTRY[self.name]

    @classmethod
    def of(cls, name: str, settings, eps: float | None = None, **overrides) -> "AttackSpec":
        """`name` with the supplement's budget at a profile's evaluation `settings`
        (`profile.evaluation`) and `eps` (default: the profile's); `overrides` (step, steps,
        queries) replace single values, None meaning the supplement's."""
        if name not in ATTACK_REGISTRY:
            raise ConfigError(f"unknown attack {name!r}; choose one of {ATTACKS}")
        budget = ATTACK_REGISTRY[name].supplement(settings, settings.eps if eps is None else eps)
        budget.update({k: v for k, v in overrides.items() if v is not None})
        return cls(name, **budget)

    @classmethod
    def pgd20(cls, settings, loss: str = "ce") -> "AttackSpec":
        """A profile's PGD-20 evaluation (`settings` = `profile.evaluation`), on the cross-entropy
        (the paper's) or the CW margin loss (loss='margin')."""
        return cls.of("pgd20" if loss == "ce" else "pgd20-margin", settings)

    def key(self) -> dict:
        """The attack's part of an evaluation's cache key: the fields of its budget, None for the rest."""
        d = dataclasses.asdict(self)
        d.update({f: None for f in BUDGET_FIELDS if f not in self.entry.budget})
        return d

    def label(self) -> str:
        return f"{self.name}@{self.eps:g}/255" if "eps" in self.entry.budget else self.name

    def forwards(self) -> float:
        """Forward passes per attacked image (the cost a plan prices)."""
        return float(self.entry.forwards(self))

    def build(self, num_classes: int, device: torch.device, seed: int) -> AttackFn | None:
        return self.entry.build(self, num_classes, device, seed)
