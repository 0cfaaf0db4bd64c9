"""Models for one's own attacks, and our attacks for any model (a RobustBench-style entry point).

    import rstlib
    model = rstlib.load_model(profile="laptop", ratio=10)   # an RST: nn.Module on [0, 1] inputs, eval mode
    images = rstlib.test_images("fashion_mnist", n=500)     # the attacked test subset of the book
    rstlib.evaluate(model, "autoattack", images, eps=24)    # {'acc': ..., 'n': 500, 'correct': ..., ...}
    rstlib.summary(model, images, eps=24)                   # clean and AutoAttack accuracy, one dict

`load_model` reads the weights from the run store; a run whose results are committed without
weights (a fresh clone) is retrained first, which it says before it starts (bit-identical, the recorded
sha256, where the CPU's arithmetic matches the one that trained it: `rstlib.runtime.numerics`).
`load_r2s` is a candidate set as one
module that answers each input with a member drawn at random (AutoAttack's `version="rand"`
attacks it with EOT, as the book's strong R2S figure does).
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from rstlib import data as datasets
from rstlib.attacks.adapters import AttackFn, autoattack_fn
from rstlib.attacks.registry import CW_ITERATIONS, AttackSpec
from rstlib.config.profile import ConfigError, RunConfig, default_profile_name, load_profile
from rstlib.evaluation.evaluator import craft, score
from rstlib.nets.switch import R2S
from rstlib.runtime.device import resolve_device
from rstlib.store.records import read_record
from rstlib.store.runstore import RunStore
from rstlib.train import variants as ex


def find_run(store: RunStore, run_id: str) -> RunConfig:
    """The config of the run named `run_id` in `store`: its full folder name or a unique end of
    it (e.g. the 12 hex digits that `rst runs` shows)."""
    matches = [p for p in store.root.glob("*/config.json") if p.parent.name == run_id]
    matches = matches or [p for p in store.root.glob("*/config.json") if p.parent.name.endswith(run_id)]
    if not matches:
        raise ConfigError(f"no run {run_id!r} in {store.root}; `rst runs` lists the runs and their ids")
    if len(matches) > 1:
        raise ConfigError(f"{run_id!r} names {len(matches)} runs in {store.root}; give more of the id")
    return RunConfig.from_dict(read_record(matches[0], "config"))  # DamagedFile (one line) if it is not one


def run_config(
    run: str | RunConfig | None = None,
    *,
    profile=None,
    dataset: str | None = None,
    arch: str | None = None,
    ratio: float | None = None,
    seed: int = 0,
    kind: str = "search",
    init: str = "signed_kaiming_constant",
    store: RunStore | None = None,
) -> RunConfig:
    """The run meant by a run id (or a RunConfig), or by profile + dataset + arch + ratio + seed
    (kind search: the RST; dense: the adversarially trained network; finetune: inherited weights;
    rtt: drawn from the adversarially trained network)."""
    if isinstance(run, RunConfig):
        return run
    if run is not None:
        return find_run(store or RunStore(), run)
    p = profile if profile is not None and not isinstance(profile, str) else load_profile(profile or default_profile_name())
    dataset = datasets.canonical_name(dataset or p.datasets[0])
    arch = arch or next(iter(p.archs))
    if kind == "dense":
        return ex.dense_config(p, dataset, arch, True, seed)
    if ratio is None:
        raise ConfigError(f"a {kind} run needs ratio= (remaining ratio in percent, e.g. ratio=10)")
    if kind == "search":
        return ex.search_config(p, dataset, arch, ratio, seed, init)
    if kind == "finetune":
        return ex.finetune_config(p, dataset, arch, ratio, "inherit", seed, init)
    if kind == "rtt":
        return ex.rtt_config(p, dataset, arch, ratio, "adversarial", seed)
    raise ConfigError(f"unknown kind {kind!r}; choose search, dense, finetune or rtt")


def load_model(
    run: str | RunConfig | None = None, *, device="cpu", store: RunStore | str | None = None, progress: bool = True, **which
) -> nn.Module:
    """A run's model: an nn.Module taking images in [0, 1] (N, C, H, W), returning logits, in eval
    mode, gradients of its parameters off. `run`: a run id (see `rst runs`) or a RunConfig; or
    `profile=, dataset=, arch=, ratio=, seed=, kind=` as in `run_config`. Weights that are not in
    the store are trained (said on stderr first; committed results retrain bit-identically where the CPU arithmetic matches)."""
    from rstlib.train.loop import RunOptions, announce
    from rstlib.train.run_model import load_run_model
    from rstlib.train.runner import model_run

    store = store if isinstance(store, RunStore) else RunStore(store)
    config = run_config(run, store=store, **which)
    options = RunOptions(device=str(device), progress=progress)
    if not store.dir(config).is_done():
        why = "its results are in the store but not its weights" if store.dir(config).has_results() else "it is not in the store"
        announce(options, f"{config.run_id()}: {why}; training it now (progress lines follow)")
    model = load_run_model(model_run(store, config, options), resolve_device(device))
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def load_r2s(
    ratios: Sequence[float], *, device="cpu", store: RunStore | str | None = None, kind: str = "search", seed: int = 0, **which
) -> R2S:
    """Random RST Switch over the RSTs (kind='rtt': adversarial RTTs) of `ratios`: one module that
    answers each input with a member drawn at random (per example), as attacked by AutoAttack rand."""
    store = store if isinstance(store, RunStore) else RunStore(store)
    members = [load_model(device=device, store=store, kind=kind, ratio=r, seed=seed, **which) for r in ratios]
    return R2S(members, mode="sample", generator=torch.Generator().manual_seed(seed)).eval()


def test_images(dataset: str = "fashion_mnist", n: int | None = None) -> datasets.TensorData:
    """The first `n` images of the fixed test-set permutation that every evaluation of the book
    attacks (uint8 images and labels; None: the whole test split)."""
    return datasets.load(datasets.canonical_name(dataset), train=False, n=n)


def _attack_spec(attack: str | AttackSpec, eps: float, step: float | None, steps: int | None, queries: int) -> AttackSpec:
    if isinstance(attack, AttackSpec):
        return attack
    if attack == "cw-inf":  # the supplement's CW-Inf, as Sec. 3 runs it: 100 iterations of eps/4
        return AttackSpec(
            attack,
            eps=eps,
            step=eps / 4 if step is None else step,
            steps=CW_ITERATIONS if steps is None else steps,
            queries=queries,
        )
    return AttackSpec(
        attack, eps=eps, step=eps / 4 if step is None else step, steps=20 if steps is None else steps, queries=queries
    )


def evaluate(
    model: nn.Module,
    attack: str | AttackSpec,
    images,
    *,
    eps: float = 8.0,
    step: float | None = None,
    steps: int | None = None,
    queries: int = 10_000,
    version: str = "standard",
    num_classes: int = 10,
    batch_size: int = 256,
    device="cpu",
    seed: int = 0,
) -> dict:
    """Run one of our attacks on any classifier of [0, 1] images: `attack` is clean, pgd20,
    pgd20-margin, cw-l2, cw-inf, autoattack (`version="rand"` for randomised defences), apgd-t or
    bandits (or an AttackSpec), `eps` and `step` in 1/255 units (PGD step default eps/4);
    `images` a `test_images(...)` subset or a pair (x in [0, 1], labels). Returns accuracy (%),
    the image count, the perturbations' largest size and which images stayed correct."""
    spec = _attack_spec(attack, eps, step, steps, queries)
    device = resolve_device(device)
    fn: AttackFn | None
    if spec.name == "autoattack" and version != "standard":
        fn = autoattack_fn(spec.eps / 255, device, seed, version=version)
    else:
        fn = spec.build(num_classes, device, seed)
    model = model.to(device).eval()
    return score(model, craft(model, _batches(images, batch_size, device), fn, seed))


