"""rst-repro: the supplement of "Drawing Robust Scratch Tickets" (Fu et al., NeurIPS 2021), reproduced.

Explore results from Python (committed results load without weights and without training):

    import rstlib
    df = rstlib.results()                                  # every run and evaluation of ./runs, one table
    profile = rstlib.load_profile("laptop")                # the settings of a profile (_config.yml)
    ctx = rstlib.Context(profile)                          # what the book's pages use
    rst = rstlib.search_config(profile, "fashion_mnist", "cnn_small", ratio=10)
    ctx.accuracy(rst), ctx.strong(rst)                     # PGD-20 (the paper's) and the strong figure, cached
    ctx.r2s({f"{r}%": rstlib.search_config(profile, "fashion_mnist", "cnn_small", r) for r in (7, 10, 15)})

A number that is not in the store is computed (a run trained, with progress lines on stderr) and
cached. Attack budgets come from the profile in use (`rstlib.AttackSpec.pgd20(profile.evaluation)`).
The command line is `rst` (`rst --help`); the book is `make book`.
"""
from rstlib.config import ConfigError, Profile, RunConfig, load_profile, load_profiles
from rstlib.context import Context
from rstlib.evaluation import AttackSpec, Evaluator
from rstlib.experiments import dense_config, finetune_config, rtt_config, search_config
from rstlib.r2s import R2S, evaluate_r2s
from rstlib.results import results, runs_table
from rstlib.store import RunStore

__all__ = ["AttackSpec", "ConfigError", "Context", "Evaluator", "Profile", "R2S", "RunConfig", "RunStore",
           "dense_config", "evaluate_r2s", "finetune_config", "load_profile", "load_profiles", "results",
           "rtt_config", "runs_table", "search_config"]
