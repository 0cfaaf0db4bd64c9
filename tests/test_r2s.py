import pytest
import torch
from conftest import tiny_profile

from rstlib.attacks.registry import AttackSpec
from rstlib.evaluation.evaluator import Evaluator
from rstlib.evaluation.r2s import evaluate_r2s
from rstlib.nets.switch import R2S, shared_random_weights
from rstlib.train import variants as ex
from rstlib.train.loop import RunOptions
from rstlib.train.runner import model_run

CPU = RunOptions(device="cpu", progress=False, announce=False)


@pytest.fixture(scope="module")
def rsts(tmp_path_factory, smoke):
    from rstlib.store.runstore import RunStore

    store = RunStore(tmp_path_factory.mktemp("r2s") / "runs")
    runs = {f"{r}%": model_run(store, ex.search_config(smoke, "fashion_mnist", "cnn_small", r), CPU) for r in (10, 30, 50)}
    return store, runs


def test_r2s_protocol_is_the_mean_of_the_matrix_and_eot_is_at_least_as_strong(rsts):
    store, runs = rsts
    ev = Evaluator(store, n_test=128, batch_size=128, device="cpu")
    result = evaluate_r2s(ev, runs, AttackSpec("pgd20", eps=24, step=6), adaptive=True)
    cells = [result.matrix.loc[s, t] for s in runs for t in runs]
    assert result.protocol == pytest.approx(sum(cells) / 9)
    assert result.natural == pytest.approx(sum(result.member_natural.values()) / 3)
    diagonal = sum(result.matrix.loc[r, r] for r in runs) / 3
    assert diagonal <= result.protocol  # white-box cells are the hardest ones
    assert result.eot_loss <= result.protocol and result.eot_logits <= result.protocol, result.row()


def test_r2s_module_draws_members_per_batch_or_per_sample(rsts):
    store, runs = rsts
    ev = Evaluator(store, device="cpu")
    members = [ev.model(r) for r in runs.values()]
    x = torch.rand(64, 1, 28, 28)
    outputs = [m(x) for m in members]
    r2s = R2S(members, mode="sample", generator=torch.Generator().manual_seed(1)).eval()
    out = r2s(x)
    # (members, batch): a member's rows computed in a sub-batch may differ from the whole batch's in the last
    # bits (the CPU kernels block by batch size); members differ by far more than this tolerance
    matches = torch.stack([torch.isclose(out, o, rtol=1e-4, atol=1e-4).all(1) for o in outputs])
    assert matches.any(0).all() and matches.float().sum(1).min() > 0  # every row from some member, all used
    r2s_batch = R2S(members, mode="batch").eval()
    assert any(torch.equal(r2s_batch(x), o) for o in outputs)


def test_r2s_refuses_candidates_from_different_random_networks(smoke, tmp_path):
    from rstlib.store.runstore import RunStore

    store = RunStore(tmp_path / "runs")
    p = tiny_profile(smoke, epochs=1)
    a = model_run(store, ex.search_config(p, "fashion_mnist", "cnn_small", 10, seed=0), CPU)
    b = model_run(store, ex.search_config(p, "fashion_mnist", "cnn_small", 10, seed=1), CPU)
    ev = Evaluator(store, device="cpu")
    with pytest.raises(ValueError, match="share one set of weights"):
        shared_random_weights([ev.model(a), ev.model(b)])
