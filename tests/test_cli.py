import os
import subprocess
import sys

import pytest
from conftest import ROOT


def rst(*args, runs):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "rstlib.cli.main", *args, "--runs", str(runs)], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_search_end_to_end_prints_where_results_are(tmp_path):
    """Progress bars are left on (no --no-progress), but stderr is a pipe: plain lines, no bar redraws."""
    out = rst(
        "search", "--profile", "smoke", "--dataset", "fashion-mnist", "--ratio", "10", "--device", "cpu", runs=tmp_path / "runs"
    )
    assert out.returncode == 0, out.stderr
    assert "results in" in out.stdout and str(tmp_path / "runs") in out.stdout
    assert "\r" not in out.stderr and "epoch 1/" in out.stderr
    listing = rst("runs", runs=tmp_path / "runs")
    row = listing.stdout.splitlines()[1].split()
    assert row[:2] == ["smoke", "search"] and "done" in row and row[-1] in out.stdout  # the id's hash


@pytest.mark.parametrize(
    "args,message",
    [
        (["search", "--ratio", "0"], "(0, 100]"),
        (["search", "--ratio", "150"], "(0, 100]"),
        (["search", "--ratio", "5", "--arch", "vgg"], "unknown arch"),
        (["search", "--ratio", "5", "--dataset", "mnist3d"], "unknown dataset"),
        (["search", "--ratio", "5", "--profile", "huge"], "unknown profile"),
        (["search", "--ratio", "5", "--init", "zeros"], "unknown init"),
        (["search", "--ratio", "5", "--device", "tpu"], "unknown device"),
        (["train", "--device", "cuda"], "CUDA is not available"),
        (["search"], "--ratio is required"),
        (["eval", "--ratio", "5", "--eps", "-1"], "from 0 to 255"),
        (["eval", "--ratio", "5", "--attack", "deepfool"], "unknown attack"),
        (["r2s", "--ratios", "0,5"], "(0, 100]"),
        (["r2s", "--ratios", "5,150"], "(0, 100]"),
    ],
)
def test_bad_input_gets_one_clear_line_and_leaves_the_store_untouched(tmp_path, args, message):
    if "cuda" in args:
        import torch

        if torch.cuda.is_available():
            pytest.skip("CUDA present")
    out = rst(
        *args,
        "--profile" if "--profile" not in args else "--seed",
        "smoke" if "--profile" not in args else "0",
        runs=tmp_path / "runs",
    )
    assert out.returncode != 0
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()
