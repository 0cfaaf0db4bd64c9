"""White-box L-inf attacks in [0, 1] pixel space: PGD (training PGD-k and evaluation PGD-20,
cross-entropy or CW margin loss) and FGSM with random start.

Every attack is an object with its budget in the constructor and one call,
`attack(model, x, y, generator=None) -> x_adv`, so any of them can be pointed at any model
(a dense net, an RST, an R2S ensemble). Attacks neither change the model's train/eval mode nor
its parameters' gradients; the caller chooses the mode (train mode while searching, as the
original code does; eval mode for evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from rstlib.nets.masking import frozen_parameters

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def ce_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example cross-entropy."""
    return F.cross_entropy(logits.float(), y, reduction="none")


def cw_margin_loss(logits: torch.Tensor, y: torch.Tensor, confidence: float = 50.0) -> torch.Tensor:
    """Per-example Carlini-Wagner margin: max_{j != y} z_j - z_y, clamped at -confidence."""
    logits = logits.float()
    true = logits.gather(1, y[:, None]).squeeze(1)
    other = logits.masked_fill(F.one_hot(y, logits.shape[1]).bool(), float("-inf")).amax(1)
    return (other - true).clamp(min=-confidence)


def expected_ce(stacked: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example cross-entropy averaged over the first dimension of (members, batch, classes)
    logits: the EOT loss of a randomised ensemble such as R2S."""
    m, b, c = stacked.shape
    return F.cross_entropy(stacked.float().reshape(m * b, c), y.repeat(m), reduction="none").view(m, b).mean(0)


def expected_cw(stacked: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example CW margin averaged over the members of (members, batch, classes) logits."""
    m, b, c = stacked.shape
    return cw_margin_loss(stacked.reshape(m * b, c), y.repeat(m)).view(m, b).mean(0)


LOSSES: dict[str, LossFn] = {"ce": ce_loss, "cw": cw_margin_loss, "expected_ce": expected_ce, "expected_cw": expected_cw}


def uniform_noise(x: torch.Tensor, eps: float, generator: torch.Generator | None) -> torch.Tensor:
    noise = torch.rand(x.shape, generator=generator, dtype=torch.float32)
    return ((noise * 2 - 1) * eps).to(device=x.device, dtype=x.dtype)


def _project(x_adv, x, eps):
    return torch.min(torch.max(x_adv, x - eps), x + eps).clamp_(0.0, 1.0)


def _box(x: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The L-inf ball around x intersected with [0, 1], as elementwise bounds: projecting onto
    them is `_project` with two operations instead of five (the same bits: min and max are exact)."""
    return (x - eps).clamp_(min=0.0), (x + eps).clamp_(max=1.0)


@dataclass(frozen=True)
class PGD:
    """L-inf PGD. eps and step in [0, 1] pixel units.

    early_stop=True is the evaluation variant of the original code: an example stops being
    updated once it is misclassified, and otherwise the iterate with the highest loss is kept.
    early_stop=False is the training variant (PGD-k): the last iterate is returned.
    """

    eps: float
    step: float
    steps: int
    random_start: bool = True
    early_stop: bool = False
    loss: str = "ce"

    def __post_init__(self):
        if self.eps < 0 or self.step < 0 or self.steps < 0:
            raise ValueError(f"PGD needs eps, step, steps >= 0; got {self.eps}, {self.step}, {self.steps}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown PGD loss {self.loss!r}; choose one of {sorted(LOSSES)}")

    def __call__(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        loss_fn = LOSSES[self.loss]
        x = x.detach()
        x_adv = x.clone()
        if self.random_start and self.eps > 0:
            x_adv = _project(x + uniform_noise(x, self.eps, generator), x, self.eps)
        if self.steps == 0 or self.eps == 0:
            return x_adv
        track = self.early_stop
        lo, hi = _box(x, self.eps)
        if track:
            best = x_adv.clone()
            best_loss = torch.full((x.shape[0],), float("-inf"), device=x.device)
            active = torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
            # asking the device whether any example is left waits for it: on a GPU only every few
            # steps (the steps after the last example fell change nothing, so the result is the same)
            check_every = 1 if x.device.type == "cpu" else 4

        def rows(mask):
            return mask.view(-1, *([1] * (x.dim() - 1)))

        with frozen_parameters(model):
            for i in range(self.steps):
                x_adv.requires_grad_(True)
                logits = model(x_adv)
                losses = loss_fn(logits, y)
                (grad,) = torch.autograd.grad(losses.sum(), x_adv)
                x_adv = x_adv.detach()
                if track:
                    with torch.no_grad():  # torch.where, not boolean indexing: no host sync
                        losses = losses.detach()
                        improved = active & (losses > best_loss)
                        best = torch.where(rows(improved), x_adv, best)
                        best_loss = torch.where(improved, losses, best_loss)
                        active &= logits.argmax(1) == y  # misclassified examples stay put
                    if (i + 1) % check_every == 0 and not active.any():
                        break
                    stepped = torch.min(torch.max(x_adv + self.step * grad.sign(), lo), hi)
                    x_adv = torch.where(rows(active), stepped, x_adv)
                else:
                    x_adv = torch.min(torch.max(x_adv + self.step * grad.sign(), lo), hi)
            if not track:
                return x_adv
            with torch.no_grad():  # score the last iterate too
                logits = model(x_adv)
                losses = loss_fn(logits, y)
                fooled = logits.argmax(1) != y
                take = fooled | (active & (losses > best_loss))
                best = torch.where(rows(take), x_adv, best)
        return best


@dataclass(frozen=True)
class FGSMRS:
    """FGSM with a uniform random start and step alpha = 1.25 eps (Wong et al. 2020)."""

    eps: float
    alpha_factor: float = 1.25

    def __call__(self, model, x, y, generator=None):
        x = x.detach()
        x_adv = _project(x + uniform_noise(x, self.eps, generator), x, self.eps).requires_grad_(True)
        with frozen_parameters(model):
            (grad,) = torch.autograd.grad(ce_loss(model(x_adv), y).sum(), x_adv)
        return _project(x_adv.detach() + self.alpha_factor * self.eps * grad.sign(), x, self.eps)


def training_attack(kind: str, eps_255: float, step_255: float, steps: int):
    """The attack a training recipe asks for (None for natural training)."""
    if kind == "none":
        return None
    if kind == "pgd":
        return PGD(eps_255 / 255, step_255 / 255, steps, random_start=True)
    if kind == "fgsm-rs":
        return FGSMRS(eps_255 / 255)
    raise ValueError(f"unknown training attack {kind!r}")


@torch.no_grad()
def _count_correct(model, x, y) -> int:
    return int((model(x).argmax(1) == y).sum())


def accuracy(
    model: nn.Module,
    loader,
    attack=None,
    target: nn.Module | None = None,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> float:
    """Accuracy (%) of `target` (default: `model`) on `loader`, on adversarial examples crafted
    against `model` when `attack` is given. Both models are put in eval mode."""
    from rstlib.runtime.progress import bar

    target = target if target is not None else model
    was_training = (model.training, target.training)
    model.eval()
    target.eval()
    correct = total = 0
    try:
        for x, y in bar(loader, progress, desc="attack"):
            x_eval = attack(model, x, y, generator) if attack is not None else x
            correct += _count_correct(target, x_eval, y)
            total += len(y)
    finally:
        model.train(was_training[0])
        target.train(was_training[1])
    return 100.0 * correct / max(total, 1)
