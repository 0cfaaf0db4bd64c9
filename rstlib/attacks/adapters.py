"""The attacks of AdverTorch and of the official AutoAttack (pyautoattack), as they ship, behind the
package's one attack signature `attack(model, x, y, generator) -> x_adv` (inputs in [0, 1])."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn

from rstlib.nets.masking import frozen_parameters

AttackFn = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


def cw_l2(num_classes: int, iterations: int) -> AttackFn:
    """AdverTorch's CarliniWagnerL2Attack: 1 binary-search step, `iterations` iterations, initial
    constant 0.1, learning rate 0.01, confidence 0 (Sec. 2)."""

    def run(model, x, y, generator=None):
        from rstlib.attacks.compat import advertorch

        attack = advertorch().CarliniWagnerL2Attack(
            model,
            num_classes,
            confidence=0,
            learning_rate=0.01,
            binary_search_steps=1,
            max_iterations=iterations,
            initial_const=0.1,
            clip_min=0.0,
            clip_max=1.0,
        )
        with frozen_parameters(model):
            return attack.perturb(x, y).detach()

    return run


def cw_inf(eps: float, step: float, steps: int) -> AttackFn:
    """AdverTorch's LinfPGDAttack on the Carlini-Wagner margin loss, random start (eps, step in [0, 1])."""

    def run(model, x, y, generator=None):
        from rstlib.attacks.compat import advertorch

        attacks = advertorch()  # the shim first: AdverTorch imports only through it
        from advertorch.utils import CarliniWagnerLoss

        attack = attacks.LinfPGDAttack(
            model, loss_fn=CarliniWagnerLoss(), eps=eps, nb_iter=steps, eps_iter=step, rand_init=True, clip_min=0.0, clip_max=1.0
        )
        with frozen_parameters(model):
            return attack.perturb(x, y).detach()

    return run


def autoattack_fn(
    eps: float,
    device: torch.device,
    seed: int,
    version: str = "standard",
    attacks: list[str] | None = None,
    num_classes: int = 10,
) -> AttackFn:
    """The official AutoAttack (pyautoattack): `version` standard or rand (EOT over 20 draws, for
    randomised defences), or `attacks` alone (e.g. ['apgd-t'] with 9 target classes)."""
    import logging

    from pyautoattack import AutoAttack

    logging.getLogger("auto-attack").setLevel(logging.WARNING)

    def run(model, x, y, generator=None):
        if attacks:
            aa = AutoAttack(model, eps=eps, norm="Linf", version="custom", attacks=attacks, device=device, seed=seed)
            aa.apgd_targeted.n_target_classes = min(9, num_classes - 1)
        else:
            aa = AutoAttack(model, eps=eps, norm="Linf", version=version, device=device, seed=seed)
        aa.verbose = False
        with frozen_parameters(model):
            x_adv, _ = aa.run_standard_evaluation(x, y, batch_size=len(x))
        return x_adv.detach()

    return run
