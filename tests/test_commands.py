"""Every `rst` command's success path, run to its end at the smoke profile as a user types it,
with assertions on what it prints. The commands share one run store (built once per session):
later commands load what earlier ones trained, as on a user's machine."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT


def rst(*args, runs, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "rstlib.cli.main", *args, "--runs", str(runs)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    if check:
        assert out.returncode == 0, f"rst {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
        assert "Traceback" not in out.stderr, out.stderr
    return out


COMMON = ("--profile", "smoke", "--device", "cpu", "--no-progress")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A store with an RST (10%, 30%), the dense adversarial net, a fine-tune and an RTT, each
    trained by its own command."""
    root = tmp_path_factory.mktemp("commands") / "runs"
    outputs = {}
    outputs["search"] = rst("search", *COMMON, "--ratio", "10", runs=root)
    outputs["search30"] = rst("search", *COMMON, "--ratio", "30", runs=root)
    outputs["train"] = rst("train", *COMMON, runs=root)
    outputs["finetune"] = rst("finetune", *COMMON, "--ratio", "10", "--weights", "reinit", runs=root)
    outputs["rtt"] = rst("rtt", *COMMON, "--ratio", "10", runs=root)
    return root, outputs


def test_training_commands_train_and_say_where_the_results_are(runs):
    root, outputs = runs
    for name, prefix in (
        ("search", "search-fashion_mnist-cnn_small-r10-s0-"),
        ("train", "dense-fashion_mnist-cnn_small-adv-s0-"),
        ("finetune", "finetune-fashion_mnist-cnn_small-r10-reinit-s0-"),
        ("rtt", "rtt-fashion_mnist-cnn_small-r10-from-adv-s0-"),
    ):
        out = outputs[name]
        assert prefix in out.stdout and "(to train)" in out.stdout, out.stdout
        assert "natural accuracy" in out.stdout and f"results in {root}" in out.stdout
        assert f"train {prefix}" in out.stderr and "done " in out.stderr  # progress lines on stderr
    # the fine-tune started from the RST that `search` trained: no second search
    assert outputs["finetune"].stderr.count("train search-") == 0


def test_a_finished_run_is_loaded_not_trained_again(runs):
    root, _ = runs
    again = rst("search", *COMMON, "--ratio", "10", runs=root)
    assert "(in the store)" in again.stdout and "train search" not in again.stderr


@pytest.mark.parametrize(
    "attack,extra",
    [
        ("clean", []),
        ("pgd20", []),
        ("pgd20-last", []),
        ("pgd20-margin", []),
        ("cw-l2", []),
        ("cw-inf", []),
        ("autoattack", []),
        ("apgd-t", []),
        ("apgd-ce", []),
        ("bandits", ["--queries", "20"]),
    ],
)
def test_eval_with_each_attack_prints_the_accuracy_and_caches_it(runs, attack, extra):
    root, _ = runs
    args = ("eval", *COMMON, "--ratio", "10", "--attack", attack, "--n-test", "8", *extra)
    out = rst(*args, runs=root)
    assert "accuracy" in out.stdout and "on 8 test images" in out.stdout, out.stdout
    cached = rst(*args, runs=root)  # the second call reads the cache: same line
    assert cached.stdout.splitlines()[-2] == out.stdout.splitlines()[-2]


def test_eval_of_a_dense_run_and_of_each_kind(runs):
    root, _ = runs
    for kind in ("dense", "finetune", "rtt"):
        out = rst("eval", *COMMON, "--kind", kind, "--ratio", "10", "--n-test", "8", runs=root)
        assert "pgd20@24/255: accuracy" in out.stdout, out.stdout


def test_r2s_adaptive_prints_the_matrix_the_baseline_and_every_attack(runs):
    root, _ = runs
    out = rst("r2s", *COMMON, "--ratios", "10,30", "--adaptive", "--n-test", "16", runs=root)
    text = out.stdout
    assert "transfer matrix" in text and "dense adversarial baseline" in text
    assert "R2S {10%, 30%}" in text and "paper protocol" in text and "adaptive EOT loss" in text
    assert "EOT logits" in text


def test_runs_lists_every_run_as_a_table_with_filters_and_json(runs):
    root, _ = runs
    out = rst("runs", runs=root)
    lines = out.stdout.splitlines()
    assert lines[0].split()[:5] == ["profile", "kind", "variant", "dataset", "arch"] and "precision" in lines[0]
    for kind, variant in (("search", "-"), ("dense", "adv"), ("finetune", "reinit"), ("rtt", "from adv")):
        assert any(line.split()[:2] == ["smoke", kind] and variant in line and " done " in line for line in lines[1:]), out.stdout
    ratios = [float(line.split()[5]) for line in lines[1:] if line.split()[1] == "search"]
    assert ratios == sorted(ratios) == [10.0, 30.0]  # numbers, not text
    only = rst("runs", "--kind", "rtt", runs=root).stdout.splitlines()
    assert len(only) == 3 and only[1].split()[1] == "rtt"  # header, the one RTT, the count line
    records = [json.loads(line) for line in rst("runs", "--json", runs=root).stdout.splitlines()]
    assert {r["kind"] for r in records} == {"search", "dense", "finetune", "rtt"}
    assert all(r["precision"] == "fp32" and r["state"] == "done" for r in records)


