"""Random RST Switch (R2S): answer each input with an RST drawn at random from a candidate set
of RSTs that share one set of random weights; its evaluation under the paper's protocol and
under an adaptive (EOT) attack.

Protocol (supplement Sec. 2): the adversary attacks one RST drawn at random from the set, R2S
answers with one drawn at random from the same set, so robust accuracy is the mean over all
(source, target) cells of the transfer matrix restricted to the set; natural accuracy is the
mean natural accuracy over the set.

Adaptive attack: PGD-20 on the expectation over the set (EOT), either of the loss (mean of the
members' cross-entropies) or of the logits; its robust accuracy is the expectation over the
defender's draw, i.e. the mean accuracy of the members on the EOT examples.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pandas as pd
import torch
import torch.nn as nn

from rstlib.attacks import PGD
from rstlib.evaluation import AttackSpec, Evaluator, craft, score
from rstlib.masking import masked_layers
from rstlib.store import RunDir


class R2S(nn.Module):
    """An nn.Module that answers with a randomly drawn member: one draw per batch
    (mode='batch') or one per sample (mode='sample')."""

    def __init__(self, members: Sequence[nn.Module], mode: str = "batch",
                 generator: torch.Generator | None = None, check_shared_weights: bool = True):
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
        return out


def shared_random_weights(members: Sequence[nn.Module]):
    """Raise unless every member is masked and all share the same weights (one random init)."""
    ref = None
    for m in members:
        layers = masked_layers(m)
        if not layers:
            raise ValueError("R2S candidates must be masked networks (RSTs or RTTs)")
        weights = [layer.weight for layer in layers.values()]
        if ref is None:
            ref = weights
        elif len(ref) != len(weights) or any(not torch.equal(a, b) for a, b in zip(ref, weights)):
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




def eot_attack(members: Sequence[nn.Module], spec: AttackSpec, over: str = "loss"):
    """(model, attack) for PGD on the expectation over `members` (over='loss' or 'logits')."""
    pgd = dict(eps=spec.eps / 255, step=spec.step / 255, steps=spec.steps, random_start=True, early_stop=False)
    if over == "loss":
        return StackedLogits(members), PGD(loss="expected_ce", **pgd)
    if over == "logits":
        return MeanLogits(members), PGD(loss="ce", **pgd)
    raise ValueError(f"EOT over 'loss' or 'logits', got {over!r}")


@dataclass(frozen=True)
class R2SResult:
    candidates: tuple[str, ...]
    natural: float  # mean natural accuracy over the set
    protocol: float  # paper protocol: mean of the transfer matrix over the set
    eot_loss: float | None  # adaptive: PGD-20 on the expected loss
    eot_logits: float | None  # adaptive: PGD-20 on the averaged logits
    matrix: pd.DataFrame
    member_natural: dict[str, float]

    def row(self) -> dict:
        return {"candidates": ", ".join(self.candidates), "natural": self.natural,
                "pgd20_protocol": self.protocol, "pgd20_eot_loss": self.eot_loss,
                "pgd20_eot_logits": self.eot_logits}


def protocol_value(matrix: pd.DataFrame) -> float:
    return float(matrix.to_numpy().mean())


def evaluate_r2s(evaluator: Evaluator, runs: Mapping[str, RunDir], spec: AttackSpec | None = None,
                 adaptive: bool = True) -> R2SResult:
    """The paper's R2S protocol on `runs` (label -> RST run), and the adaptive EOT attacks."""
    spec = spec or AttackSpec("pgd20")
    members = {label: evaluator.model(run) for label, run in runs.items()}
    shared_random_weights(list(members.values()))
    matrix = evaluator.transfer_matrix(runs, spec)
    natural = {label: evaluator.evaluate(run, AttackSpec("clean"))["acc"] for label, run in runs.items()}
    eot = {}
    if adaptive:
        for over in ("loss", "logits"):
            members_key = sorted((r.config.run_id(), r.model_digest()) for r in runs.values())
            key = {"name": f"r2s-eot-{over}", "attack": spec.key(), "members": members_key,
                   "n_test": evaluator.n_test, "seed": evaluator.seed}
            eot[over] = evaluator.store.cached_eval(
                None, key, lambda over=over: _eot_accuracy(evaluator, runs, members, spec, over))["acc"]
    return R2SResult(tuple(runs), sum(natural.values()) / len(natural), protocol_value(matrix),
                     eot.get("loss"), eot.get("logits"), matrix, natural)


def _eot_accuracy(evaluator, runs, members, spec, over) -> dict:
    model, attack = eot_attack(list(members.values()), spec, over)
    dataset = next(iter(runs.values())).config.dataset
    batches = craft(model, evaluator._loader(dataset), attack, evaluator.seed, evaluator.progress)
    per_member = {label: score(m, batches)["acc"] for label, m in members.items()}
    return {"acc": sum(per_member.values()) / len(per_member), "per_member": per_member}
