"""Typed configuration: profiles from `_config.yml` and the frozen run description whose hash
names a run directory."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rstlib import data
from rstlib.config.params import check_number, check_ratio
from rstlib.config.section_knobs import SectionKnobs, section_knobs
from rstlib.config.settings import KINDS, EvalSettings, FastPath, Precision, TrainSettings, check_precision
from rstlib.errors import ConfigError
from rstlib.nets import inits, models

__all__ = ["ConfigError", "Profile", "RunConfig", "load_profile", "load_profiles", "check_ratio", "config_hash"]


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    datasets: tuple[str, ...]
    second_task: str
    archs: dict[str, float]
    n_train: int | None
    n_test: int | None
    eval_n_test: int | None
    search: TrainSettings
    dense: TrainSettings
    finetune: TrainSettings
    lr_overrides: dict[str, float]
    evaluation: EvalSettings
    precision: Precision
    fast: FastPath
    sections: SectionKnobs
    # where the recipe's learning rates come from: "paper" (the supplement's Sec. 2), "validation"
    # (chosen on images carved from the training split, benchmarks/lr_sweep.py) or "test" (chosen on
    # test-set numbers: a confound the pages state) or "untuned" (the smoke profile's)
    lr_chosen_on: str = "paper"

    def lr_for(self, settings: TrainSettings, dataset: str) -> TrainSettings:
        """The recipe with the dataset's learning-rate override applied (SVHN: 0.01)."""
        if dataset in self.lr_overrides:
            return dataclasses.replace(settings, lr=float(self.lr_overrides[dataset]))
        return settings


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a training run's result. Its hash names the run directory.

    kind: search (RST: scores trained over frozen random weights), dense (weights trained),
    finetune (mask fixed, weights trained), rtt (mask search over trained dense weights).
    `parent` is the config of the run this one starts from (finetune: the RST search;
    rtt: the dense run), so a child's identity includes its parent's.
    """

    kind: str
    dataset: str
    arch: str
    width: float
    seed: int
    train: TrainSettings
    ratio: float = 100.0  # remaining ratio in percent (100 = dense)
    init: str = "signed_kaiming_constant"
    n_train: int | None = None
    n_test: int | None = None
    finetune_weights: str | None = None  # inherit | reinit (finetune only)
    parent: "RunConfig | None" = None
    precision: str = "fp32"  # fp32 | bf16 (autocast of the whole training step); from the profile

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError(f"unknown run kind {self.kind!r}; choose one of {KINDS}")
        data.check_dataset(self.dataset)
        models.check_arch(self.arch)
        inits.check_init(self.init)
        check_ratio(self.ratio)
        check_precision(self.precision)
        check_number(self.width, "width multiplier", above=0)
        check_number(self.seed, "seed", minimum=0, whole=True)
        for name in ("n_train", "n_test"):
            if getattr(self, name) is not None:
                check_number(getattr(self, name), name, minimum=1, whole=True)
        if self.kind == "finetune":
            if self.finetune_weights not in ("inherit", "reinit"):
                raise ConfigError("finetune needs finetune_weights = 'inherit' or 'reinit'")
            if self.parent is None or self.parent.kind != "search":
                raise ConfigError("finetune needs the RST search run as parent")
        if self.kind == "rtt" and (self.parent is None or self.parent.kind != "dense"):
            raise ConfigError("rtt needs the dense training run as parent")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        d = dict(d)
        d["train"] = TrainSettings(**d["train"])
        if d.get("parent") is not None:
            d["parent"] = cls.from_dict(d["parent"])
        return cls(**d)

    def run_id(self) -> str:
        """Readable prefix + 12 hex digits of the config's hash."""
        return f"{self.readable_name()}-{config_hash(self.to_dict())}"

    def readable_name(self) -> str:
        name = f"{self.kind}-{self.dataset}-{self.arch}"
        if self.kind == "dense":
            name += "-adv" if self.train.attack != "none" else "-nat"
        else:
            name += f"-r{self.ratio:g}"
        if self.kind == "finetune":
            name += f"-{self.finetune_weights}"
        if self.kind == "rtt":
            assert self.parent is not None  # checked in __post_init__
            name += "-from-adv" if self.parent.train.attack != "none" else "-from-nat"
        if self.precision != "fp32":
            name += f"-{self.precision}"
        return f"{name}-s{self.seed}"


