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

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from rstlib import data as datasets
from rstlib.attacks.adapters import autoattack_fn
from rstlib.attacks.pgd import PGD
from rstlib.attacks.registry import AttackSpec
from rstlib.evaluation.evaluator import Evaluator, craft, score, unpack_bits
from rstlib.evaluation.requests import EOT, AutoAttackRand, eot_attacks
from rstlib.nets.switch import R2S, MeanLogits, StackedLogits, shared_random_weights
from rstlib.runtime.device import resolve_device
from rstlib.store.rundir import RunDir


def eot_attack(members: Sequence[nn.Module], spec: AttackSpec, over: str = "loss", loss: str = "ce"):
    """(model, attack) for PGD on the expectation over `members` (over='loss' or 'logits'), on
    the cross-entropy (loss='ce') or the CW margin loss (loss='cw')."""
    if loss not in ("ce", "cw"):
        raise ValueError(f"EOT loss 'ce' or 'cw', got {loss!r}")
    pgd: dict[str, Any] = dict(eps=spec.eps / 255, step=spec.step / 255, steps=spec.steps, random_start=True, early_stop=False)
    if over == "loss":
        return StackedLogits(members), PGD(loss=f"expected_{loss}", **pgd)
    if over == "logits":
        return MeanLogits(members), PGD(loss=loss, **pgd)
    raise ValueError(f"EOT over 'loss' or 'logits', got {over!r}")


@dataclass(frozen=True)
class R2SResult:
    candidates: tuple[str, ...]
    natural: float  # mean natural accuracy over the set
    protocol: float  # paper protocol: mean of the transfer matrix over the set
    eot_loss: float | None  # adaptive: PGD-20 on the expected loss (CE)
    eot_logits: float | None  # adaptive: PGD-20 on the averaged logits (CE)
    matrix: pd.DataFrame
    member_natural: dict[str, float]
    eot_loss_margin: float | None = None  # adaptive: PGD-20 on the expected CW margin
    eot_logits_margin: float | None = None  # adaptive: PGD-20 on the CW margin of the averaged logits
    autoattack_rand: float | None = None  # AutoAttack rand (EOT 20) on the first `strong_images` examples
    # AutoAttack standard crafted on each member, transferred to every member (the protocol's expectation)
    autoattack_transfer: float | None = None
    strong: float | None = None  # per example, the worst of every attack above (the strong figure)
    strong_images: int = 0
    # per example (test-subset order), expected correctness: the paper's protocol and the strong figure
    protocol_per_image: np.ndarray | None = field(default=None, repr=False, compare=False)
    strong_per_image: np.ndarray | None = field(default=None, repr=False, compare=False)

    def row(self) -> dict:
        return {
            "candidates": ", ".join(self.candidates),
            "natural": self.natural,
            "pgd20_protocol": self.protocol,
            "pgd20_eot_loss": self.eot_loss,
            "pgd20_eot_logits": self.eot_logits,
            "pgd20_eot_loss_margin": self.eot_loss_margin,
            "pgd20_eot_logits_margin": self.eot_logits_margin,
            "autoattack_rand": self.autoattack_rand,
            "autoattack_transfer": self.autoattack_transfer,
            "strong": self.strong,
        }


def protocol_value(matrix: pd.DataFrame) -> float:
    return float(matrix.to_numpy().mean())


def same_network(runs: Mapping[str, RunDir]):
    """Raise unless the runs' configs draw every member from one network: the same kind
    (RSTs or RTTs), dataset, architecture, width, seed, initialisation and (RTTs) trained parent.
    Checked from the configs, so committed results are judged without their weights; the weights
    themselves are compared whenever the members are loaded."""

    def network(c):
        return (c.kind, c.dataset, c.arch, c.width, c.seed, c.init, c.parent.run_id() if c.parent else None)

    configs = [r.config for r in runs.values()]
    if not configs:
        raise ValueError("R2S needs at least one candidate")
    if any(c.kind not in ("search", "rtt") for c in configs):
        raise ValueError("R2S candidates must be masked networks (RSTs or RTTs)")
    if len({network(c) for c in configs}) != 1:
        raise ValueError("R2S candidates must share one set of weights (drawn from the same network)")


