"""What the book's pages ask for: the plan of every page (every run and evaluation, from the
sections' dry runs; what `rst plan`, `rst sweep` and the bill of work read). The intro's headline
claims C1-C3 at one seed are `rstlib.paper.headline`'s (re-exported here)."""
from __future__ import annotations

from typing import Sequence

from rstlib.config.profile import ConfigError, Profile, RunConfig
from rstlib.paper.context import Context, EvalRequest
from rstlib.paper.headline import HEADLINE_SEEDS, headline, headline_per_image  # noqa: F401 (the pages' API)
from rstlib.paper.sections import SECTIONS

PLANNABLE = (*SECTIONS, "intro", "scale")


def plan(profile: Profile, sections: Sequence[str] | None = None,
         seed: int = 0) -> tuple[dict[str, RunConfig], list[EvalRequest], dict[str, int]]:
    """Every run and evaluation the given sections need at `profile` (default knobs). `intro` is
    the intro page's headline claims over `HEADLINE_SEEDS`, `scale` the scale page's ladder (the
    one named after the profile, where there is one); no sections given = every page."""
    sections = list(sections or PLANNABLE)
    for s in sections:
        if s not in PLANNABLE:
            raise ConfigError(f"unknown section {s!r}; choose from {sorted(PLANNABLE)}")
    runs: dict[str, RunConfig] = {}
    evals: list[EvalRequest] = []
    per_section = {}
    for s in sections:
        ctx = Context(profile, dry_run=True, seed=seed)
        if s == "intro":
            for headline_seed in HEADLINE_SEEDS:
                ctx.seed = headline_seed
                headline(ctx)
        elif s == "scale":
            from rstlib.paper import scale  # the scale page: the profile's ladder, where it has one
            ladder = scale.ladder_for(profile)
            if ladder is not None:
                ladder_runs, ladder_evals = scale.plan(ladder)
                ctx.planned_runs.update(ladder_runs)
                ctx.planned_evals += ladder_evals
        else:
            SECTIONS[s](ctx)
        per_section[s] = len(ctx.planned_runs)
        runs.update(ctx.planned_runs)
        evals += ctx.planned_evals
    return runs, evals, per_section