def config_hash(d: dict[str, Any]) -> str:
    blob = json.dumps(d, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def find_config_file() -> Path:
    """`$RST_CONFIG`, else `_config.yml` in the working directory or a parent, else the one
    beside the package (a source checkout)."""
    env = os.environ.get("RST_CONFIG")
    if env:
        return Path(env)
    for d in [Path.cwd(), *Path.cwd().parents]:
        if (d / "_config.yml").is_file() and "profiles" in (d / "_config.yml").read_text():
            return d / "_config.yml"
    return Path(__file__).resolve().parents[2] / "_config.yml"


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    path = path or find_config_file()
    if not path.is_file():
        raise ConfigError(f"no profile file at {path}; set RST_CONFIG to the project's _config.yml")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path} is not valid YAML{where}: {getattr(e, 'problem', None) or e}") from None
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("profiles"), dict):
        raise ConfigError(f"{path} has no 'profiles:' mapping; see the project's _config.yml")
    return {name: _profile_from_dict(name, spec, path) for name, spec in doc["profiles"].items()}


def load_profile(name: str, path: Path | None = None) -> Profile:
    profiles = load_profiles(path)
    if name not in profiles:
        raise ConfigError(f"unknown profile {name!r}; choose one of {sorted(profiles)}")
    return profiles[name]


def default_profile_name() -> str:
    """`paper` when CUDA is available, else `laptop`."""
    import torch

    return "paper" if torch.cuda.is_available() else "laptop"


def _precision(name: str, spec: dict[str, Any]) -> Precision:
    given = spec.get("precision")
    if not isinstance(given, dict) or set(given) != set(KINDS):
        raise ConfigError(
            f"profile {name!r} must state the precision of every training kind, e.g. "
            f"precision: {{search: fp32, dense: fp32, finetune: fp32, rtt: fp32}}"
        )
    return Precision(**given)


def _profile_from_dict(name: str, spec: dict[str, Any], path: Path | str = "_config.yml") -> Profile:
    known = {f.name for f in dataclasses.fields(Profile)} - {"name"}
    unknown = sorted(str(k) for k in spec if k not in known) if isinstance(spec, dict) else []
    if unknown:  # a typo (n_trian) would otherwise fall back to a default (the whole training set)
        raise ConfigError(f"profile {name!r} in {path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    try:
        return Profile(
            name=name,
            description=spec.get("description", ""),
            datasets=tuple(spec["datasets"]),
            second_task=spec["second_task"],
            archs={k: check_number(v, f"archs.{k} (width)", above=0) for k, v in spec["archs"].items()},
            n_train=_optional_count(spec.get("n_train"), "n_train"),
            n_test=_optional_count(spec.get("n_test"), "n_test"),
            eval_n_test=_optional_count(spec.get("eval_n_test"), "eval_n_test"),
            search=TrainSettings(**spec["search"]),
            dense=TrainSettings(**spec["dense"]),
            finetune=TrainSettings(**spec["finetune"]),
            lr_overrides={k: check_number(v, f"lr_overrides.{k}", above=0) for k, v in (spec.get("lr_overrides") or {}).items()},
            evaluation=EvalSettings(**spec["evaluation"]),
            precision=_precision(name, spec),
            fast=FastPath(**spec.get("fast", {})),
            sections=section_knobs(name, spec.get("sections"), path),
            lr_chosen_on=_lr_chosen_on(spec.get("lr_chosen_on", "paper")),
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise ConfigError(f"profile {name!r} in {path} is malformed: {type(e).__name__} {e}") from None
    except ConfigError as e:
        message = str(e)  # the sections' knobs name the profile and file themselves
        raise ConfigError(message if message.startswith("profile ") else f"profile {name!r} in {path}: {message}") from None


LR_SOURCES = ("paper", "validation", "test", "untuned")


def _lr_chosen_on(value: Any) -> str:
    if value not in LR_SOURCES:
        raise ConfigError(f"lr_chosen_on must be one of {LR_SOURCES}, got {value!r}")
    return value


def _optional_count(value: Any, name: str) -> int | None:
    return None if value is None else int(check_number(value, name, minimum=1, whole=True))