def eot_key(evaluator: Evaluator, runs: Mapping[str, RunDir], spec: AttackSpec, over: str, loss: str = "ce") -> dict:
    """Cache key of an adaptive EOT attack on the set (in the store's `_evals/`)."""
    members = tuple((label, r.config) for label, r in runs.items())
    return EOT(members, spec, over, loss).key(evaluator.digest, evaluator.n_test, evaluator.seed)


def aa_rand_key(evaluator: Evaluator, runs: Mapping[str, RunDir], eps: float, images: int) -> dict:
    """Cache key of AutoAttack rand (EOT over 20 draws) on R2S, first `images` examples."""
    members = tuple((label, r.config) for label, r in runs.items())
    return AutoAttackRand(members, eps, images).key(evaluator.digest, evaluator.n_test, evaluator.seed)


def evaluate_r2s(
    evaluator: Evaluator,
    runs: Mapping[str, RunDir],
    spec: AttackSpec | None = None,
    adaptive: bool = True,
    strong_images: int | None = None,
    transfer_images: int = 0,
) -> R2SResult:
    """The paper's R2S protocol on `runs` (label -> RST run), and the adaptive EOT attacks
    (cross-entropy, and with `strong_images` not None also the CW margin, AutoAttack rand on the
    first `strong_images` examples, AutoAttack standard examples crafted on each member and
    transferred to every member on the first `transfer_images` (the strong figure is then over those
    images), and the per-example strong figure).
    Every number is cached; models are loaded (or trained) only for what is not."""
    spec = spec or AttackSpec("pgd20")
    same_network(runs)
    cells = evaluator.transfer_cells(runs, spec)
    matrix = evaluator.transfer_matrix(runs, spec)
    natural = {label: evaluator.evaluate(run, AttackSpec("clean"))["acc"] for label, run in runs.items()}
    strong_on = adaptive and strong_images is not None
    eot = {}
    if adaptive:
        for over, loss in eot_attacks(strong_on):
            key = eot_key(evaluator, runs, spec, over, loss)
            eot[(over, loss)] = evaluator.store.cached_eval(
                None, key, functools.partial(_eot_accuracy, evaluator, runs, spec, over, loss)
            )
    extra = {}
    if strong_on:
        n = next(iter(cells.values()))["n"]
        aa = None
        if strong_images:
            k = min(strong_images, n)
            aa = evaluator.store.cached_eval(
                None, aa_rand_key(evaluator, runs, spec.eps, k), lambda: _aa_rand_accuracy(evaluator, runs, spec.eps, k)
            )
        extra = {
            "eot_loss_margin": eot[("loss", "cw")]["acc"],
            "eot_logits_margin": eot[("logits", "cw")]["acc"],
            "autoattack_rand": aa["acc"] if aa else None,
            "strong_images": min(strong_images, n),
        }
        worst = strong_rates(cells.values(), eot.values(), aa, n)
        if transfer_images:  # the strong figure over the first k images, where AutoAttack ran
            k = min(transfer_images, n)
            on_first = dataclasses.replace(evaluator, n_test=k)
            transferred = protocol_rates(on_first.transfer_cells(runs, AttackSpec("autoattack", eps=spec.eps)).values(), k)
            worst = np.minimum(worst[:k], transferred)
            extra.update(autoattack_transfer=100.0 * float(transferred.mean()), strong_images=k)
        extra.update(strong=100.0 * float(worst.mean()), strong_per_image=worst)
    n = next(iter(cells.values()))["n"]
    extra["protocol_per_image"] = protocol_rates(cells.values(), n)
    return R2SResult(
        tuple(runs),
        sum(natural.values()) / len(natural),
        protocol_value(matrix),
        eot[("loss", "ce")]["acc"] if adaptive else None,
        eot[("logits", "ce")]["acc"] if adaptive else None,
        matrix,
        natural,
        **extra,
    )


