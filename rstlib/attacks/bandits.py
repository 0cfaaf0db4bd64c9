"""Bandits-TD (Ilyas, Engstrom, Madry, ICLR 2019, "Prior Convictions"), L-inf, written from the
paper's algorithm. Gradient-free: it only reads the model's outputs (logits -> loss).

Per iteration (2 queries per still-unbroken image):
  - exploration: u ~ N(0, I) * exploration / sqrt(dim) around the prior v;
  - finite differences: l(x + eta * q1/|q1|) - l(x + eta * q2/|q2|), q1,2 = up(v +- u);
    estimated gradient g = (l1 - l2) / (eta * exploration) * u;
  - prior update (time prior) by exponentiated gradient on v in [-1, 1] (the L-inf bandit);
  - image step x <- Proj_eps(x + image_lr * sign(up(v))), clipped to [0, 1].
The data prior is the tiling: v lives on a grid `tile` times coarser than the image and is
upsampled (nearest) before use. Defaults are the paper's L-inf settings (eta 0.1, online lr 100,
exploration 1.0, image lr 0.01) with the tiling scaled from 299x299 to 32x32 images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class Bandits:
    eps: float
    max_queries: int = 10_000
    fd_eta: float = 0.1
    image_lr: float = 0.01
    online_lr: float = 100.0
    exploration: float = 1.0
    tile: int = 4

    @torch.no_grad()
    def __call__(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        b, c, h, w = x.shape
        ph, pw = max(1, h // self.tile), max(1, w // self.tile)
        prior = torch.zeros(b, c, ph, pw, device=x.device)
        dim = prior[0].numel()

        def up(v):
            return F.interpolate(v, size=(h, w), mode="nearest") if (ph, pw) != (h, w) else v

        def loss(z):
            return F.cross_entropy(model(z).float(), y, reduction="none")

        def unit(q):
            return q / q.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)

        x_adv = x.clone()
        active = model(x).argmax(1) == y  # images already misclassified need no query
        queries = torch.zeros(b, device=x.device)
        while active.any() and queries[active].max() + 2 <= self.max_queries:
            noise = torch.randn(prior.shape, generator=generator).to(x.device)
            u = self.exploration * noise / dim**0.5
            q1, q2 = up(prior + u), up(prior - u)
            l1 = loss(x_adv + self.fd_eta * unit(q1))
            l2 = loss(x_adv + self.fd_eta * unit(q2))
            g = ((l1 - l2) / (self.fd_eta * self.exploration)).view(-1, 1, 1, 1) * u
            prior = torch.where(active.view(-1, 1, 1, 1), _eg_step(prior, g, self.online_lr), prior)
            stepped = x_adv + self.image_lr * up(prior).sign()
            stepped = torch.min(torch.max(stepped, x - self.eps), x + self.eps).clamp(0, 1)
            x_adv = torch.where(active.view(-1, 1, 1, 1), stepped, x_adv)
            queries += 2 * active.float()
            active &= model(x_adv).argmax(1) == y
        return x_adv


def _eg_step(v: torch.Tensor, g: torch.Tensor, lr: float) -> torch.Tensor:
    """Exponentiated-gradient ascent on v in [-1, 1] (mapped to [0, 1] and back)."""
    p = (v + 1) / 2
    pos = p * torch.exp(lr * g)
    neg = (1 - p) * torch.exp(-lr * g)
    return 2 * pos / (pos + neg) - 1


@dataclass(frozen=True)
class RandomNoise:
    """Baseline for Bandits: `max_queries` random vertices of the eps-ball (random signs), an
    image counting as broken as soon as one of them is misclassified."""

    eps: float
    max_queries: int = 10_000

    @torch.no_grad()
    def __call__(self, model, x, y, generator=None):
        x_adv = x.clone()
        active = model(x).argmax(1) == y
        for _ in range(self.max_queries):
            if not active.any():
                break
            signs = torch.randint(0, 2, x.shape, generator=generator).to(x.device) * 2 - 1
            trial = (x + self.eps * signs).clamp(0, 1)
            fooled = active & (model(trial).argmax(1) != y)
            x_adv[fooled] = trial[fooled]
            active &= ~fooled
        return x_adv
