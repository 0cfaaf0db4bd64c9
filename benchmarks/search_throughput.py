"""Throughput of one PGD-7 mask-search step (7 attack steps + 1 score update), side by side in
one run: the original code's design (benchmarks/reference_design.py: mask rebuilt by a full sort
in each of the 8 forwards, fp32, NCHW) vs rstlib's search step as the package runs it by default
(mask cached per optimiser step, top-k selection, frozen parameters during the attack,
channels_last, bf16 autocast where the hardware supports it). Also PGD-20 evaluation
throughput, ours vs AdverTorch's LinfPGDAttack, and the share of the machine's dense matmul
peak. Not a test: it prints measurements.

    .venv/bin/python benchmarks/search_throughput.py [--device auto] [--repeats 5]

The last line is `speedup laptop=<x.xx> resnet18=<y.yy>`.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.reference_design import reference_search_step, to_reference  # noqa: E402
from rstlib.attacks.compat import advertorch  # noqa: E402
from rstlib.attacks.pgd import PGD  # noqa: E402
from rstlib.nets.inits import initialise  # noqa: E402
from rstlib.nets.masking import set_remaining_ratio  # noqa: E402
from rstlib.nets.models import build_model  # noqa: E402
from rstlib.runtime.device import bf16_supported, resolve_device  # noqa: E402
from rstlib.train.loop import precision_autocast, train_step  # noqa: E402

CASES = {
    # name: (arch, dataset, width, batch, input shape)
    "laptop": ("cnn_small", "fashion_mnist", 1.0, 128, (1, 28, 28)),
    "resnet18": ("resnet18", "cifar10", 1.0, 32, (3, 32, 32)),
    "resnet18_b256": ("resnet18", "cifar10", 1.0, 256, (3, 32, 32)),  # the paper's batch (GPU)
    "wrn": ("wrn34_10", "cifar10", 1.0, 128, (3, 32, 32)),  # GPU
}
EPS, STEP, STEPS = 8 / 255, 2 / 255, 7


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_peak(device, dtype, n=2048, repeats=10) -> float:
    """Dense matmul FLOP/s measured here (n x n x n)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    sync(device)
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2 * n**3 * repeats / (time.perf_counter() - t)


def step_flops(model, x) -> float:
    """FLOPs of one search step: 8 forwards, 7 input-only backwards (~1x forward each: the
    weights are frozen during the attack) and 1 full backward (~2x forward) for the update."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() * (8 + 7 + 2)


def make_model(case, device, channels_last=False):
    arch, dataset, width, _, _ = CASES[case]
    model = build_model(arch, dataset, masked=True, width=width)
    initialise(model, "signed_kaiming_constant", seed=0)
    set_remaining_ratio(model, 10)
    for n, p in model.named_parameters():
        p.requires_grad_(n.endswith("scores"))
    model = model.to(device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def timed(fn, repeats, warmup=2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]  # median


def bench_case(case, device, repeats, fast):
    _, _, _, batch, shape = CASES[case]
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, *shape, generator=gen).to(device)
    y = torch.randint(0, 10, (batch,), generator=gen).to(device)

    base = to_reference(make_model(case, device))
    base_opt = torch.optim.SGD([p for p in base.parameters() if p.requires_grad], lr=0.1, momentum=0.9)

    def baseline():
        reference_search_step(base, x, y, base_opt, EPS, STEP, STEPS, gen)
        sync(device)

    ours = make_model(case, device, channels_last=fast["channels_last"])
    if fast["compile"]:
        ours = torch.compile(ours)
    ours_opt = torch.optim.SGD([p for p in ours.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
    x_ours = x.contiguous(memory_format=torch.channels_last) if fast["channels_last"] else x
    attack = PGD(EPS, STEP, STEPS)
    autocast = precision_autocast(device, "bf16" if fast["bf16"] else "fp32")

    def rstlib_step():
        train_step(ours, x_ours, y, ours_opt, attack, gen, autocast)
        sync(device)

    t_base = timed(baseline, repeats)
    t_ours = timed(rstlib_step, repeats)
    flops = step_flops(copy.deepcopy(ours), x)
    return {
        "batch": batch,
        "baseline_img_s": batch / t_base,
        "rstlib_img_s": batch / t_ours,
        "speedup": t_base / t_ours,
        "step_flops": flops,
        "rstlib_flop_s": flops / t_ours,
        "baseline_flop_s": flops / t_base,
    }


def bench_pgd20(case, device, repeats):
    """Evaluation PGD-20 (fp32, eval mode): ours vs AdverTorch LinfPGDAttack, same model/budget."""
    _, _, _, batch, shape = CASES[case]
    model = make_model(case, device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(batch, *shape, generator=gen).to(device)
    y = torch.randint(0, 10, (batch,), generator=gen).to(device)
    ours = PGD(EPS, STEP, 20, early_stop=False)
    theirs = advertorch().LinfPGDAttack(model, eps=EPS, nb_iter=20, eps_iter=STEP, rand_init=True)
    t_ours = timed(lambda: (ours(model, x, y, gen), sync(device)), repeats, warmup=1)
    t_theirs = timed(lambda: (theirs.perturb(x, y), sync(device)), repeats, warmup=1)
    return {"rstlib_img_s": batch / t_ours, "advertorch_img_s": batch / t_theirs, "ratio": t_theirs / t_ours}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--bf16", choices=["auto", "on", "off"], default="auto")
    parser.add_argument("--no-channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--cases", default="laptop,resnet18")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    bf16 = bf16_supported(device) if args.bf16 == "auto" else args.bf16 == "on"
    fast = {"bf16": bf16, "channels_last": not args.no_channels_last, "compile": args.compile}
    print(f"device {device} | torch {torch.__version__} | threads {torch.get_num_threads()} | rstlib fast path {fast}")
    peak32 = matmul_peak(device, torch.float32)
    peak16 = matmul_peak(device, torch.bfloat16) if bf16 else None
    print(f"dense matmul peak: fp32 {peak32 / 1e9:.1f} GFLOP/s" + (f", bf16 {peak16 / 1e9:.1f} GFLOP/s" if peak16 else ""))
    results = {"device": str(device), "fast": fast, "matmul_peak_fp32": peak32, "matmul_peak_bf16": peak16}
    speedups = {}
    for case in args.cases.split(","):
        r = bench_case(case, device, args.repeats, fast)
        peak = peak16 if bf16 else peak32
        print(
            f"[{case}] PGD-7 search step, batch {r['batch']}: baseline {r['baseline_img_s']:.1f} img/s, "
            f"rstlib {r['rstlib_img_s']:.1f} img/s, speedup {r['speedup']:.2f}x; "
            f"rstlib at {100 * r['rstlib_flop_s'] / peak:.1f}% of the {'bf16' if bf16 else 'fp32'} matmul peak "
            f"(baseline {100 * r['baseline_flop_s'] / peak32:.1f}% of fp32 peak)"
        )
        e = bench_pgd20(case, device, max(2, args.repeats // 2))
        print(
            f"[{case}] PGD-20 evaluation, fp32: rstlib {e['rstlib_img_s']:.1f} img/s, "
            f"AdverTorch {e['advertorch_img_s']:.1f} img/s, ratio {e['ratio']:.2f}x"
        )
        results[case] = {"search": r, "pgd20": e}
        speedups[case] = r["speedup"]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print("speedup " + " ".join(f"{k}={v:.2f}" for k, v in speedups.items()))


if __name__ == "__main__":
    main()
