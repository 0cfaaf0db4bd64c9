"""The context a section runs in: it loads runs and evaluations from the run store (computing
only what is missing) or, with `dry_run=True`, only records what it would ask for (the plan
that `rst plan`, `rst sweep` and a page's bill of work read); and the parsing of list parameters,
shared by the notebooks, the CLI and `_config.yml`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rstlib.attacks.registry import AttackSpec
from rstlib.config.params import check_number, parse_list
from rstlib.config.profile import ConfigError, Profile, RunConfig
from rstlib.data.specs import canonical_name, check_dataset, dataset_spec
from rstlib.evaluation.evaluator import Evaluator, unpack_bits
from rstlib.evaluation.r2s import evaluate_r2s
from rstlib.evaluation.requests import EOT, Attacked, AutoAttackRand, EvalRequest, Strong, eot_attacks
from rstlib.nets.models import LABELS as ARCH_LABELS
from rstlib.nets.models import check_arch
from rstlib.store.rundir import RunDir
from rstlib.store.runstore import RunStore
from rstlib.train.loop import RunOptions
from rstlib.train.runner import results as run_results

NAN = float("nan")
R2S_COLUMNS = (
    "natural",
    "pgd20_protocol",
    "pgd20_eot_loss",
    "pgd20_eot_logits",
    "pgd20_eot_loss_margin",
    "pgd20_eot_logits_margin",
    "autoattack_rand",
    "autoattack_transfer",
    "strong",
)


class Context:
    """Loads runs and evaluations for a section from the run store, computing only what is not
    there; or, with dry_run=True, only records what it would ask for (the plan).

    A run whose results are in the store (committed results without weights included) is read,
    never retrained; weights are trained only when an evaluation that is not cached needs them.
    """

    def __init__(
        self,
        profile: Profile,
        store: RunStore | None = None,
        device="auto",
        seed: int = 0,
        progress: bool = True,
        dry_run: bool = False,
        announce: bool = True,
    ):
        self.profile = profile
        check_number(seed, "seed", minimum=0, whole=True)
        self.store = store or RunStore()
        self.device = device
        self.seed = seed
        self.progress = progress
        self.dry_run = dry_run
        self.options = RunOptions.of(profile, device=str(device), progress=progress, announce=announce)
        self.planned_runs: dict[str, RunConfig] = {}
        self.planned_evals: list[EvalRequest] = []
        self.pgd = AttackSpec.pgd20(profile.evaluation)

    @property
    def last_iterate(self) -> AttackSpec | None:
        """The transfer attack on the last PGD-20 iterate, where the profile asks for it."""
        ev = self.profile.evaluation
        return AttackSpec.of("pgd20-last", ev) if ev.transfer_last_iterate else None

    def at_seed(self, seed: int) -> "Context":
        """The same context at another seed, recording into the same plan."""
        other = Context(self.profile, self.store, self.device, seed, self.progress, self.dry_run, self.options.announce)
        other.planned_runs, other.planned_evals = self.planned_runs, self.planned_evals
        return other

    # -- runs -------------------------------------------------------------------------------
    def _plan(self, config: RunConfig):
        if config.parent is not None:
            self._plan(config.parent)
        self.planned_runs.setdefault(config.run_id(), config)

    def run(self, config: RunConfig) -> RunDir | None:
        """The finished run (its results; trained only if they are not in the store)."""
        self._plan(config)
        if self.dry_run:
            return None
        return run_results(self.store, config, self.options)

    def natural(self, config: RunConfig) -> float:
        """Natural test accuracy (%) of a run, on the profile's test subset."""
        run = self.run(config)
        return NAN if run is None else run.metrics()["natural_acc"]

    def evaluator(self, n_test: int | None = None) -> Evaluator:
        return Evaluator(
            self.store,
            n_test=n_test if n_test is not None else self.profile.eval_n_test,
            batch_size=self.profile.evaluation.batch_size,
            device=self.device,
            progress=self.progress,
            run_options=self.options,
        )

    # -- evaluations ------------------------------------------------------------------------
    def accuracy(
        self, config: RunConfig, attack: AttackSpec | None = None, source: RunConfig | None = None, n_test: int | None = None
    ) -> float:
        """Accuracy (%) of `config`'s run under `attack` (default: the profile's PGD-20), crafted on
        `source` (default: white-box), on `n_test` images (default: the profile's); cached."""
        attack = attack or self.pgd
        self.planned_evals.append(Attacked(config, attack, source, n_test))
        run, src = self.run(config), (self.run(source) if source is not None else None)
        if run is None:
            return NAN
        return self.evaluator(n_test).evaluate(run, attack, src)["acc"]

    def strong(self, config: RunConfig, n_test: int | None = None) -> float:
        """The strong robust accuracy (%) of `config`'s run (the profile's design,
        `EvalSettings.strong_text`). Ours, beside the paper's PGD-20; never above any attack of it."""
        return self._strong(config, n_test)["acc"]

    def _strong(self, config: RunConfig, n_test: int | None = None) -> dict:
        ev = self.profile.evaluation
        self.planned_evals.append(Strong(config, self.pgd, ev.strong_images, n_test, ev.strong_attack))
        run = self.run(config)
        if run is None:
            return {"acc": NAN}
        return self.evaluator(n_test).strong(run, self.pgd, ev.strong_images, ev.strong_attack)

    def matrix(self, configs: dict[str, RunConfig], attack: AttackSpec | None = None) -> pd.DataFrame:
        """Transfer matrix (rows: source, columns: target) of PGD-20 examples."""
        attack = attack or self.pgd
        for s in configs.values():
            for t in configs.values():
                self.planned_evals.append(Attacked(t, attack, s if s is not t else None))
        runs = {k: self.run(c) for k, c in configs.items()}
        if self.dry_run:
            return pd.DataFrame(NAN, index=pd.Index(list(configs), name="source"), columns=pd.Index(list(configs), name="target"))
        return self.evaluator().transfer_matrix(runs, attack)

    def r2s(self, configs: dict[str, RunConfig], adaptive: bool = True, strong: bool = True) -> dict:
        """R2S over the candidate set: natural, paper protocol, adaptive EOT (loss, logits; CE and,
        with `strong`, CW margin), AutoAttack rand on the profile's first `aa_rand_images` images and
        the per-example strong figure."""
        matrix = self.matrix(configs)
        for c in configs.values():
            self.planned_evals.append(Attacked(c, AttackSpec("clean")))
        k = self.profile.evaluation.aa_rand_images
        if adaptive:  # EOT attacks: one PGD-20 through the whole set each
            members = tuple(configs.items())
            for over, loss in eot_attacks(strong):
                self.planned_evals.append(EOT(members, self.pgd, over, loss))
            if strong and k:
                self.planned_evals.append(AutoAttackRand(members, self.pgd.eps, k))
            if strong and self.transfer_images:  # the strong attack crafted on each member, scored on every member
                extra = AttackSpec(self.profile.evaluation.strong_attack, eps=self.pgd.eps)
                for s in configs.values():
                    for t in configs.values():
                        self.planned_evals.append(Attacked(t, extra, s if s is not t else None, self.transfer_images))
        if self.dry_run:
            return {**{c: NAN for c in R2S_COLUMNS}, "matrix": matrix}
        result = self._r2s_result(configs, adaptive, strong)
        return {**result.row(), "matrix": result.matrix}

    @property
    def transfer_images(self) -> int:
        """Images of an R2S set's strong figure on which each member's AutoAttack examples are
        transferred to every member (0: not part of this profile's strong figure)."""
        ev = self.profile.evaluation
        return ev.strong_images if ev.strong_transfer else 0

    def _r2s_result(self, configs: dict[str, RunConfig], adaptive: bool = True, strong: bool = True):
        runs = {label: self.run(c) for label, c in configs.items()}
        k = self.profile.evaluation.aa_rand_images
        return evaluate_r2s(
            self.evaluator(),
            runs,
            self.pgd,
            adaptive=adaptive,
            strong_images=k if strong else None,
            transfer_images=self.transfer_images if adaptive and strong else 0,
        )

    # -- per image: which test images each model got right (for the paired noise model) ------
    def correct(
        self, config: RunConfig, attack: AttackSpec | None = None, source: RunConfig | None = None, n_test: int | None = None
    ) -> np.ndarray | None:
        """Per test image (the evaluated subset, in order), whether `config`'s run classifies the
        PGD-20 example (or `attack`'s, crafted on `source`) correctly; None in a dry run."""
        self.accuracy(config, attack, source, n_test)
        run, src = self.run(config), (self.run(source) if source is not None else None)
        if run is None:
            return None
        r = self.evaluator(n_test).evaluate(run, attack or self.pgd, src)
        return unpack_bits(r["correct"], r["n"])

    def strong_correct(self, config: RunConfig) -> np.ndarray | None:
        """Per test image, whether the example survives every attack of the strong figure."""
        r = self._strong(config)
        return None if self.dry_run else unpack_bits(r["correct"], r["n"])

    def matrix_correct(
        self, configs: dict[str, RunConfig], attack: AttackSpec | None = None
    ) -> dict[tuple[str, str], np.ndarray] | None:
        """Per (source, target) cell of the transfer matrix, per test image, whether the target
        classifies the source's PGD-20 example (or `attack`'s) correctly; None in a dry run."""
        self.matrix(configs, attack)
        if self.dry_run:
            return None
        cells = self.evaluator().transfer_cells({k: self.run(c) for k, c in configs.items()}, attack or self.pgd)
        return {k: unpack_bits(r["correct"], r["n"]) for k, r in cells.items()}

    def r2s_per_image(self, configs: dict[str, RunConfig]) -> dict[str, np.ndarray] | None:
        """R2S's expected correctness per test image: under the paper's protocol and under the
        strong figure (cached; computed like `r2s`)."""
        self.r2s(configs)
        if self.dry_run:
            return None
        result = self._r2s_result(configs)
        return {"protocol": result.protocol_per_image, "strong": result.strong_per_image}