def protocol_rates(cells, n: int) -> np.ndarray:
    """Per example, the paper protocol's expected correctness: the mean over every (source,
    target) cell of the transfer matrix (the attacker's and the defender's draw)."""
    return np.mean([unpack_bits(c["correct"], n) for c in cells], axis=0)


def strong_value(cells, eot, aa: dict | None, n: int) -> float:
    """R2S's strong figure (%) from its cached records (see `strong_rates`)."""
    return 100.0 * float(strong_rates(cells, eot, aa, n).mean())


def strong_rates(cells, eot, aa: dict | None, n: int) -> np.ndarray:
    """Per example, the worst expected correctness (over the defender's draw and, for the
    protocol, the attacker's) of the protocol's transfer `cells`, the `eot` attacks and, on its
    first images, AutoAttack rand (`aa`)."""
    rates = [protocol_rates(cells, n)]
    rates += [np.mean([unpack_bits(b, n) for b in r["per_member_correct"].values()], axis=0) for r in eot]
    worst = np.min(rates, axis=0)
    if aa:
        k = aa["images"]
        worst[:k] = np.minimum(worst[:k], np.mean([unpack_bits(b, k) for b in aa["per_member_correct"].values()], axis=0))
    return worst


def _eot_accuracy(evaluator, runs, spec, over, loss="ce") -> dict:
    members = {label: evaluator.model(run) for label, run in runs.items()}
    shared_random_weights(list(members.values()))
    model, attack = eot_attack(list(members.values()), spec, over, loss)
    evaluator.announce(f"evaluate R2S {{{', '.join(runs)}}}: EOT over the {over}, {loss} loss")
    dataset = next(iter(runs.values())).config.dataset
    batches = craft(model, evaluator.loader(dataset), attack, evaluator.seed, evaluator.progress)
    scores = {label: score(m, batches) for label, m in members.items()}
    return {
        "acc": sum(r["acc"] for r in scores.values()) / len(scores),
        "per_member": {label: r["acc"] for label, r in scores.items()},
        "per_member_correct": {label: r["correct"] for label, r in scores.items()},
    }


def _aa_rand_accuracy(evaluator, runs, eps, k) -> dict:
    """AutoAttack rand (APGD-CE and APGD-DLR, EOT over 20 draws) against R2S answering with a
    member drawn per example; robust accuracy is the expectation over the defender's draw."""
    members = {label: evaluator.model(run) for label, run in runs.items()}
    shared_random_weights(list(members.values()))
    device = resolve_device(evaluator.device)
    dataset = next(iter(runs.values())).config.dataset
    test = datasets.load(dataset, train=False, n=evaluator.n_test)
    loader = datasets.BatchLoader(
        datasets.TensorData(test.images[:k], test.labels[:k]), evaluator.batch_size, device, shuffle=False
    )
    defence = R2S(list(members.values()), mode="sample", generator=torch.Generator().manual_seed(evaluator.seed)).eval()
    attack = autoattack_fn(eps / 255, device, evaluator.seed, version="rand")
    evaluator.announce(f"evaluate R2S {{{', '.join(runs)}}}: AutoAttack rand on {k} images")
    batches = craft(defence, loader, attack, evaluator.seed, evaluator.progress)
    scores = {label: score(m, batches) for label, m in members.items()}
    return {
        "acc": sum(r["acc"] for r in scores.values()) / len(scores),
        "images": k,
        "per_member": {label: r["acc"] for label, r in scores.items()},
        "per_member_correct": {label: r["correct"] for label, r in scores.items()},
    }
