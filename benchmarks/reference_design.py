"""The original code's design of a masked layer, kept as the reference for benchmarks and tests.

As in the paper's code (after edge-popup): the mask is recomputed by a full sort of |scores| in
every forward call, through an autograd function whose backward passes the gradient straight
through. Only the count rule is ours (k = floor(r * n + 1/2) kept), so that masks can be
compared with rstlib's one for one.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from rstlib.nets.masking import MaskedConv2d, MaskedLinear, masked_layers


class GetSubnet(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores, k):
        out = torch.zeros_like(scores)
        _, idx = scores.flatten().sort()
        out.view(-1)[idx[scores.numel() - k :]] = 1
        return out

    @staticmethod
    def backward(ctx, g):
        return g, None


class ReferenceMaskedConv2d(MaskedConv2d):
    def forward(self, x):
        w = self.weight * GetSubnet.apply(self.scores.abs(), self.k)
        return self._conv_forward(x, w, None)


class ReferenceMaskedLinear(MaskedLinear):
    def forward(self, x):
        return F.linear(x, self.weight * GetSubnet.apply(self.scores.abs(), self.k))


def to_reference(model: nn.Module) -> nn.Module:
    """Switch every masked layer of `model` to the reference design (same state, in place)."""
    for layer in masked_layers(model).values():
        layer.__class__ = ReferenceMaskedConv2d if isinstance(layer, nn.Conv2d) else ReferenceMaskedLinear
    return model


def reference_pgd(model, x, y, eps, step, steps, generator=None):
    """PGD-k as the original search runs it: parameters keep requires_grad, the mask is rebuilt
    in each of the k forwards, fp32."""
    delta = ((torch.rand(x.shape, generator=generator) * 2 - 1) * eps).to(x.device)
    x_adv = (x + delta).clamp(0, 1)
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = F.cross_entropy(model(x_adv), y)
        (grad,) = torch.autograd.grad(loss, x_adv)
        x_adv = x_adv.detach() + step * grad.sign()
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)
    return x_adv


def reference_search_step(model, x, y, optimizer, eps, step, steps, generator=None):
    x_adv = reference_pgd(model, x, y, eps, step, steps, generator)
    loss = F.cross_entropy(model(x_adv), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss
