"""Numbers and lists that users type (CLI flags, papermill parameters, `_config.yml`), checked
and parsed in one place: remaining ratios, ratio lists, candidate sets."""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, cast

from rstlib.errors import ConfigError


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    whole: bool = False,
) -> float | int:
    """`value` as a finite number (a whole one with `whole`) with `minimum <= value`,
    `above < value`, `value <= maximum`; ConfigError naming `name` otherwise. NaN, infinities,
    booleans and strings are refused: nothing invalid reaches a run's identity or a cache key."""
    kind = "a whole number" if whole else "a finite number"
    if minimum is not None and maximum is not None:
        bounds = [f"from {_shown(minimum)} to {_shown(maximum)}"]
    else:
        bounds = [f">= {_shown(minimum)}" if minimum is not None else "", f"<= {_shown(maximum)}" if maximum is not None else ""]
    bounds.insert(0, f"> {_shown(above)}" if above is not None else "")
    wanted = " ".join([kind, " and ".join(b for b in bounds if b)]).strip()
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and whole:
        ok = float(value).is_integer()
    if ok:
        ok = (minimum is None or value >= minimum) and (above is None or value > above) and (maximum is None or value <= maximum)
    if not ok:
        raise ConfigError(f"{name} must be {wanted}, got {value!r}")
    return int(value) if whole else value


def _shown(bound: float) -> str:
    """A bound as a person writes it: 10,000 rather than 1e+04."""
    return f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"


def check_ratio(ratio_pct: float) -> float:
    """A remaining ratio in percent must lie in (0, 100] (a boolean is not a ratio, though Python
    counts True as 1)."""
    try:
        if isinstance(ratio_pct, bool):
            raise TypeError
        r = float(ratio_pct)
        if not math.isfinite(r):
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"remaining ratio must be a number in (0, 100], got {ratio_pct!r}") from None
    if not 0 < r <= 100:
        raise ConfigError(f"remaining ratio must be in (0, 100] percent, got {ratio_pct}")
    return r


def parse_list(value, name: str, item: Callable[[Any], Any] = str) -> list | None:
    """A list parameter given as a list, as the string '[7,10,15]' (papermill's -p), or '7,10,15'."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        parts = [p.strip().strip("'\"") for p in text.split(",")]
        if len(parts) > 1 and not all(parts):
            raise ConfigError(f"parameter {name!r} has an empty entry: {value!r}")
        value = [p for p in parts if p]
    elif not isinstance(value, (list, tuple)):
        value = [value]
    if not value:
        raise ConfigError(f"parameter {name!r} is empty")
    try:
        return [item(v) for v in value]
    except (TypeError, ValueError) as e:
        raise ConfigError(f"parameter {name!r} has a bad entry: {e}") from None


def parse_ratios(value, name: str = "ratios") -> list[float] | None:
    ratios = parse_list(value, name, check_ratio)
    if ratios is not None and len(set(ratios)) != len(ratios):
        raise ConfigError(f"parameter {name!r} repeats a ratio: {ratios}")
    return ratios


def parse_candidate_sets(value, name: str = "candidate_sets") -> list[list[float]] | None:
    """[[3,5],[7,10]] or '[[3,5],[7,10]]' or '3,5;7,10'."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[["):
            groups = [g for g in text[1:-1].replace("],", "];").split(";")]
        else:
            groups = text.split(";")
        return [cast(list[float], parse_ratios(g, name)) for g in groups if g.strip()]  # a non-empty group: a list
    if any(not isinstance(g, (list, tuple, str)) for g in value):  # [10, 30] is one set, not two sets of one
        raise ConfigError(f"parameter {name!r} is a list of candidate sets, e.g. [[3, 5, 7, 10], [7, 10, 15]]; got {value!r}")
    return [cast(list[float], parse_ratios(g, name)) for g in value]
