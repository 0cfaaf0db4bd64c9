import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import ROOT, tiny_profile

from rstlib.store.weights import CorruptCheckpoint, load_tensor_file
from rstlib.train import variants as ex
from rstlib.train.loop import RunOptions, learning_rate
from rstlib.train.run_model import load_run_model
from rstlib.train.runner import model_run

CPU = RunOptions(device="cpu", progress=False, announce=False)


def test_piecewise_schedule_decays_at_half_and_three_quarters(smoke):
    s = tiny_profile(smoke, epochs=160).search
    assert learning_rate(s, 79.9) == pytest.approx(s.lr)
    assert learning_rate(s, 80) == pytest.approx(s.lr * 0.1)
    assert learning_rate(s, 120) == pytest.approx(s.lr * 0.01)


def test_smoke_search_learns_well_above_chance(smoke, store):
    run = model_run(store, ex.search_config(smoke, "fashion_mnist", "cnn_small", 30), CPU)
    m = run.metrics()
    assert m["natural_acc"] > 30.0, m["history"]  # chance is 10%
    assert abs(m["kept_fraction"] - 0.30) < 1e-3


def test_finished_run_is_loaded_not_retrained(smoke, store, monkeypatch):
    config = ex.search_config(tiny_profile(smoke, epochs=1), "fashion_mnist", "cnn_small", 10)
    first = model_run(store, config, CPU)
    import rstlib.train.runner

    # patched where it is looked up: runner imported `execute` by name
    monkeypatch.setattr(rstlib.train.runner, "execute", lambda *a, **k: pytest.fail("trained again"))
    second = model_run(store, config, CPU)
    assert second.path == first.path and second.metrics() == first.metrics()
    with pytest.raises(pytest.fail.Exception, match="trained again"):  # the guard fires where training would happen
        model_run(store, ex.search_config(tiny_profile(smoke, epochs=1), "fashion_mnist", "cnn_small", 20), CPU)
    model = load_run_model(second)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_committed_results_without_weights_retrain_to_the_same_model(smoke, store):
    """A fresh clone holds metrics.json but no model.safetensors: the run is retrained, bit-identically, so the
    committed evaluations (keyed by the model's sha256) are found again."""
    config = ex.search_config(tiny_profile(smoke, epochs=1), "fashion_mnist", "cnn_small", 10)
    run = model_run(store, config, CPU)
    digest, metrics = run.model_digest(), run.metrics()
    run.model_path.unlink()
    assert run.status() == "results-only" and not run.is_done()
    again = model_run(store, config, CPU)
    assert again.status() == "done" and again.model_digest() == digest
    assert _comparable(again.metrics()) == _comparable(metrics)


def test_finetune_trains_weights_under_the_fixed_mask(smoke, store):
    p = tiny_profile(smoke, epochs=1)
    ft = model_run(store, ex.finetune_config(p, "fashion_mnist", "cnn_small", 10, "inherit"), CPU)
    rst = store.dir(ft.config.parent)
    rst_state, ft_state = rst.load_model_state(), ft.load_model_state()
    for name, mask in rst_state["masks"].items():
        assert torch.equal(ft_state["masks"][name], mask)  # mask unchanged
        assert not torch.equal(ft_state["model"][f"{name}.weight"], rst_state["model"][f"{name}.weight"])
        dropped = ft_state["model"][f"{name}.weight"][mask == 0]
        assert torch.all(dropped == 0) and f"{name}.scores" not in ft_state["model"]  # stored: weight * mask only


def test_rtt_searches_a_mask_over_trained_dense_weights(smoke, store):
    p = tiny_profile(smoke, epochs=1)
    rtt = model_run(store, ex.rtt_config(p, "fashion_mnist", "cnn_small", 20, "natural"), CPU)
    dense = store.dir(rtt.config.parent).load_model_state()["model"]
    stored = rtt.load_model_state()
    state, masks = stored["model"], stored["masks"]
    for k, v in dense.items():
        if k.endswith("weight"):
            kept = masks[k.removesuffix(".weight")] == 1
            assert torch.equal(state[k][kept], v[kept])  # weights frozen during the RTT's search


