"""A run of the store as the first columns of a results row: its configuration's fields, what
tells runs of one kind apart (`variant`) and the `_config.yml` profile that builds it."""

from __future__ import annotations

from pathlib import Path

RUN_COLUMNS = [
    "run_id",
    "profile",
    "kind",
    "variant",
    "dataset",
    "arch",
    "width",
    "ratio",
    "init",
    "seed",
    "precision",
    "finetune_weights",
    "train_attack",
    "epochs",
    "state",
]


def variant(config: dict) -> str:
    """What tells runs of one kind apart: adv/nat (dense), inherit/reinit (fine-tune), the trained
    network an RTT is drawn from (and its task when it is another)."""
    kind, train, parent = config.get("kind"), config.get("train") or {}, config.get("parent") or {}
    if kind == "dense":
        return "nat" if train.get("attack") == "none" else "adv"
    if kind == "finetune":
        return config.get("finetune_weights") or "-"
    if kind == "rtt" and parent:
        src = "from nat" if (parent.get("train") or {}).get("attack") == "none" else "from adv"
        return src + (f" on {parent.get('dataset')}" if parent.get("dataset") != config.get("dataset") else "")
    return "-"


def profile_of(config: dict, profiles: dict | None = None) -> str | None:
    """The profile of `_config.yml` whose settings build this run config (None: no profile does,
    e.g. a run made in Python with changed settings, or a profile file that changed since)."""
    from rstlib.config.profile import ConfigError, RunConfig, load_profiles
    from rstlib.train import variants as ex

    try:
        run = RunConfig.from_dict(config)
        profiles = profiles if profiles is not None else load_profiles()
    except (ConfigError, TypeError, KeyError, ValueError):
        return None
    for name, p in profiles.items():
        try:
            if run.kind == "search":
                again = ex.search_config(p, run.dataset, run.arch, run.ratio, run.seed, run.init)
            elif run.kind == "dense":
                again = ex.dense_config(p, run.dataset, run.arch, run.train.attack != "none", run.seed, run.init)
            elif run.kind == "finetune":
                assert run.parent is not None and run.finetune_weights is not None  # checked by RunConfig
                again = ex.finetune_config(p, run.dataset, run.arch, run.ratio, run.finetune_weights, run.seed, run.parent.init)
            else:
                assert run.parent is not None  # checked by RunConfig
                source = "natural" if run.parent.train.attack == "none" else "adversarial"
                again = ex.rtt_config(p, run.dataset, run.arch, run.ratio, source, run.seed, run.parent.dataset)
        except ConfigError:
            continue
        if again.run_id() == run.run_id():
            return name
    return None


def run_row(path: Path, config: dict, state: str, profiles: dict | None) -> dict:
    train = config.get("train") or {}
    return {
        "run_id": path.name,
        "profile": profile_of(config, profiles) if config else None,
        "kind": config.get("kind"),
        "variant": variant(config) if config else "-",
        "dataset": config.get("dataset"),
        "arch": config.get("arch"),
        "width": config.get("width"),
        "ratio": config.get("ratio"),
        "init": config.get("init"),
        "seed": config.get("seed"),
        "precision": config.get("precision"),
        "finetune_weights": config.get("finetune_weights"),
        "train_attack": train.get("attack"),
        "epochs": train.get("epochs"),
        "state": state,
    }


def profiles_here() -> dict:
    from rstlib.config.profile import ConfigError, load_profiles

    try:
        return load_profiles()
    except ConfigError:  # no profile file here: the profile column stays empty
        return {}
