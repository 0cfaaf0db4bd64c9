"""Robustness evaluation of stored runs: PGD-20, CW-L2 / CW-Inf (AdverTorch), AutoAttack
(standard), Bandits; transfer matrices. Results are cached in the run store, keyed by the model,
the attack and its budget, the test subset and the seed."""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from dataclasses import dataclass
from typing import Mapping, cast

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from rstlib import data as datasets
from rstlib.attacks.adapters import AttackFn
from rstlib.attacks.registry import AttackSpec
from rstlib.config.params import check_number
from rstlib.config.profile import RunConfig
from rstlib.errors import AttackError
from rstlib.evaluation.requests import Attacked, Strong
from rstlib.runtime.device import resolve_device
from rstlib.runtime.progress import bar
from rstlib.store.rundir import RunDir
from rstlib.store.runstore import RunStore
from rstlib.train.loop import RunOptions, announce
from rstlib.train.run_model import load_run_model
from rstlib.train.runner import model_run


def craft(
    source: nn.Module, loader, attack: AttackFn | None, seed: int = 0, progress: bool = False
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(x, x_adv, y) batches crafted against `source` in eval mode."""
    torch.manual_seed(seed)  # AdverTorch and AutoAttack draw from the global generator
    generator = torch.Generator().manual_seed(seed)
    source.eval()
    out = []
    for x, y in bar(loader, progress, desc="crafting"):
        x_adv = attack(source, x, y, generator) if attack is not None else x
        if not torch.isfinite(x_adv).all():  # refused before anything keeps it, in memory or on disk
            raise AttackError(
                "the attack produced non-finite adversarial images (NaN or inf): its budget or "
                "step is out of range for this model; nothing was cached"
            )
        out.append((x, x_adv.detach(), y))
    return out


def pack_bits(flags) -> str:
    """Per-example booleans (in test-subset order) as a hex string."""
    return np.packbits(np.asarray(flags, dtype=bool)).tobytes().hex()


def unpack_bits(text: str, n: int) -> np.ndarray:
    """The first n booleans of a `pack_bits` string."""
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))[:n].astype(bool)


@torch.no_grad()
def score(target: nn.Module, batches) -> dict:
    """Accuracy (%) of `target` on crafted batches, with the perturbations' size and which
    examples it got right (`correct`, see `unpack_bits`)."""
    target.eval()
    correct = total = 0
    flags = []
    linf = l2 = 0.0
    lo, hi = float("inf"), float("-inf")
    for x, x_adv, y in batches:
        right = target(x_adv).argmax(1) == y
        flags.append(right.cpu())
        correct += int(right.sum())
        total += len(y)
        d = (x_adv - x).flatten(1)
        linf = max(linf, float(d.abs().max()))
        l2 = max(l2, float(d.norm(dim=1).max()))
        lo, hi = min(lo, float(x_adv.min())), max(hi, float(x_adv.max()))
    return {
        "acc": 100.0 * correct / max(total, 1),
        "n": total,
        "max_linf": linf,
        "max_l2": l2,
        "min_pixel": lo,
        "max_pixel": hi,
        "correct": pack_bits(torch.cat(flags).numpy() if flags else []),
    }


# Examples crafted in this process, by source model, attack, images and seed: R2S candidate sets
# share members, and a set's matrix asks a member's examples for other targets than an earlier set
# did; they are scored again, never crafted again (a few MB each, the oldest dropped first).
_CRAFTED: dict[str, list] = {}
CRAFTED_KEPT = 48


@dataclass(frozen=True)
class Evaluator:
    """Evaluates runs of one store on one test subset, caching every number."""

    store: RunStore
    n_test: int | None = None
    batch_size: int = 256
    device: str | torch.device = "auto"
    seed: int = 0
    progress: bool = False
    run_options: RunOptions | None = None  # how to train a model whose weights are absent

    def __post_init__(self):
        if self.n_test is not None:
            check_number(self.n_test, "n_test (test images to attack)", minimum=1, whole=True)
        check_number(self.batch_size, "evaluation batch_size", minimum=1, whole=True)
        check_number(self.seed, "seed", minimum=0, whole=True)

    def loader(self, dataset: str):
        """The attacked test subset of `dataset`, in batches."""
        test = datasets.load(dataset, train=False, n=self.n_test)
        return datasets.BatchLoader(test, self.batch_size, resolve_device(self.device), shuffle=False)

    def key(self, target: RunDir, spec: AttackSpec, source: RunDir | None = None) -> dict:
        """The cache key of one evaluation (needs no weights: the model sha256 is recorded)."""
        return Attacked(target.config, spec, source.config if source is not None else None).key(
            self.digest, self.n_test, self.seed
        )

    def digest(self, config: RunConfig) -> str:
        """A run's model sha256, as its evaluations are keyed (`rstlib.evaluation.requests`)."""
        return self.store.dir(config).model_digest()

    def model(self, run: RunDir) -> nn.Module:
        """The run's model in eval mode; weights that are not at hand are trained first (only
        when an evaluation is not cached)."""
        options = self.run_options or RunOptions(device=str(self.device), progress=self.progress)
        return load_run_model(model_run(self.store, run.config, options), resolve_device(self.device))

    def evaluate(self, run: RunDir, spec: AttackSpec, source: RunDir | None = None) -> dict:
        """Accuracy of `run` under `spec`, the examples crafted on `source` (default: white-box)."""
        key = self.key(run, spec, source)

        def compute():
            return self._matrix_row(source or run, [run], spec)[0]

        return self.store.cached_eval(run, key, compute)

    def announce(self, message: str):
        """A progress line on stderr (when the run options announce)."""
        announce(self.run_options or RunOptions(announce=False), message)

    def strong(self, run: RunDir, pgd: AttackSpec, images: int = 0, attack: str = "apgd-t") -> dict:
        """The strong figure: an example counts as robust only if it survives PGD-20 on the
        cross-entropy (the paper's), PGD-20 on the CW margin loss, and `attack` on the first
        `images` examples of this subset (`autoattack`: the figure is over those images only;
        `apgd-t`, the committed laptop design: the two PGD-20s alone on the rest). Never above any
        single attack's figure."""
        request = Strong(run.config, pgd, images, attack=attack)
        margin = request.margin
        key = request.key(self.digest, self.n_test, self.seed)
        cached = self.store.lookup_eval(run, key)
        if cached is not None:
            return cached
        ce_r, margin_r = self.evaluate(run, pgd), self.evaluate(run, margin)

        def compute():
            n = ce_r["n"]
            robust = unpack_bits(ce_r["correct"], n) & unpack_bits(margin_r["correct"], n)
            if attack != "apgd-t":
                k = min(images, n) if images else n
                # white-box on the first k images, cached as its own evaluation: an R2S set's strong
                # figure transfers the same examples to its other members (evaluate_r2s)
                extra = dataclasses.replace(self, n_test=k).evaluate(run, request.extra)
                robust = robust[:k] & unpack_bits(extra["correct"], k)
                return {
                    "pgd20": ce_r["acc"],
                    "pgd20_margin": margin_r["acc"],
                    attack: extra["acc"],
                    "pgd20_first": 100.0 * float(unpack_bits(ce_r["correct"], k).mean()),
                    "n": k,
                    "acc": 100.0 * float(robust.mean()),
                    "correct": pack_bits(robust),
                }
            out = {"pgd20": ce_r["acc"], "pgd20_margin": margin_r["acc"], "n": n, "apgd_images": 0}
            if images:
                k = min(images, n)
                apgd = dataclasses.replace(self, n_test=k).evaluate(run, request.extra)
                robust[:k] &= unpack_bits(apgd["correct"], k)
                out.update(
                    apgd_images=k,
                    apgd_t=apgd["acc"],
                    apgd_t_correct=apgd["correct"],
                    pgd20_first=100.0 * float(unpack_bits(ce_r["correct"], k).mean()),
                )
            out.update(acc=100.0 * float(robust.mean()), correct=pack_bits(robust))
            return out

        return self.store.cached_eval(run, key, compute)

    def strong_key(self, run: RunDir, pgd: AttackSpec, images: int = 0, attack: str = "apgd-t") -> dict:
        return Strong(run.config, pgd, images, attack=attack).key(self.digest, self.n_test, self.seed)

    def _matrix_row(self, source: RunDir, targets: list[RunDir], spec: AttackSpec) -> list[dict]:
        device = resolve_device(self.device)
        num_classes = datasets.dataset_spec(source.config.dataset).num_classes
        t0 = time.time()
        crafted = json.dumps([source.path.name, self.digest(source.config), spec.key(), self.n_test, self.seed, str(device)])
        batches = _CRAFTED.get(crafted)
        if batches is None:
            model = self.model(source)
            self.announce(f"evaluate {spec.label()} crafted on {source.path.name} ({len(targets)} target(s))")
            batches = craft(
                model, self.loader(source.config.dataset), spec.build(num_classes, device, self.seed), self.seed, self.progress
            )
            _CRAFTED[crafted] = batches
            while len(_CRAFTED) > CRAFTED_KEPT:
                _CRAFTED.pop(next(iter(_CRAFTED)))
        seconds = time.time() - t0
        self.announce(f"  done in {seconds:.1f} s")
        results = []
        for target in targets:
            r = score(self.model(target), batches)
            r["seconds_crafting"] = seconds
            results.append(r)
        return results

    def transfer_matrix(self, runs: Mapping[str, RunDir], spec: AttackSpec | None = None) -> pd.DataFrame:
        """Accuracy (%) of each target (columns) on examples crafted against each source (rows).
        The diagonal is white-box robust accuracy."""
        cells = self.transfer_cells(runs, spec)
        labels = list(runs)
        matrix = pd.DataFrame(index=pd.Index(labels, name="source"), columns=pd.Index(labels, name="target"), dtype=float)
        for (s, t), r in cells.items():
            matrix.loc[s, t] = r["acc"]
        return matrix

    def transfer_cells(self, runs: Mapping[str, RunDir], spec: AttackSpec | None = None) -> dict[tuple[str, str], dict]:
        """The cached result of every (source, target) cell of the transfer matrix."""
        spec = spec or AttackSpec("pgd20")
        labels = list(runs)
        out = {}
        for s in labels:
            keys = {t: self.key(runs[t], spec, runs[s]) for t in labels}
            cached = {t: self.store.lookup_eval(runs[t], keys[t]) for t in labels}
            missing = [t for t in labels if cached[t] is None]
            if missing:
                for t, r in zip(missing, self._matrix_row(runs[s], [runs[t] for t in missing], spec)):
                    cached[t] = self.store.cached_eval(runs[t], keys[t], functools.partial(dict, r))
            for t in labels:
                out[(s, t)] = cast(dict, cached[t])  # every cell is cached or computed by now
        return out