WORKER = (
    "import json, sys; from rstlib.config.profile import RunConfig; from rstlib.store.runstore import RunStore; "
    "from rstlib.train.runner import model_run; from rstlib.train.loop import RunOptions; "
    "model_run(RunStore(sys.argv[2]), RunConfig.from_dict(json.load(open(sys.argv[1]))), "
    "RunOptions(device='cpu', progress=False, announce=False))"
)


def _worker(config_path, root) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(config_path), str(root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _comparable(metrics):
    return [(h["epoch"], h["train_loss"], h["train_acc"], h["test_natural_acc"]) for h in metrics["history"]]


def test_killed_run_resumes_to_the_same_result(smoke, store, tmp_path):
    config = ex.search_config(tiny_profile(smoke, epochs=4, n_train=1024), "fashion_mnist", "cnn_small", 20)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config.to_dict()))
    run = store.dir(config)
    proc = _worker(cfg, store.root)
    deadline = time.time() + 120
    while not list(run.path.glob("ckpt-0001.pt.sha256")):  # two epochs checkpointed
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not run.is_done()
    resumed = _worker(cfg, store.root)
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    assert "resumed after epoch" in run.log_path.read_text()
    from rstlib.store.runstore import RunStore

    reference = model_run(RunStore(tmp_path / "reference"), config, CPU)
    assert _comparable(run.metrics()) == _comparable(reference.metrics())
    assert run.model_digest() == reference.model_digest()  # the same weights, bit for bit


def test_corrupted_last_checkpoint_is_detected_and_the_previous_one_used(smoke, store, tmp_path):
    config = ex.search_config(tiny_profile(smoke, epochs=3), "fashion_mnist", "cnn_small", 20)
    run = store.dir(config)
    run.path.mkdir(parents=True)
    for epoch in range(2):
        run.save_checkpoint(epoch, {"epoch": epoch, "x": torch.full((1000,), float(epoch))})
    last = run.checkpoints()[-1]
    last.write_bytes(last.read_bytes()[:300])  # truncated
    with pytest.raises(CorruptCheckpoint):
        load_tensor_file(last)
    messages = []
    ckpt = run.latest_checkpoint(log=messages.append)
    assert ckpt["epoch"] == 0 and "corrupt checkpoint" in messages[0]


def test_two_processes_racing_for_one_config_produce_one_intact_run(smoke, store, tmp_path):
    config = ex.search_config(tiny_profile(smoke, epochs=2), "fashion_mnist", "cnn_small", 10)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config.to_dict()))
    procs = [_worker(cfg, store.root) for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    run = store.dir(config)
    assert run.is_done() and len(list(store.root.iterdir())) == 1
    assert run.log_path.read_text().count("start search") == 1  # trained once
    run.load_model_state()  # verifies the sha256 metrics.json records


def test_a_stored_rst_is_its_mask_bits_and_kept_weights_and_reloads_to_the_same_outputs(tmp_path):
    """The weights file of a masked network (rstlib.store.model_file): safetensors holding packed
    mask bits and the kept weights, about 0.525 bytes per weight at 10% instead of 8 (weights
    and scores); reloaded, the network answers bit for bit as before; a flipped bit is refused."""
    import hashlib

    from rstlib.nets.inits import initialise
    from rstlib.nets.masking import export_mask, set_remaining_ratio
    from rstlib.nets.models import build_model
    from rstlib.store.model_file import model_bytes, read_model
    from rstlib.train.run_model import load_state

    def rst():
        model = build_model("cnn_small", "fashion_mnist", masked=True)
        set_remaining_ratio(model, 10)
        return model

    model = rst()
    initialise(model, "signed_kaiming_constant", seed=3)
    model.eval()
    data = model_bytes({"model": model.state_dict(), "masks": export_mask(model)})
    weights = sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight"))
    assert len(data) < 0.6 * weights + 8_000  # bits + 10% of fp32 + header and batch-norm buffers
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    again = rst()
    load_state(again, read_model(path, hashlib.sha256(data).hexdigest()))
    x = torch.rand(16, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(again.eval()(x), model(x))
    with pytest.raises(CorruptCheckpoint, match="does not match the sha256"):
        read_model(path, "0" * 64)
