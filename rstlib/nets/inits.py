"""Weight initialisations compared in Fig. 1 (all with fan_in and the ReLU gain)."""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn as nn

from rstlib.errors import ConfigError
from rstlib.nets.masking import MaskedLayer

RELU_GAIN = math.sqrt(2.0)


def _fan_in(w: torch.Tensor) -> int:
    return nn.init._calculate_fan_in_and_fan_out(w)[0]


def signed_kaiming_constant(w: torch.Tensor, generator: torch.Generator):
    """w = sign(w0) * gain / sqrt(fan_in), w0 ~ N(0, 1): every weight has the same magnitude."""
    std = RELU_GAIN / math.sqrt(_fan_in(w))
    signs = torch.randn(w.shape, generator=generator).sign()
    w.copy_(signs * std)


def kaiming_normal(w: torch.Tensor, generator: torch.Generator):
    std = RELU_GAIN / math.sqrt(_fan_in(w))
    w.copy_(torch.randn(w.shape, generator=generator) * std)


def kaiming_uniform(w: torch.Tensor, generator: torch.Generator):
    bound = math.sqrt(3.0) * RELU_GAIN / math.sqrt(_fan_in(w))
    w.copy_((torch.rand(w.shape, generator=generator) * 2 - 1) * bound)


def xavier_normal(w: torch.Tensor, generator: torch.Generator):
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(w)
    std = math.sqrt(2.0 / (fan_in + fan_out))
    w.copy_(torch.randn(w.shape, generator=generator) * std)


INITS: dict[str, Callable[[torch.Tensor, torch.Generator], None]] = {
    "signed_kaiming_constant": signed_kaiming_constant,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "xavier_normal": xavier_normal,
}

LABELS = {
    "signed_kaiming_constant": "Signed Kaiming Constant",
    "kaiming_normal": "Kaiming Normal",
    "kaiming_uniform": "Kaiming Uniform",
    "xavier_normal": "Xavier Normal",
}


def check_init(name: str):
    if name not in INITS:
        raise ConfigError(f"unknown init {name!r}; choose one of {sorted(INITS)}")


@torch.no_grad()
def initialise(model: nn.Module, init: str, seed: int, scores_too: bool = True):
    """Initialise every conv/linear weight of `model` with `init` (and the scores of masked
    layers with Kaiming uniform, a = sqrt(5)) from one generator seeded by `seed`, on CPU, so the
    same seed gives the same random network on every device and for every dataset of the same
    input/class shape."""
    check_init(init)
    gen = torch.Generator().manual_seed(seed)
    fn = INITS[init]
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            w = torch.empty(module.weight.shape)
            fn(w, gen)
            module.weight.copy_(w)
            if isinstance(module, MaskedLayer) and scores_too:
                s = torch.empty(module.scores.shape)
                bound = 1.0 / math.sqrt(_fan_in(s))  # kaiming_uniform_(a=sqrt(5)) bound
                s.uniform_(-bound, bound, generator=gen)
                module.scores.copy_(s)
