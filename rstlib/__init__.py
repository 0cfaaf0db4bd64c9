"""rst-repro: the supplement of "Drawing Robust Scratch Tickets" (Fu et al., NeurIPS 2021), reproduced.

Explore results from Python (committed results load without weights and without training):

    import rstlib
    df = rstlib.results()                                  # every run and evaluation of ./runs, one table
    rstlib.results(kind="search", attack="pgd20", white_box=True)   # one row per run: the PGD-20 figure
    profile = rstlib.load_profile("laptop")                # the settings of a profile (_config.yml)
    ctx = rstlib.Context(profile)                          # what the book's pages use
    rst = rstlib.search_config(profile, "fashion_mnist", "cnn_small", ratio=10)
    ctx.accuracy(rst), ctx.strong(rst)                     # PGD-20 (the paper's) and the strong figure, cached
    ctx.r2s({f"{r}%": rstlib.search_config(profile, "fashion_mnist", "cnn_small", r) for r in (7, 10, 15)})

Attack a model with your own code, or any classifier with ours:

    model = rstlib.load_model(profile="laptop", ratio=10)  # nn.Module on [0, 1] inputs, eval mode
    images = rstlib.test_images("fashion_mnist", n=500)    # the book's attacked test subset
    rstlib.evaluate(model, "autoattack", images, eps=8)    # any of our attacks on any nn.Module

A number that is not in the store is computed (a run trained, with progress lines on stderr) and
cached. Attack budgets come from the profile in use (`rstlib.AttackSpec.pgd20(profile.evaluation)`).
The command line is `rst` (`rst --help`); the book is `make book`.

`import rstlib` is light: torch, pandas and the rest load when a name is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rstlib.runtime import numerics

numerics.pin()  # before torch computes anything: CPU runs give the same weights on any x86-64 machine

# public name -> the module that defines it (imported on first use, PEP 562)
_EXPORTS = {
    "AttackSpec": "rstlib.attacks.registry",
    "Evaluator": "rstlib.evaluation.evaluator",
    "ConfigError": "rstlib.errors",
    "Profile": "rstlib.config.profile",
    "RunConfig": "rstlib.config.profile",
    "load_profile": "rstlib.config.profile",
    "load_profiles": "rstlib.config.profile",
    "Context": "rstlib.paper.context",
    "dense_config": "rstlib.train.variants",
    "finetune_config": "rstlib.train.variants",
    "rtt_config": "rstlib.train.variants",
    "search_config": "rstlib.train.variants",
    "R2S": "rstlib.nets.switch",
    "evaluate_r2s": "rstlib.evaluation.r2s",
    "results": "rstlib.results_table",
    "runs_table": "rstlib.results_table",
    "RunStore": "rstlib.store.runstore",
    "load_model": "rstlib.evaluation.zoo",
    "load_r2s": "rstlib.evaluation.zoo",
    "evaluate": "rstlib.evaluation.zoo",
    "test_images": "rstlib.evaluation.zoo",
    "summary": "rstlib.evaluation.zoo",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from rstlib.attacks.registry import AttackSpec  # noqa: F401
    from rstlib.config.profile import Profile, RunConfig, load_profile, load_profiles  # noqa: F401
    from rstlib.errors import ConfigError  # noqa: F401
    from rstlib.evaluation.evaluator import Evaluator  # noqa: F401
    from rstlib.evaluation.r2s import evaluate_r2s  # noqa: F401
    from rstlib.evaluation.zoo import evaluate, load_model, load_r2s, summary, test_images  # noqa: F401
    from rstlib.nets.switch import R2S  # noqa: F401
    from rstlib.paper.context import Context  # noqa: F401
    from rstlib.results_table import results, runs_table  # noqa: F401
    from rstlib.store.runstore import RunStore  # noqa: F401
    from rstlib.train.variants import dense_config, finetune_config, rtt_config, search_config  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rstlib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