def summary(model: nn.Module, images, *, eps: float = 8.0, device="cpu", seed: int = 0, **options) -> dict:
    """RobustBench-style: clean accuracy and AutoAttack (standard) accuracy at `eps`/255 (%)."""
    clean = evaluate(model, "clean", images, device=device, seed=seed, **options)
    robust = evaluate(model, "autoattack", images, eps=eps, device=device, seed=seed, **options)
    return {"clean": clean["acc"], "autoattack": robust["acc"], "eps": eps, "n": clean["n"]}


def _batches(images, batch_size: int, device: torch.device):
    """(x in [0, 1], labels) batches on `device` of a `test_images(...)` subset or a pair."""
    if isinstance(images, datasets.TensorData):
        return datasets.BatchLoader(images, batch_size, device, shuffle=False)
    try:
        x, y = images
        x, y = torch.as_tensor(x), torch.as_tensor(y).long()
    except (TypeError, ValueError):
        raise ConfigError("images must be rstlib.test_images(...) or a pair (x in [0, 1], labels)") from None
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    if x.ndim != 4 or len(x) != len(y) or not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise ConfigError("images must be (N, C, H, W) in [0, 1] with N labels")
    return [(x[i : i + batch_size].to(device), y[i : i + batch_size].to(device)) for i in range(0, len(y), batch_size)]
