"""A run's identity and numerics never depend on the machine; committed results load without
weights and without training; running a page writes nothing that git tracks."""

import dataclasses
import json
import subprocess

import pytest
import torch
from conftest import ROOT, run_dir, tiny_profile

from rstlib.attacks.registry import AttackSpec
from rstlib.config.profile import ConfigError, load_profiles
from rstlib.config.settings import Precision
from rstlib.paper.plan import plan
from rstlib.paper.sections import Context
from rstlib.runtime import device as runtime_device
from rstlib.store.rundir import run_state
from rstlib.train import variants as ex
from rstlib.train.loop import RunOptions
from rstlib.train.runner import model_run

CPU = RunOptions(device="cpu", progress=False, announce=False)


def _plan_ids(profile):
    runs, evals, _ = plan(profile)
    # each request's own cache key, with every run named by its id (the weights do not exist yet)
    keys = [json.dumps(e.key(lambda c: c.run_id(), e.n_test), sort_keys=True) for e in evals]
    return sorted(runs), keys


@pytest.mark.parametrize("name", ["paper", "gpu-night", "laptop", "smoke"])
def test_every_planned_run_id_is_the_same_with_and_without_bf16_hardware(name, monkeypatch):
    profile = load_profiles()[name]
    monkeypatch.setattr(runtime_device, "bf16_supported", lambda device="auto": True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with_bf16 = _plan_ids(profile)
    monkeypatch.setattr(runtime_device, "bf16_supported", lambda device="auto": False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    without = _plan_ids(profile)
    assert with_bf16 == without and len(with_bf16[0]) > 5
    runs, _, _ = plan(profile)
    for config in runs.values():  # the profile states the precision of every kind; it is what the run records
        assert config.precision == profile.precision.of(config.kind)


def test_every_profile_states_one_precision_for_the_kinds_its_tables_compare():
    for name, profile in load_profiles().items():
        assert profile.precision.uniform() is not None, name
    assert load_profiles()["laptop"].precision.uniform() == "fp32"
    assert load_profiles()["smoke"].precision.uniform() == "fp32"


def test_precision_is_part_of_the_identity(smoke):
    fp32 = ex.search_config(smoke, "fashion_mnist", "cnn_small", 10)
    bf16 = ex.search_config(
        dataclasses.replace(smoke, precision=Precision("bf16", "bf16", "bf16", "bf16")), "fashion_mnist", "cnn_small", 10
    )
    assert fp32.run_id() != bf16.run_id() and "-bf16-" in bf16.run_id()


def test_bf16_on_hardware_without_it_is_refused_in_one_line(monkeypatch, capsys, tmp_path):
    from rstlib.cli.main import main

    monkeypatch.setattr(runtime_device, "bf16_supported", lambda device="auto": False)
    code = main(
        [
            "search",
            "--profile",
            "smoke",
            "--ratio",
            "10",
            "--precision",
            "bf16",
            "--device",
            "cpu",
            "--runs",
            str(tmp_path / "runs"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--precision bf16" in err and "no bf16" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_a_profile_without_a_precision_for_every_kind_is_refused(tmp_path):
    text = (
        (ROOT / "_config.yml")
        .read_text()
        .replace("    precision: {search: fp32, dense: fp32, finetune: fp32, rtt: fp32}\n", "", 1)
    )
    path = tmp_path / "config.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="state the precision of every training kind"):
        load_profiles(path)


def test_committed_results_without_weights_are_loaded_not_retrained(smoke, store, monkeypatch):
    """A fresh clone holds metrics.json and the evaluations, no weights: reading them trains nothing."""
    p = tiny_profile(smoke, epochs=1)
    config = ex.search_config(p, "fashion_mnist", "cnn_small", 10)
    ctx = Context(p, store, device="cpu", progress=False, announce=False)
    natural, robust = ctx.natural(config), ctx.accuracy(config)
    run = store.dir(config)
    run.model_path.unlink()
    import rstlib.train.loop

    monkeypatch.setattr(rstlib.train.loop, "_train", lambda *a, **k: pytest.fail("trained again"))
    again = Context(p, store, device="cpu", progress=False, announce=False)
    assert again.natural(config) == natural and again.accuracy(config) == robust
    check = Context(p, store, dry_run=True)
    check.accuracy(config)
    from rstlib.paper.plan import work_ahead

    ahead = work_ahead(p, store, planned=(check.planned_runs, check.planned_evals), device="cpu")
    assert ahead.nothing_to_compute and "nothing to compute" in ahead.report()
    # a new evaluation needs the weights: the bill says it will retrain them, and it does
    check.accuracy(config, AttackSpec("pgd20", eps=12, step=3, steps=2))
    ahead = work_ahead(p, store, planned=(check.planned_runs, check.planned_evals), device="cpu")
    assert ahead.to_retrain == [config.run_id()] and ahead.hours > 0 and "projected" in ahead.report()


def test_retraining_committed_results_keeps_the_recorded_metrics_byte_for_byte(smoke, store):
    config = ex.search_config(tiny_profile(smoke, epochs=1), "fashion_mnist", "cnn_small", 10)
    run = model_run(store, config, CPU)
    before = run.metrics_path.read_bytes()
    run.model_path.unlink()
    model_run(store, config, CPU)
    assert run.is_done() and run.metrics_path.read_bytes() == before


def test_page_records_are_deterministic_and_volatile_state_is_ignored_by_git(smoke, store, monkeypatch):
    from rstlib.book.pages import Page
    from rstlib.paper.sections.result import SectionResult

    page = Page("smoke", "cpu")
    page.ctx.store = store
    monkeypatch.delenv("RST_BOOK_BUILD", raising=False)  # a page run by hand: an untracked record
    page.record("secX", SectionResult())
    assert (store.root / "book" / "secX-smoke.local.json").is_file()
    assert not (store.root / "book" / "secX-smoke.json").exists()
    monkeypatch.setenv("RST_BOOK_BUILD", "1")  # as `make book` runs it
    page.record("secX", SectionResult())
    first = (store.root / "book" / "secX-smoke.json").read_bytes()
    page.record("secX", SectionResult())
    assert (store.root / "book" / "secX-smoke.json").read_bytes() == first
    assert (store.root / "book" / "secX-smoke.timing.json").is_file()
    for path in (
        "runs/some-run/status.json",
        "runs/book/sec6_r2s-laptop.timing.json",
        "runs/some-run/ckpt-0001.pt",
        "runs/some-run/ckpt-0001.pt.sha256",
        "runs/book/sec6_r2s-laptop.local.json",
        "runs/some-run/log.txt",
        "book/_build/src/intro.ipynb",
    ):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert ignored.returncode == 0, f"{path} is not ignored by git"
    tracked = subprocess.run(["git", "ls-files", "runs"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "status.json" not in tracked and ".timing.json" not in tracked


def test_importing_rstlib_pins_the_cpu_code_paths_and_leaves_a_users_choice():
    """The AVX2 paths of ATen, oneDNN and MKL (rstlib.runtime.numerics), set before torch computes."""
    import os
    import sys

    from rstlib.runtime.numerics import PINNED

    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    code = (
        "import rstlib, os, torch; torch.ones(2) @ torch.ones(2); print(os.environ['MKL_CBWR'], "
        "os.environ['ONEDNN_MAX_CPU_ISA'], torch.backends.cpu.get_cpu_capability())"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["AVX2", "AVX2"]
    if "avx2" in open("/proc/cpuinfo").read():  # an x86 CPU with AVX2: ATen's kernels take that path
        assert out[2] == "AVX2"
    mine = subprocess.run(
        [sys.executable, "-c", code], env={**env, "MKL_CBWR": "COMPATIBLE"}, capture_output=True, text=True, check=True
    ).stdout.split()
    assert mine[0] == "COMPATIBLE"


def test_a_committed_run_that_retrains_to_other_weights_keeps_its_numbers_and_says_so(runs, capsys, monkeypatch):
    """Weights name every cached evaluation: a retrain that does not reproduce the recorded sha256
    (another CPU's arithmetic) is refused in one line with both arithmetics; the committed numbers
    and evaluations stay byte for byte, the new weights are kept apart, and asking again on the same
    arithmetic says so at once instead of training again."""
    import json

    import rstlib
    from rstlib.errors import RetrainedElsewhere
    from rstlib.train import loop

    run = run_dir(runs, 30)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["cpu_numerics"]["MKL_CBWR"] == "AVX2" and metrics["cpu_numerics"]["torch"] == torch.__version__
    metrics["model_sha256"] = "0" * 64  # as if another machine had trained it
    metrics["cpu_numerics"] = {"aten_capability": "AVX512"}
    (run / "metrics.json").write_text(json.dumps(metrics))
    (run / "model.safetensors").unlink()

    def records():
        return {p.relative_to(runs).as_posix(): p.read_bytes() for p in runs.rglob("*.json") if p.name != "status.json"}

    before = records()
    with pytest.raises(RetrainedElsewhere, match="retrained to a different model than its recorded results") as refused:
        rstlib.load_model(run.name, store=runs)
    message = str(refused.value)
    assert "\n" not in message and "recorded 000000000000" in message and "AVX512" in message
    assert "recorded results and their cached evaluations are kept" in message
    assert records() == before  # metrics.json and every evaluation, byte for byte
    aside = list(run.glob("model.retrained-*.safetensors"))
    assert len(aside) == 1 and not (run / "model.safetensors").exists() and not list(run.glob("ckpt-*"))
    assert run_state(run) == "results-only"
    monkeypatch.setattr(loop, "_train", lambda *a, **k: pytest.fail("trained again"))
    with pytest.raises(RetrainedElsewhere, match="retrained to a different model"):
        rstlib.load_model(run.name, store=runs)
