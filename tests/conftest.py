"""Shared fixtures: the smoke profile, a throw-away run store, tiny real Fashion-MNIST data."""

import dataclasses
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("RST_DATA", str(ROOT / "data"))
os.environ.setdefault("RST_CONFIG", str(ROOT / "_config.yml"))


@pytest.fixture(scope="session")
def smoke():
    from rstlib.config.profile import load_profile

    return load_profile("smoke")


@pytest.fixture(scope="session")
def finished(tmp_path_factory) -> Path:
    """A smoke store trained once per session by the CLI: RST@10% with its PGD-20 evaluation, and
    RST@30%. Tests copy it (or only read it)."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("finished") / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["search", "--ratio", "10"], ["eval", "--ratio", "10"], ["search", "--ratio", "30"]):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "rstlib.cli.main",
                *args,
                "--profile",
                "smoke",
                "--device",
                "cpu",
                "--no-progress",
                "--runs",
                str(root),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=600,
        )
        assert out.returncode == 0, out.stderr
    return root


@pytest.fixture
def runs(finished, tmp_path) -> Path:
    """A copy of the session's smoke store, for a test to change."""
    import shutil

    copy = tmp_path / "runs"
    shutil.copytree(finished, copy)
    return copy


def run_dir(root: Path, ratio: int) -> Path:
    """The folder of the RST at `ratio` (seed 0) in a store."""
    return next(root.glob(f"search-*-r{ratio}-s0-*"))


@pytest.fixture
def store(tmp_path):
    from rstlib.store.runstore import RunStore

    return RunStore(tmp_path / "runs")


def tiny_profile(profile, epochs=2, n_train=512, **search):
    """The smoke profile shrunk further for tests that only need a few optimiser steps."""
    s = dataclasses.replace(profile.search, epochs=epochs, **search)
    d = dataclasses.replace(profile.dense, epochs=epochs)
    f = dataclasses.replace(profile.finetune, epochs=epochs)
    return dataclasses.replace(profile, n_train=n_train, n_test=128, search=s, dense=d, finetune=f)


@pytest.fixture(autouse=True)
def no_download_probe(monkeypatch):
    """No test connects to a dataset's download host: the probe answers 'reachable' and every test
    that reaches a download replaces torchvision's (a test of the unreachable case patches it again)."""
    from rstlib import data

    monkeypatch.setattr(data.readers, "reachable", lambda host, timeout=None: True)
