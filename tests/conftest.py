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
    from rstlib.config import load_profile
    return load_profile("smoke")


@pytest.fixture
def store(tmp_path):
    from rstlib.store import RunStore
    return RunStore(tmp_path / "runs")


def tiny_profile(profile, epochs=2, n_train=512, **search):
    """The smoke profile shrunk further for tests that only need a few optimiser steps."""
    s = dataclasses.replace(profile.search, epochs=epochs, **search)
    d = dataclasses.replace(profile.dense, epochs=epochs)
    f = dataclasses.replace(profile.finetune, epochs=epochs)
    return dataclasses.replace(profile, n_train=n_train, n_test=128, search=s, dense=d, finetune=f)
