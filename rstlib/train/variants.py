"""Run configs of the paper's variants, built from a profile. Everything that trains goes
through these builders, so the CLI, the notebooks and a sweep ask the store for the same runs."""

from __future__ import annotations

import dataclasses

from rstlib.config.profile import ConfigError, Profile, RunConfig, check_ratio
from rstlib.data.specs import canonical_name, check_dataset
from rstlib.nets.models import check_arch


def _common(profile: Profile, dataset: str, arch: str) -> dict:
    dataset = canonical_name(dataset)
    check_dataset(dataset)
    check_arch(arch)
    if arch not in profile.archs:
        raise ConfigError(f"arch {arch!r} has no width in profile {profile.name!r}; it lists {sorted(profile.archs)}")
    return dict(dataset=dataset, arch=arch, width=profile.archs[arch], n_train=profile.n_train, n_test=profile.n_test)


def search_config(
    profile: Profile, dataset: str, arch: str, ratio: float, seed: int = 0, init: str = "signed_kaiming_constant"
) -> RunConfig:
    """RST: adversarial mask search over random weights at remaining ratio `ratio` (%)."""
    common = _common(profile, dataset, arch)
    return RunConfig(
        kind="search",
        seed=seed,
        ratio=check_ratio(ratio),
        init=init,
        train=profile.lr_for(profile.search, common["dataset"]),
        precision=profile.precision.search,
        **common,
    )


def dense_config(
    profile: Profile, dataset: str, arch: str, adversarial: bool = True, seed: int = 0, init: str = "kaiming_normal"
) -> RunConfig:
    """Dense baseline: adversarially (PGD-k) or naturally trained weights."""
    common = _common(profile, dataset, arch)
    train = profile.lr_for(profile.dense, common["dataset"])
    if not adversarial:
        train = dataclasses.replace(train, attack="none")
    return RunConfig(kind="dense", seed=seed, init=init, train=train, precision=profile.precision.dense, **common)


def finetune_config(
    profile: Profile, dataset: str, arch: str, ratio: float, weights: str, seed: int = 0, init: str = "signed_kaiming_constant"
) -> RunConfig:
    """Fine-tuned RST: the RST's mask fixed, weights adversarially trained from the RST's
    random weights ('inherit') or from a fresh Kaiming-normal draw ('reinit')."""
    parent = search_config(profile, dataset, arch, ratio, seed, init)
    common = _common(profile, dataset, arch)
    return RunConfig(
        kind="finetune",
        seed=seed,
        ratio=parent.ratio,
        init=init,
        finetune_weights=weights,
        parent=parent,
        train=profile.lr_for(profile.finetune, common["dataset"]),
        precision=profile.precision.finetune,
        **common,
    )


def rtt_config(
    profile: Profile,
    dataset: str,
    arch: str,
    ratio: float,
    source: str = "adversarial",
    seed: int = 0,
    source_dataset: str | None = None,
) -> RunConfig:
    """RTT: mask search over a dense network trained naturally or adversarially (source), on
    `source_dataset` (default: the same task; Sec. 9 transfers from another task)."""
    if source not in ("natural", "adversarial"):
        raise ConfigError(f"RTT source must be 'natural' or 'adversarial', got {source!r}")
    parent = dense_config(profile, source_dataset or dataset, arch, adversarial=source == "adversarial", seed=seed)
    common = _common(profile, dataset, arch)
    return RunConfig(
        kind="rtt",
        seed=seed,
        ratio=check_ratio(ratio),
        parent=parent,
        train=profile.lr_for(profile.search, common["dataset"]),
        precision=profile.precision.rtt,
        **common,
    )
