"""Bad input and damaged stores: one clear line, a non-zero exit, nothing stored that is wrong."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def rst(*args, env=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "rstlib.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def _one_line(out):
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.parametrize("args,message", [
    (["eval", "--ratio", "10", "--eps", "nan"], "finite"),
    (["eval", "--ratio", "10", "--step", "inf"], "finite"),
    (["eval", "--ratio", "10", "--steps", "0"], "steps"),
    (["r2s", "--ratios", "7,,10"], "empty entry"),
    (["search", "--ratio", "nan"], "(0, 100]"),
])
def test_invalid_numbers_are_refused_before_anything_is_stored(tmp_path, args, message):
    out = rst(*args, "--profile", "smoke", "--device", "cpu", "--runs", str(tmp_path / "runs"))
    _one_line(out)
    assert message in out.stderr
    assert not (tmp_path / "runs").exists()


def test_compare_refuses_a_nan_tolerance(tmp_path):
    (tmp_path / "a").mkdir()
    out = rst("compare", str(tmp_path / "a"), "--runs", str(tmp_path / "a"), "--tolerance", "nan")
    _one_line(out)
    assert "tolerance" in out.stderr


@pytest.mark.parametrize("text,message", [("profiles:\n  laptop: [1\n", "not valid YAML at line"),
                                          ("something: else\n", "no 'profiles:' mapping")])
def test_a_malformed_config_file_is_named_in_one_line(tmp_path, text, message):
    bad = tmp_path / "bad.yml"
    bad.write_text(text)
    out = rst("search", "--ratio", "10", "--runs", str(tmp_path / "runs"), env={"RST_CONFIG": str(bad)})
    _one_line(out)
    assert message in out.stderr and str(bad) in out.stderr


def test_damaged_entries_are_listed_by_name_and_the_good_runs_still_show(tmp_path):
    runs = tmp_path / "runs"
    good = runs / "search-fashion_mnist-cnn_small-r10-s0-aaaaaaaaaaaa"
    good.mkdir(parents=True)
    (good / "config.json").write_text(json.dumps({"kind": "search", "dataset": "fashion_mnist", "arch": "cnn_small",
                                                  "ratio": 10.0, "seed": 0, "precision": "fp32",
                                                  "train": {"epochs": 3, "attack": "pgd"}}))
    (good / "metrics.json").write_text(json.dumps({"natural_acc": 50.0, "history": [{}, {}, {}]}))
    truncated = runs / "search-fashion_mnist-cnn_small-r30-s0-bbbbbbbbbbbb"
    truncated.mkdir()
    (truncated / "config.json").write_text('{"kind": "sea')
    no_state = runs / "dense-fashion_mnist-cnn_small-adv-s0-cccccccccccc"
    no_state.mkdir()
    (no_state / "config.json").write_text(json.dumps({"kind": "dense", "train": {"epochs": 2}}))
    (no_state / "status.json").write_text(json.dumps({"host": "x"}))
    out = rst("runs", "--runs", str(runs))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any("results-only" in line and "aaaaaaaaaaaa" in line for line in lines), out.stdout
    assert any("damaged" in line and "bbbbbbbbbbbb" in line for line in lines), out.stdout
    assert any("damaged" in line and "cccccccccccc" in line for line in lines), out.stdout
