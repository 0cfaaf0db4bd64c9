"""The store's JSON files: atomic writes (never half a file), and records read with their
schema checked (fields, types, ranges), so that a file that parses but is wrong is named as damaged
instead of breaking a listing or becoming a number."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable

from rstlib.config.profile import RunConfig
from rstlib.store.files import TEMPORARY
from rstlib.store.reading import RECORD_BYTES, UnreadableEntry, read_store_file

METRICS_FIELDS = ("natural_acc", "history")  # what every finished run's metrics.json holds


def atomic_write_bytes(path: Path, data: bytes):
    """Write `data` to `path` so that `path` is either its old content or the new one, never a
    part: a temporary file, fsync'd, then renamed. On failure (a full disk, a kill by
    KeyboardInterrupt) the temporary file is removed and the error raised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(TEMPORARY.format(name=path.name, pid=os.getpid()))
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError) and e.filename is None:
            e.filename = str(path)  # a full disk says which file it could not write
        raise


def atomic_write_json(path: Path, obj: Any):
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


class DamagedFile(ValueError):
    """A file of the store that does not parse or does not belong where it is."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path} is damaged ({reason}); `rst runs --repair` sets it aside")
        self.path, self.reason = path, reason


def read_json(path: Path) -> Any:
    """The JSON content of a store file; a truncated or garbage file, or one that is not a regular
    file of the store (`rstlib.store.reading`), raises DamagedFile naming it."""
    try:
        return json.loads(read_store_file(path, RECORD_BYTES).decode())
    except UnreadableEntry as e:
        raise DamagedFile(path, str(e)) from None
    except UnicodeDecodeError:
        raise DamagedFile(path, "not text") from None
    except json.JSONDecodeError as e:
        raise DamagedFile(path, f"not valid JSON: {e.msg} at line {e.lineno}") from None


def record_problem(path: Path, kind: str) -> str | None:
    """Why `path` is not a readable record of `kind` (see RECORDS; None: it is)."""
    try:
        read_record(path, kind)
    except DamagedFile as e:
        return e.reason
    except OSError as e:
        return e.strerror or str(e)
    return None


def _is_percent(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 100


def _config_shape(obj: dict) -> str | None:
    try:
        RunConfig.from_dict(obj)
    except (TypeError, KeyError, ValueError, AttributeError) as e:
        return f"not a run config ({type(e).__name__}: {str(e)[:120]})"
    return None


def _metrics_shape(obj: dict) -> str | None:
    if not _is_percent(obj["natural_acc"]):
        return f"natural_acc {obj['natural_acc']!r} is not an accuracy in [0, 100]"
    return None if isinstance(obj["history"], list) else "history is not a list"


def _eval_shape(obj: dict) -> str | None:
    if not isinstance(obj["key"], dict) or not isinstance(obj["result"], dict):
        return "key and result must be JSON objects"
    result = obj["result"]
    if "acc" in result and not _is_percent(result["acc"]):
        return f"accuracy {result['acc']!r} is not in [0, 100]"
    n = result.get("n", 0)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        return f"image count {n!r} is not a whole number"
    if "correct" in result:
        return _outcomes_problem(result, n)
    return None


def _outcomes_problem(result: dict, n: int) -> str | None:
    """An evaluation's per-image outcomes (`correct`: packed bits, evaluator.pack_bits) must hold
    `n` images and their mean must be its accuracy: a record edited in one place contradicts itself."""
    bits = result["correct"]
    if not isinstance(bits, str) or len(bits) != 2 * ((n + 7) // 8):
        return f"its per-image outcomes do not hold its {n} images"
    try:
        flags = bytes.fromhex(bits)
    except ValueError:
        return "its per-image outcomes are not hex"
    right = sum(bin(b).count("1") for b in flags)  # the padding bits of pack_bits are zero
    if "acc" in result and n and abs(100.0 * right / n - result["acc"]) > 1e-6:
        return f"accuracy {result['acc']!r} is not the mean of its per-image outcomes ({100.0 * right / n:.2f})"
    return None


def _status_shape(obj: dict) -> str | None:
    return None if isinstance(obj["state"], str) else "state is not a string"


# every JSON record of the store: the fields it must hold and the check of their types and ranges
RECORDS: dict[str, tuple[tuple[str, ...], Callable[[dict], str | None]]] = {
    "config": (("kind", "train"), _config_shape),
    "metrics": (METRICS_FIELDS, _metrics_shape),
    "evaluation": (("key", "result"), _eval_shape),
    "status": (("state",), _status_shape),
}


def read_record(path: Path, kind: str) -> dict:
    """A store record of `kind` (config, metrics, evaluation, status): a JSON object with its
    fields, of the right types and in range (accuracies in [0, 100]); DamagedFile otherwise."""
    fields, shape = RECORDS[kind]
    obj = read_json(path)
    if not isinstance(obj, dict):
        raise DamagedFile(path, "not a JSON object")
    missing = [f for f in fields if f not in obj]
    if missing:
        raise DamagedFile(path, f"no {', '.join(repr(m) for m in missing)}")
    problem = shape(obj)
    if problem:
        raise DamagedFile(path, problem)
    return obj
