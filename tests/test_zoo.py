"""Models for one's own attacks (`rstlib.load_model`, `load_r2s`), our attacks on any model
(`rstlib.evaluate`, `summary`), `rst eval --run`, and the README's AutoAttack example, at smoke on
the session's trained store."""

import hashlib
import json
import re

import pytest
import torch
from conftest import run_dir

SMOKE = ["--profile", "smoke", "--device", "cpu", "--no-progress"]


@pytest.mark.parametrize("name", ["first-attack", "autoattack"])
def test_the_readmes_autoattack_examples_run_at_smoke(runs, monkeypatch, capsys, name):
    """The README's first attack (APGD-CE + APGD-T) and its AutoAttack-standard example, as written,
    on the smoke store: a model loaded (nothing trained), attacked by the official package."""
    from benchmarks.readme_examples import examples

    block = examples()[name]
    assert "load_model" in block and "AutoAttack(" in block and len(block.strip().splitlines()) <= 7
    assert 'profile="laptop-next"' in block
    code = block.replace('profile="laptop-next"', 'profile="smoke"').replace("24 / 255", "8 / 255")
    code = re.sub(r"n=\d+", "n=16", code)
    monkeypatch.setenv("RST_RUNS", str(runs))
    before = sorted(p.name for p in runs.rglob("*"))
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    acc = float(re.search(r"accuracy ([\d.]+)%", out).group(1))
    assert 0 <= acc <= 100
    assert sorted(p.name for p in runs.rglob("*")) == before  # the weights were there: nothing trained


def test_load_model_by_id_and_by_settings_is_one_model_in_eval_mode(runs):
    import rstlib

    by_settings = rstlib.load_model(profile="smoke", ratio=10, store=runs)
    by_id = rstlib.load_model(run_dir(runs, 10).name[-12:], store=runs)
    assert not by_settings.training and not any(p.requires_grad for p in by_settings.parameters())
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(by_settings(x), by_id(x)) and by_id(x).shape == (4, 10)
    with pytest.raises(rstlib.ConfigError, match="no run 'nope'"):
        rstlib.load_model("nope", store=runs)


def test_load_model_retrains_committed_results_bit_identically_and_says_so(runs, capsys):
    import rstlib

    run = run_dir(runs, 30)
    recorded = json.loads((run / "metrics.json").read_text())["model_sha256"]
    (run / "model.safetensors").unlink()
    rstlib.load_model(profile="smoke", ratio=30, store=runs)
    err = capsys.readouterr().err
    assert "its results are in the store but not its weights; training it now" in err
    assert hashlib.sha256((run / "model.safetensors").read_bytes()).hexdigest() == recorded


def test_evaluate_runs_our_attacks_on_any_classifier():
    import rstlib

    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))  # not one of ours
    images = rstlib.test_images("fashion_mnist", n=32)
    clean = rstlib.evaluate(theirs, "clean", images)
    pgd = rstlib.evaluate(theirs, "pgd20", images, eps=8)
    assert clean["n"] == pgd["n"] == 32 and pgd["acc"] <= clean["acc"]
    assert pgd["max_linf"] <= 8 / 255 + 1e-6
    as_floats = rstlib.evaluate(theirs, "clean", images.tensors())
    assert as_floats["acc"] == clean["acc"]
    with pytest.raises(rstlib.ConfigError, match=r"\[0, 1\]"):
        rstlib.evaluate(theirs, "clean", (images.tensors()[0] * 255, images.labels))


def test_load_r2s_is_one_module_drawing_a_member_per_input(runs):
    import rstlib

    r2s = rstlib.load_r2s([10, 30], profile="smoke", store=runs)
    assert r2s.mode == "sample" and len(r2s.members) == 2 and not r2s.training
    x, y = rstlib.test_images("fashion_mnist", n=64).tensors()
    logits = r2s(x)
    members = torch.stack([m(x) for m in r2s.members])
    assert logits.shape == (64, 10)
    # each row is one member's (to the last bits a sub-batch's kernels may change)
    assert all(any(torch.allclose(logits[i], members[k, i], rtol=1e-4, atol=1e-4) for k in range(2)) for i in range(64))
    summary = rstlib.summary(r2s.members[0], (x[:8], y[:8]), eps=8)
    assert set(summary) == {"clean", "autoattack", "eps", "n"} and summary["autoattack"] <= summary["clean"]


def test_rst_eval_run_id_reads_the_cached_evaluation(runs, capsys):
    from rstlib.cli.main import main

    evals = run_dir(runs, 10) / "evals"
    cached = {p.name: p.read_text() for p in evals.glob("*.json")}
    code = main(["eval", "--run", run_dir(runs, 10).name[-12:], "--device", "cpu", "--no-progress", "--runs", str(runs)])
    out = capsys.readouterr().out
    assert code == 0 and "accuracy" in out and "profile smoke" in out
    pgd = next(json.loads(v)["result"]["acc"] for k, v in cached.items() if k.startswith("pgd20-"))
    assert f"accuracy {pgd:.2f}%" in out
    assert {p.name: p.read_text() for p in evals.glob("*.json")} == cached  # found in the cache, not recomputed
