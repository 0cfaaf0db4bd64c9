"""Sweeps: the run list, the local executor, bad input; and, where SLURM runs (after
`bash scripts/slurm_single_node.sh`), a real sweep through submitit (`pytest -m slurm`)."""

import shutil
import subprocess
import time

import pytest
from conftest import tiny_profile

from rstlib.config.profile import ConfigError
from rstlib.paper.plan import plan
from rstlib.paper.sweep import parse_time_limit, sweep, waves
from rstlib.store.runstore import RunStore
from rstlib.train import variants as ex


def _slurm_up() -> bool:
    """sbatch on PATH and a controller that answers with a usable node."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return False
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and any(s in out.stdout for s in ("idle", "mixed", "alloc"))


HAS_SBATCH = shutil.which("sbatch") is not None
HAS_SLURM = _slurm_up()
slurm = pytest.mark.skipif(
    not HAS_SLURM,
    reason="no running SLURM here (sinfo absent or no controller); start one with `bash scripts/slurm_single_node.sh`",
)


def test_dry_run_lists_every_run_and_submits_nothing(smoke, tmp_path):
    store = RunStore(tmp_path / "runs")
    report = sweep(smoke, ["sec5", "sec6"], dry_run=True, store=store)
    runs, _, _ = plan(smoke, ["sec5", "sec6"])
    assert report.total == len(runs) and report.cached == 0 and report.hours > 0
    assert not store.root.exists()


def test_waves_put_parents_first(smoke):
    runs, _, _ = plan(smoke, ["sec4"])
    seen = set()
    for wave in waves(runs):
        for c in wave:
            assert c.parent is None or c.parent.run_id() in seen
        seen |= {c.run_id() for c in wave}
    assert seen == set(runs)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"sections": ["sec42"]}, "unknown section"),
        ({"max_parallel": 0}, "max-parallel"),
        ({"executor": "kubernetes"}, "unknown executor"),
        ({"time_limit": "soon"}, "time limit"),
    ],
)
def test_bad_sweep_input_is_refused_before_anything_runs(smoke, tmp_path, kwargs, message):
    store = RunStore(tmp_path / "runs")
    with pytest.raises(ConfigError, match=message):
        sweep(smoke, **{"sections": ["sec6"], **kwargs}, store=store)
    assert not store.root.exists()


@pytest.mark.skipif(HAS_SBATCH, reason="sbatch is present here")
def test_slurm_without_sbatch_is_refused(smoke, tmp_path):
    with pytest.raises(ConfigError, match="sbatch"):
        sweep(smoke, ["sec6"], executor="slurm", store=RunStore(tmp_path / "runs"))


def test_time_limits():
    assert parse_time_limit("12h") == 720 and parse_time_limit("90m") == 90 and parse_time_limit("1h30m") == 90


def _four_runs(smoke):
    p = tiny_profile(smoke, epochs=2)
    return {
        c.run_id(): c for c in (ex.search_config(p, "fashion_mnist", "cnn_small", r, seed=s) for r in (10, 30) for s in (0, 1))
    }


def _results(store, runs):
    return {rid: [h["test_natural_acc"] for h in store.dir(c).metrics()["history"]] for rid, c in runs.items()}


def test_local_executor_runs_the_list_and_a_second_sweep_finds_it_done(smoke, tmp_path):
    runs = _four_runs(smoke)
    store = RunStore(tmp_path / "runs")
    report = sweep(smoke, executor="local", max_parallel=2, store=store, runs=runs, device="cpu")
    assert len(report.submitted) == 4 and all(store.dir(c).is_done() for c in runs.values())
    again = sweep(smoke, executor="local", max_parallel=2, store=store, runs=runs, device="cpu")
    assert again.cached == 4 and not again.submitted


@slurm
@pytest.mark.slurm
def test_slurm_sweep_matches_the_local_executor(smoke, tmp_path):
    runs = _four_runs(smoke)
    local, remote = RunStore(tmp_path / "local"), RunStore(tmp_path / "slurm")
    sweep(smoke, executor="local", max_parallel=2, store=local, runs=runs, device="cpu")
    t = time.time()
    report = sweep(
        smoke,
        executor="slurm",
        max_parallel=2,
        gpus_per_job=0,
        time_limit="20m",
        store=remote,
        runs=runs,
        wait=True,
        device="cpu",
    )
    print(f"SLURM job ids {report.job_ids}, {len(report.submitted)} runs, {time.time() - t:.1f} s")
    assert report.job_ids and len(report.submitted) == 4
    assert _results(remote, runs) == _results(local, runs)


@slurm
@pytest.mark.slurm
def test_cancelled_slurm_job_is_resumed_by_the_next_sweep(smoke, tmp_path):
    p = tiny_profile(smoke, epochs=6, n_train=2048)
    config = ex.search_config(p, "fashion_mnist", "cnn_small", 20)
    runs = {config.run_id(): config}
    store = RunStore(tmp_path / "runs")
    report = sweep(smoke, executor="slurm", gpus_per_job=0, time_limit="20m", store=store, runs=runs)
    run = store.dir(config)
    deadline = time.time() + 240
    while not list(run.path.glob("ckpt-*.pt.sha256")):
        assert time.time() < deadline, "no checkpoint appeared"
        time.sleep(0.1)
    subprocess.run(["scancel", report.job_ids[0]], check=True)
    while subprocess.run(["squeue", "-h", "-j", report.job_ids[0]], capture_output=True, text=True).stdout.strip():
        time.sleep(0.5)
    assert not run.is_done()
    print(f"cancelled job {report.job_ids[0]} after {len(run.checkpoints())} checkpoint(s); state {run.status()}")
    again = sweep(smoke, executor="slurm", gpus_per_job=0, time_limit="20m", store=store, runs=runs, wait=True)
    print(f"resumed by job {again.job_ids}")
    assert run.is_done() and "resumed after epoch" in run.log_path.read_text()


def test_a_sweeps_evaluation_task_takes_the_profile_object_not_its_name(smoke, tmp_path):
    """A profile edited in Python (no entry of that name in _config.yml) reaches the evaluation
    task as it is: the task never reloads it by name. The scale page's task finds no ladder for it."""
    import dataclasses

    from rstlib.paper.sweep import SectionTask

    edited = dataclasses.replace(smoke, name="edited-in-python")
    assert SectionTask()("scale", edited, str(tmp_path / "runs"), 0, "cpu") == {"section": "scale", "points": 0}
