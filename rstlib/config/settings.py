"""The settings of one training variant (its optimisation recipe), of the evaluation, of the fast
path, and the precision of each training kind: typed, frozen, checked on construction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rstlib.config.params import check_number
from rstlib.errors import ConfigError

KINDS = ("search", "dense", "finetune", "rtt")


PRECISIONS = ("fp32", "bf16")


ATTACKS = ("none", "pgd", "fgsm-rs")


SCHEDULES = ("piecewise", "cosine")


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation recipe of one training variant (Sec. 2 of the supplement)."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float
    schedule: str
    attack: str
    eps: float  # 1/255 pixel units
    step: float  # 1/255 pixel units
    steps: int

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.schedule!r}; choose one of {SCHEDULES}")
        if self.attack not in ATTACKS:
            raise ConfigError(f"unknown training attack {self.attack!r}; choose one of {ATTACKS}")
        # stated maxima: beyond them a value is a typo that would run for years or overflow
        check_number(self.epochs, "training epochs", minimum=1, maximum=10_000, whole=True)
        check_number(self.batch_size, "training batch_size", minimum=1, maximum=1_000_000, whole=True)
        check_number(self.steps, "training attack steps", minimum=0, maximum=10_000, whole=True)
        check_number(self.lr, "learning rate lr", above=0, maximum=1_000)
        check_number(self.momentum, "momentum", minimum=0, maximum=1)
        check_number(self.weight_decay, "weight_decay", minimum=0, maximum=1)
        check_number(self.eps, "training eps (1/255 units)", minimum=0, maximum=255)
        check_number(self.step, "training attack step (1/255 units)", minimum=0, maximum=255)


STRONG_ATTACKS = ("autoattack", "apgd-t")


@dataclass(frozen=True)
class EvalSettings:
    """PGD-20 evaluation budget (1/255 units), and the strong figure (ours, beside the paper's PGD-20):
    per example the worst of PGD-20 on the cross-entropy, PGD-20 on the CW margin loss and
    `strong_attack` on the first `strong_images` attacked images (`strong_text` says it in words):
    - `autoattack`: the official AutoAttack standard; the figure is over those images only, so that
      every image it counts as robust survives AutoAttack too; with `strong_transfer` an R2S set's
      strong figure also meets each member's AutoAttack examples transferred to every member;
    - `apgd-t`: the committed laptop book's design (until the staged regeneration replaces it):
      APGD-T on the first images, the two PGD-20 attacks alone on the rest.
    AutoAttack rand on the first `aa_rand_images` of an R2S set (0: left out)."""

    eps: float
    step: float
    steps: int
    batch_size: int
    strong_images: int = 0
    aa_rand_images: int = 0
    strong_attack: str = "apgd-t"
    strong_transfer: bool = False
    # transfer matrices (Secs. 5 and 7, the intro's C2) also on the last PGD-20 iterate, beside the
    # authors' early-stopped examples (`pgd20-last`)
    transfer_last_iterate: bool = False

    def __post_init__(self):
        check_number(self.eps, "evaluation eps (1/255 units)", minimum=0)
        check_number(self.step, "evaluation step (1/255 units)", minimum=0)
        check_number(self.steps, "evaluation steps", minimum=1, whole=True)
        check_number(self.batch_size, "evaluation batch_size", minimum=1, whole=True)
        check_number(self.strong_images, "evaluation strong_images", minimum=0, whole=True)
        if self.strong_attack not in STRONG_ATTACKS:
            raise ConfigError(f"evaluation strong_attack must be one of {', '.join(STRONG_ATTACKS)}, got {self.strong_attack!r}")
        if self.strong_transfer and self.strong_attack != "autoattack":
            raise ConfigError("evaluation strong_transfer needs strong_attack: autoattack")
        check_number(self.aa_rand_images, "evaluation aa_rand_images", minimum=0, whole=True)
        if not isinstance(self.strong_transfer, bool):
            raise ConfigError(f"evaluation strong_transfer must be true or false, got {self.strong_transfer!r}")
        if not isinstance(self.transfer_last_iterate, bool):
            raise ConfigError(f"evaluation transfer_last_iterate must be true or false, got {self.transfer_last_iterate!r}")

    def strong_text(self) -> str:
        """The strong figure's design in words (the pages and Sec. 2 say it)."""
        if self.strong_attack == "apgd-t":
            return (
                "per example, the worst of PGD-20 on the cross-entropy, PGD-20 on the CW margin loss and "
                f"APGD-T on the first {self.strong_images:,} attacked images (the two PGD-20 attacks alone on the rest)"
            )
        text = (
            "per example, the worst of PGD-20 on the cross-entropy, PGD-20 on the CW margin loss and the official "
            f"AutoAttack standard, on the first {self.strong_images:,} attacked images (the figure is over those images)"
        )
        return text + ("; an R2S set's also meets AutoAttack examples crafted on each member" if self.strong_transfer else "")


@dataclass(frozen=True)
class FastPath:
    """Speed switches that do not change the method's arithmetic (and so not a run's identity):
    memory layout and graph compilation. Precision is part of the experiment: see `Precision`."""

    channels_last: bool = False
    compile: bool = False


def check_precision(value: Any, where: str = "precision") -> str:
    if value not in PRECISIONS:
        raise ConfigError(f"{where} must be one of {PRECISIONS}, got {value!r}")
    return value


@dataclass(frozen=True)
class Precision:
    """Arithmetic of each training kind, stated by the profile and never detected from the
    machine: it enters each run's identity. Evaluation attacks always run in fp32. Methods that a
    table compares (RST vs dense vs fine-tuned vs RTT) should share one precision."""

    search: str = "fp32"
    dense: str = "fp32"
    finetune: str = "fp32"
    rtt: str = "fp32"

    def __post_init__(self):
        for kind in KINDS:
            check_precision(getattr(self, kind), f"precision.{kind}")

    def of(self, kind: str) -> str:
        return getattr(self, kind)

    def uniform(self) -> str | None:
        """The one precision of every kind, or None when the kinds differ."""
        values = {getattr(self, k) for k in KINDS}
        return values.pop() if len(values) == 1 else None
