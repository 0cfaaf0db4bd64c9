"""`rst compare`: a re-run store is checked against the committed results, field by field."""

import json
import shutil
from pathlib import Path

import pytest

from rstlib.cli.main import main
from rstlib.store.compare import compare_stores

COMMITTED = Path(__file__).resolve().parents[1] / "runs"


@pytest.fixture
def stores(tmp_path):
    """A reference store made of a few committed laptop results, and an exact copy of it."""
    runs = sorted(p for p in COMMITTED.glob("dense-fashion_mnist-*") if (p / "metrics.json").exists())[:2]
    if not runs:
        pytest.skip("no committed laptop runs in runs/")
    reference = tmp_path / "reference"
    for run in runs:
        shutil.copytree(run, reference / run.name, ignore=shutil.ignore_patterns("*.pt", "*.sha256", "*.lock", "log.txt"))
    shutil.copytree(COMMITTED / "book", reference / "book", ignore=shutil.ignore_patterns("*.lock"))
    candidate = tmp_path / "candidate"
    shutil.copytree(reference, candidate)
    return reference, candidate


def _edit(path: Path, change):
    obj = json.loads(path.read_text())
    change(obj)
    path.write_text(json.dumps(obj))


def test_an_exact_copy_is_reproduced_and_timings_are_ignored(stores, capsys):
    reference, candidate = stores
    metrics = next(candidate.glob("*/metrics.json"))
    _edit(metrics, lambda m: m["history"][0].update(epoch_seconds=1e6))
    report = compare_stores(reference, candidate)
    assert report.reproduced and report.identical == report.matched > 3
    assert main(["compare", str(reference), "--runs", str(candidate)]) == 0
    assert capsys.readouterr().out.strip().endswith("reproduced")


def test_a_changed_accuracy_is_reported_unless_within_tolerance(stores, capsys):
    reference, candidate = stores
    metrics = next(candidate.glob("*/metrics.json"))
    original = json.loads(metrics.read_text())["history"][-1]["test_natural_acc"]
    _edit(metrics, lambda m: m["history"][-1].update(test_natural_acc=original + 0.4))
    report = compare_stores(reference, candidate)
    assert not report.reproduced
    [difference] = report.differences
    assert difference.field.endswith("test_natural_acc") and difference.reference == original
    assert report.max_abs_difference() == pytest.approx(0.4)
    assert compare_stores(reference, candidate, tolerance=0.5).reproduced
    assert main(["compare", str(reference), "--runs", str(candidate)]) == 1
    assert "test_natural_acc" in capsys.readouterr().out


def test_a_changed_claim_and_a_missing_result_are_reported(stores):
    reference, candidate = stores
    record = sorted((candidate / "book").glob("*-laptop.json"))[0]
    verdict = json.loads(record.read_text())["claims"][0]["verdict"]
    other = "inconclusive" if verdict != "inconclusive" else "holds"
    _edit(record, lambda r: r["claims"][0].update(verdict=other))
    missing = next(candidate.glob("*/evals/*.json"))
    missing.unlink()
    report = compare_stores(reference, candidate, tolerance=100)
    assert [d.field for d in report.differences] == ["claims[0].verdict"]
    assert report.missing == [missing.relative_to(candidate).as_posix()]
    assert not report.reproduced


def test_a_store_that_does_not_exist_is_a_clear_error(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nowhere"), "--runs", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rst compare: error: run store") and "nowhere does not exist" in err
