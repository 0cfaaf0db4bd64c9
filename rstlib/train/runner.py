"""Load, resume or train: the one place that decides whether a run must be computed.

- `results(store, config, options)`: the run's results (metrics, cached evaluations). A run whose
  results are in the store, committed without weights included, is returned as it is: nothing
  is trained to read a number.
- `model_run(store, config, options)`: the run with its weights at hand, for a new evaluation.
  Missing weights are trained (parents first), a killed run resumes from its last checkpoint,
  and weights of committed results are retrained (CPU training is deterministic given the seed
  and the CPU's arithmetic, `rstlib.runtime.numerics`: where that matches the machine that trained them they
  come back with the recorded sha256 and the committed evaluations stay valid; elsewhere the run
  says so and its evaluations are recomputed where asked).
"""

from __future__ import annotations

import contextlib

from filelock import Timeout

from rstlib import data as datasets
from rstlib.config.profile import RunConfig
from rstlib.errors import RetrainedElsewhere
from rstlib.store.rundir import RunDir
from rstlib.store.runstore import RunStore
from rstlib.train.loop import RunOptions, announce, execute


def results(store: RunStore, config: RunConfig, options: RunOptions = RunOptions()) -> RunDir:
    """The finished run for `config`: loaded when its results are there, trained otherwise."""
    run = store.dir(config)
    if run.has_results():
        return run
    return model_run(store, config, options)


def model_run(store: RunStore, config: RunConfig, options: RunOptions = RunOptions()) -> RunDir:
    """The finished run for `config` with its weights (trained, resumed or retrained if absent)."""
    run = store.dir(config)
    if run.is_done():
        return run
    if config.parent is not None:  # a fine-tune or an RTT starts from its parent's weights
        model_run(store, config.parent, options)
    datasets.load(config.dataset, train=True)  # a missing dataset is said before the store is touched (cached)
    with _locked(run, options):
        if run.is_done():  # another process finished it while we waited
            return run
        if run.has_results():
            _refuse_a_known_mismatch(run)
            announce(
                options, f"{run.path.name}: results are in the store but not its weights; retraining them for a new evaluation"
            )
        execute(config, run, store, options)
    return run


def _refuse_a_known_mismatch(run: RunDir):
    """A run that was retrained on this machine's arithmetic to other weights than its recorded
    results (`RetrainedElsewhere`) would again: said at once, without training it again."""
    from rstlib.runtime import numerics

    status = run.status_record()
    if status.get("note") and status.get("retrained_here") == numerics.fingerprint():
        raise RetrainedElsewhere(status["note"])


@contextlib.contextmanager
def _locked(run: RunDir, options: RunOptions):
    """The run's lock; where another process holds it (the same run trained by a second command, a
    sweep's worker, a SLURM task), say so and who before waiting for it."""
    lock = run.lock()
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = run.status_record()
        who = f"pid {holder.get('pid')} on {holder.get('host')}" if holder.get("pid") else "another process"
        announce(
            options,
            f"waiting for {run.path.name}: {who} holds its lock (it is {holder.get('state', 'being written')}); "
            "this command goes on when that one finishes (Ctrl-C stops waiting)",
        )
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
