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
        for name in ("epochs", "batch_size"):
            check_number(getattr(self, name), f"training {name}", minimum=1, whole=True)
        check_number(self.steps, "training attack steps", minimum=0, whole=True)
        check_number(self.lr, "learning rate lr", above=0)
        check_number(self.momentum, "momentum", minimum=0, maximum=1)
        check_number(self.weight_decay, "weight_decay", minimum=0)
        check_number(self.eps, "training eps (1/255 units)", minimum=0)
        check_number(self.step, "training attack step (1/255 units)", minimum=0)


@dataclass(frozen=True)
class EvalSettings:
    """PGD-20 evaluation budget (1/255 units), and the subsets of the strong figure: APGD-T on the
    first `apgd_t_images` attacked images of a model, AutoAttack rand on the first
    `aa_rand_images` of an R2S set (0: left out)."""

    eps: float
    step: float
    steps: int
    batch_size: int
    apgd_t_images: int = 0
    aa_rand_images: int = 0
    # transfer matrices (Secs. 5 and 7, the intro's C2) also on the last PGD-20 iterate, beside the
    # authors' early-stopped examples (`pgd20-last`)
    transfer_last_iterate: bool = False

    def __post_init__(self):
        check_number(self.eps, "evaluation eps (1/255 units)", minimum=0)
        check_number(self.step, "evaluation step (1/255 units)", minimum=0)
        check_number(self.steps, "evaluation steps", minimum=1, whole=True)
        check_number(self.batch_size, "evaluation batch_size", minimum=1, whole=True)
        check_number(self.apgd_t_images, "evaluation apgd_t_images", minimum=0, whole=True)
        check_number(self.aa_rand_images, "evaluation aa_rand_images", minimum=0, whole=True)
        if not isinstance(self.transfer_last_iterate, bool):
            raise ConfigError(f"evaluation transfer_last_iterate must be true or false, got {self.transfer_last_iterate!r}")


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
