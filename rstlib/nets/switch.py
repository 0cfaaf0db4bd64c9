"""The Random RST Switch (R2S) as a network: each input answered by an RST drawn at random from a
candidate set of RSTs that share one set of random weights; and the stacked or averaged logits of
such a set, which the EOT attacks of `rstlib.evaluation.r2s` differentiate."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from rstlib.nets.masking import masked_layers


class R2S(nn.Module):
    """An nn.Module that answers with a randomly drawn member: one draw per batch
    (mode='batch') or one per sample (mode='sample')."""

    def __init__(
        self,
        members: Sequence[nn.Module],
        mode: str = "batch",
        generator: torch.Generator | None = None,
        check_shared_weights: bool = True,
    ):
        super().__init__()
        if mode not in ("batch", "sample"):
            raise ValueError(f"R2S mode must be 'batch' or 'sample', got {mode!r}")
        if len(members) < 1:
            raise ValueError("R2S needs at least one candidate RST")
        if check_shared_weights:
            shared_random_weights(members)
        self.members = nn.ModuleList(members)
        self.mode = mode
        self.generator = generator or torch.Generator().manual_seed(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.members)
        if self.mode == "batch":
            return self.members[int(torch.randint(n, (1,), generator=self.generator))](x)
        choice = torch.randint(n, (x.shape[0],), generator=self.generator).to(x.device)
        out = None
        for i in choice.unique().tolist():
            rows = choice == i
            logits = self.members[i](x[rows])
            if out is None:
                out = logits.new_empty((x.shape[0], logits.shape[1]))
            out[rows] = logits
        assert out is not None  # n >= 1 members drew every row
        return out


def shared_random_weights(members: Sequence[nn.Module]):
    """Raise unless every member is masked and all share the same weights (one random init): where
    two members both keep a weight, it is the same (a stored member holds only the weights its
    mask keeps, `rstlib.store.model_file`)."""
    ref = None
    for m in members:
        layers = masked_layers(m)
        if not layers:
            raise ValueError("R2S candidates must be masked networks (RSTs or RTTs)")
        kept = [(layer.weight, layer.mask().bool()) for layer in layers.values()]
        if ref is None:
            ref = kept
        elif len(ref) != len(kept) or any(not torch.equal(a[ma & mb], b[ma & mb]) for (a, ma), (b, mb) in zip(ref, kept)):
            raise ValueError("R2S candidates must share one set of weights (drawn from the same network)")


class StackedLogits(nn.Module):
    """(members, batch, classes) logits of every member: the input of EOT losses."""

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x):
        return torch.stack([m(x) for m in self.members])


class MeanLogits(StackedLogits):
    def forward(self, x):
        return super().forward(x).mean(0)