# -- section knobs ------------------------------------------------------------------------


def networks_of(profile: Profile, networks) -> list[str]:
    archs = parse_list(networks, "networks") or list(profile.archs)
    for a in archs:
        check_arch(a)
        if a not in profile.archs:
            raise ConfigError(f"network {a!r} has no width in profile {profile.name!r} (it lists {sorted(profile.archs)})")
    return archs


def datasets_of(profile: Profile, datasets) -> list[str]:
    names = [canonical_name(d) for d in (parse_list(datasets, "datasets") or list(profile.datasets))]
    for d in names:
        check_dataset(d)
    return names


def panel_label(arch: str, dataset: str) -> str:
    return f"{ARCH_LABELS[arch]} @ {dataset_spec(dataset).label}"


def diag_gap(matrix: pd.DataFrame) -> tuple[float, float, float]:
    """(mean diagonal, mean off-diagonal, off minus diagonal) of a transfer matrix (NaN below 2 x 2)."""
    a = matrix.to_numpy(dtype=float)
    if a.shape[0] < 2:
        return NAN, NAN, NAN
    diag = float(np.mean(np.diag(a)))
    off = float(np.mean(a[~np.eye(len(a), dtype=bool)]))
    return diag, off, off - diag


def pct(r: float) -> str:
    return f"{r:g}%"
