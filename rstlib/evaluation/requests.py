"""What identifies an evaluation: one tagged request type per kind (an attack on one model, white-box
or transferred; the strong figure; an EOT attack on an R2S set; AutoAttack rand on an R2S set).
Their methods are the only place that derive an evaluation's cache key and its cost; the evaluator,
R2S, the context's plans, the bill of work and the cost projection all call them.

A request names run configs, not run directories: a plan is made before anything is trained. A
cache key needs each model's sha256, which `digest(config)` gives (the run store's recorded one,
so no weights are needed to find a cached evaluation).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Union

from rstlib.attacks.registry import AttackSpec
from rstlib.config.profile import RunConfig

Digest = Callable[[RunConfig], str]  # a run's model sha256
EOT_ATTACKS = (("loss", "ce"), ("logits", "ce"), ("loss", "cw"), ("logits", "cw"))
AA_RAND_FORWARDS = 6000  # AutoAttack rand: APGD-CE + APGD-DLR, 100 iterations x 20 EOT draws (12,000), half on average


def eot_attacks(margin: bool) -> tuple[tuple[str, str], ...]:
    """The EOT attacks an R2S set meets: over the loss and over the logits, on the cross-entropy,
    and with `margin` (the strong figure) on the CW margin too."""
    return EOT_ATTACKS if margin else EOT_ATTACKS[:2]


def eot_name(over: str, loss: str = "ce") -> str:
    return f"r2s-eot-{over}" + ("" if loss == "ce" else "-margin")


def _members_key(members: tuple[tuple[str, RunConfig], ...], digest: Digest) -> list:
    return sorted((c.run_id(), digest(c)) for _, c in members)


@dataclass(frozen=True)
class Attacked:
    """`target` under `attack`, white-box, or (with `source`) on examples crafted against `source`."""

    target: RunConfig
    attack: AttackSpec
    source: RunConfig | None = None
    n_test: int | None = None  # None: the profile's

    @property
    def crafted_on(self) -> RunConfig | None:
        """The source of a transfer (None: white-box, also when `source` is the target itself)."""
        return self.source if self.source is not None and self.source.run_id() != self.target.run_id() else None

    def needs(self) -> tuple[RunConfig, ...]:
        """The runs whose results the key needs (and whose weights computing it needs)."""
        source = self.crafted_on
        return (self.target,) if source is None else (self.target, source)

    def shared(self) -> bool:
        """Cached in the store's `_evals/` (several runs) rather than in the target's folder."""
        return False

    def key(self, digest: Digest, n_test: int | None, seed: int = 0) -> dict:
        source = self.crafted_on
        return {
            "name": self.attack.name,
            "attack": self.attack.key(),
            "dataset": self.target.dataset,
            "n_test": n_test,
            "seed": seed,
            "target": self.target.run_id(),
            "target_model": digest(self.target),
            "source": source.run_id() if source is not None else None,
            "source_model": digest(source) if source is not None else None,
        }

    def attacked_images(self, n: int) -> int:
        """Images attacked when the subset has `n`."""
        return n

    def forwards(self, n: int, crafted: set) -> float:
        """Passes per image; a transfer cell crafts once per (source, attack) and then only scores."""
        source = self.crafted_on
        if source is None:
            return self.attack.forwards()
        key = (source.run_id(), self.attack)
        first = key not in crafted
        crafted.add(key)
        return 1 + (self.attack.forwards() if first else 0)


@dataclass(frozen=True)
class Strong:
    """The strong figure of `target`: PGD-20 on the cross-entropy and on the CW margin loss, and
    `attack` on the first `images` images; an image is robust only if it survives all of them
    (`rstlib.config.settings.EvalSettings` says the two designs)."""

    target: RunConfig
    pgd: AttackSpec
    images: int = 0
    n_test: int | None = None
    attack: str = "apgd-t"

    @property
    def extra(self) -> AttackSpec:
        """The attack beside the two PGD-20s, white-box on the first `images` images."""
        return AttackSpec(self.attack, eps=self.pgd.eps)

    @property
    def margin(self) -> AttackSpec:
        return dataclasses.replace(self.pgd, name="pgd20-margin")

    def needs(self) -> tuple[RunConfig, ...]:
        return (self.target,)

    def shared(self) -> bool:
        return False

    def key(self, digest: Digest, n_test: int | None, seed: int = 0) -> dict:
        return {
            **Attacked(self.target, self.pgd).key(digest, n_test, seed),
            "name": "strong",
            "attacks": [self.pgd.key(), self.margin.key()],
            # the committed laptop book's design keeps its key; the others name their attack
            **(
                {"apgd_images": self.images} if self.attack == "apgd-t" else {"strong_attack": self.attack, "images": self.images}
            ),
        }

    def attacked_images(self, n: int) -> int:
        return n

    def forwards(self, n: int, crafted: set) -> float:
        """The margin PGD-20 on every image and the extra attack on the first `images` of `n` (the
        cross-entropy PGD-20 is its own request)."""
        return self.margin.forwards() + self.extra.forwards() * 0.5 * min(self.images, n) / max(n, 1)


class _OnASet:
    """A request on an R2S candidate set: its target is the first member, it needs every member,
    and its result is cached in the store's shared `_evals/`."""

    members: tuple[tuple[str, RunConfig], ...]

    @property
    def target(self) -> RunConfig:
        return self.members[0][1]

    def needs(self) -> tuple[RunConfig, ...]:
        return tuple(c for _, c in self.members)

    def shared(self) -> bool:
        return True


@dataclass(frozen=True)
class EOT(_OnASet):
    """An adaptive attack on an R2S set: PGD through the expectation over the members of the loss
    or of the logits (`over`), on the cross-entropy or the CW margin (`loss` ce | cw)."""

    members: tuple[tuple[str, RunConfig], ...]
    attack: AttackSpec
    over: str = "loss"
    loss: str = "ce"
    n_test: int | None = None

    def key(self, digest: Digest, n_test: int | None, seed: int = 0) -> dict:
        return {
            "name": eot_name(self.over, self.loss),
            "attack": self.attack.key(),
            "members": _members_key(self.members, digest),
            "n_test": n_test,
            "seed": seed,
        }

    def attacked_images(self, n: int) -> int:
        return n

    def forwards(self, n: int, crafted: set) -> float:
        return self.attack.forwards() * len(self.members)


@dataclass(frozen=True)
class AutoAttackRand(_OnASet):
    """AutoAttack's rand version (EOT over 20 draws) on an R2S set, on the first `images` images."""

    members: tuple[tuple[str, RunConfig], ...]
    eps: float
    images: int
    n_test: int | None = None

    def key(self, digest: Digest, n_test: int | None, seed: int = 0) -> dict:
        return {
            "name": "r2s-autoattack-rand",
            "eps": self.eps,
            "images": self.images,
            "members": _members_key(self.members, digest),
            "n_test": n_test,
            "seed": seed,
        }

    def attacked_images(self, n: int) -> int:
        return min(n, self.images or n)

    def forwards(self, n: int, crafted: set) -> float:
        return AA_RAND_FORWARDS


EvalRequest = Union[Attacked, Strong, EOT, AutoAttackRand]
