"""The price of the plan (`rstlib.paper.plan.project`): a training step and an image's forward pass,
measured on this device or derived from FLOPs.

Training cost: epochs x ceil(n_train / batch) optimiser steps. One PGD-k search step costs about
(2k + 3) forward-equivalents per image (k + 1 forwards, k input-only backwards ~ 1 forward each,
one full backward ~ 2 forwards); a natural step 3. Evaluation: PGD-20 ~ 41 forward-equivalents
per image (upper bound: no early stop; the same on the margin loss), CW-L2 ~ 300 and CW-Inf ~ 201
(100 iterations), AutoAttack ~ 4,400, APGD-T ~ 2,700, AutoAttack rand ~ 12,000 and Bandits
~ 1.5 x queries (all on the ~half of the images that stay robust), a clean pass 1, a transfer
cell 1 (the crafting is shared by its row, counted once per source), an EOT attack 41 per member.

With `measure=True` the seconds per search step are timed on this machine for each network and
batch size (the honest number for this device); otherwise FLOPs are divided by an assumed
achieved throughput, printed with the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from rstlib import data as datasets
from rstlib.attacks.pgd import training_attack
from rstlib.config.profile import Profile, RunConfig
from rstlib.nets.models import build_model
from rstlib.runtime.device import bf16_supported, resolve_device
from rstlib.train.loop import precision_autocast, train_step
from rstlib.train.run_model import build_run_model, trainable_parameters

# Assumed achieved throughput on an H100 when nothing was measured (dense conv nets on 32x32
# inputs reach a small share of the 989 TFLOP/s bf16 peak): bf16 and fp32 training, evaluation in fp32.
ASSUMED_TFLOPS = {"bf16": 150.0, "fp32": 40.0}
MEASURE_SECONDS = 60.0  # the most time `measure=True` spends timing steps; the rest is priced from them
QUICK_STEP_FLOPS = 2e10  # a quick (CPU) timing runs at most about this many FLOPs per timed step


def format_hours(hours: float) -> str:
    """'3.2 device-hours', or minutes / seconds when it is less than that (never '0.0 h')."""
    if hours >= 1:
        return f"{hours:.1f} device-hours"
    if hours * 60 >= 1:
        return f"{hours * 60:.1f} device-minutes"
    return f"{hours * 3600:.0f} device-seconds"


@dataclass
class Projection:
    profile: str
    runs: int
    evaluations: int
    train_hours: float
    eval_hours: float
    per_section: dict[str, int]
    per_kind_hours: dict[str, float]
    basis: str

    @property
    def total_hours(self) -> float:
        return self.train_hours + self.eval_hours

    def report(self) -> str:
        lines = [
            f"profile {self.profile}: {self.runs} training runs, {self.evaluations} evaluations",
            "runs per section (shared runs counted in each): " + ", ".join(f"{k} {v}" for k, v in self.per_section.items()),
            "training by kind: " + ", ".join(f"{k} {format_hours(v)}" for k, v in self.per_kind_hours.items()),
            f"training {format_hours(self.train_hours)} + evaluation {format_hours(self.eval_hours)} = "
            f"{format_hours(self.total_hours)}",
            f"basis: {self.basis}",
        ]
        return "\n".join(lines)


def forward_flops(arch: str, dataset: str, width: float) -> float:
    """FLOPs of one image's forward pass."""
    from torch.utils.flop_counter import FlopCounterMode

    spec = datasets.dataset_spec(dataset)
    model = build_model(arch, dataset, masked=False, width=width).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, spec.channels, spec.size, spec.size))
    return float(counter.get_total_flops())


def step_forwards(config: RunConfig) -> int:
    t = config.train
    if t.attack == "none":
        return 3
    k = 1 if t.attack == "fgsm-rs" else t.steps
    return 2 * k + 3


def measure_step_seconds(
    config: RunConfig, device="auto", repeats: int = 3, batch: int | None = None, channels_last: bool = False
) -> float:
    """Seconds of one optimiser step of `config`'s kind, timed here on random data, at the
    config's batch size or at `batch` images scaled linearly to it (a quick measurement), with
    the memory layout the profile's runs use."""
    device = resolve_device(device)
    spec = datasets.dataset_spec(config.dataset)
    full = config.train.batch_size
    n = min(batch or full, full)
    model = build_run_model(config).to(device).train()
    params = trainable_parameters(model, config.kind)
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    x = torch.rand(n, spec.channels, spec.size, spec.size, device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, spec.num_classes, (n,), device=device)
    attack = training_attack(config.train.attack, config.train.eps, config.train.step, config.train.steps)
    autocast = precision_autocast(device, config.precision if bf16_supported(device) else "fp32")
    times = []
    for i in range(repeats + 1):
        t = time.perf_counter()
        train_step(model, x, y, opt, attack, None, autocast)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t)
    return min(times) * full / n


def n_train(config: RunConfig) -> int:
    return config.n_train or datasets.dataset_spec(config.dataset).train_size


def n_test_of(profile: Profile, dataset: str, n_test: int | None) -> int:
    full = datasets.dataset_spec(dataset).test_size
    n = n_test if n_test is not None else profile.eval_n_test
    return min(n, full) if n else full


def quick_batch(full: int, step_flops_per_image: float) -> int:
    """Images per timed step of a quick measurement: at most QUICK_STEP_FLOPS per step, 2 to 32."""
    return max(2, min(32, full, int(QUICK_STEP_FLOPS // max(step_flops_per_image, 1.0))))