def test_plan_prints_a_nonzero_projection_for_the_laptop():
    out = subprocess.run(
        [sys.executable, "-m", "rstlib.cli.main", "plan", "--profile", "laptop"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "training runs" in out.stdout and "0.0 device-hours" not in out.stdout
    assert "device-seconds" in out.stdout or "device-minutes" in out.stdout or "device-hours" in out.stdout


def test_sweep_dry_run_lists_what_is_cached_and_what_will_be_computed(runs):
    root, _ = runs
    out = rst("sweep", "--profile", "smoke", "--sections", "sec7", "--dry-run", "--device", "cpu", runs=root)
    assert "distinct runs" in out.stdout and "dry run: nothing submitted" in out.stdout
    assert "training runs" in out.stdout and "evaluations" in out.stdout and "projected" in out.stdout
    assert "device-" in out.stdout


def test_the_readme_paper_dry_run_answers_at_once_on_a_cpu(tmp_path):
    """`rst sweep --profile paper --all --dry-run` (the README's line) times nothing: it lists the
    runs with the FLOP-based device-hours. The limit guards against a hang (it once timed
    ResNet-18 and WRN-34-10 steps on the CPU for 13 minutes); it is not a benchmark."""
    import time

    t = time.time()
    out = rst("sweep", "--profile", "paper", "--all", "--dry-run", runs=tmp_path / "runs")
    assert time.time() - t < 120
    assert "timing one" not in out.stderr  # nothing was timed
    assert "326 distinct runs" in out.stdout and "device-hours (rst plan, FLOP-based)" in out.stdout
    assert "projected: about" in out.stdout and "FLOP-based" in out.stdout
    assert not (tmp_path / "runs").exists()  # a dry run writes nothing


def test_a_measured_dry_run_times_each_network_within_its_budget():
    from rstlib.config.profile import load_profile
    from rstlib.paper import plan

    lines = []
    p = load_profile("paper")
    runs_, evals, per = plan.plan(p, ["sec6"])
    projection = plan.project(
        p, planned=(runs_, evals, per), measure=True, device="cpu", quick=True, budget_s=0.0, say=lines.append
    )
    assert len(lines) == 1 and lines[0].startswith("timing one")  # one network timed, then the budget was spent
    assert "past the 0 s timing budget priced by FLOPs" in projection.basis and projection.total_hours > 0


def test_an_evaluation_the_pages_ask_for_twice_is_priced_once():
    from rstlib.config.profile import load_profile
    from rstlib.paper import plan

    p = load_profile("laptop")
    runs_, evals, per = plan.plan(p, ["sec6"])
    assert len(plan.distinct(evals)) < len(evals)  # the pages do ask twice (accuracy and per-image results)
    once = plan.project(p, planned=(runs_, evals, per))
    twice = plan.project(p, planned=(runs_, evals + evals, per))
    assert once.evaluations == twice.evaluations == len(plan.distinct(evals))
    assert once.eval_hours == pytest.approx(twice.eval_hours) and once.eval_hours > 0


def test_local_sweep_shows_progress_and_then_everything_is_cached(runs):
    root, _ = runs
    out = rst(
        "sweep",
        "--profile",
        "smoke",
        "--sections",
        "sec7",
        "--executor",
        "local",
        "--max-parallel",
        "1",
        "--device",
        "cpu",
        runs=root,
    )
    assert "local sweep:" in out.stdout and "start rtt-" in out.stdout and "runs" in out.stdout
    assert "evaluations of sec7 done: 1/1 tasks" in out.stdout, out.stdout
    again = rst("sweep", "--profile", "smoke", "--sections", "sec7", "--dry-run", "--device", "cpu", runs=root)
    assert "nothing to compute" in again.stdout, again.stdout


def test_compare_a_store_with_itself_and_with_a_changed_copy(runs, tmp_path):
    root, _ = runs
    same = rst("compare", str(root), runs=root)
    assert same.stdout.strip().splitlines()[-1] == "reproduced", same.stdout
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("*.pt", "*.lock"))
    metrics = next(copy.glob("search-*/metrics.json"))
    m = json.loads(metrics.read_text())
    m["natural_acc"] += 1.0
    metrics.write_text(json.dumps(m))
    changed = rst("compare", str(root), runs=copy, check=False)
    assert changed.returncode == 1 and "natural_acc" in changed.stdout
    assert changed.stdout.strip().splitlines()[-1] == "NOT reproduced"
