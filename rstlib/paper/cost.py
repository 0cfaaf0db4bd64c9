"""Cost projection of a profile: every training run and evaluation the book needs (from the
sections' dry-run plans), priced by measured or FLOP-derived throughput.

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

import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass

import torch

from rstlib import data as datasets
from rstlib.attacks.pgd import training_attack
from rstlib.config.profile import Profile, RunConfig
from rstlib.nets.models import build_model
from rstlib.paper.plan import plan as section_plan
from rstlib.runtime.device import bf16_supported, resolve_device
from rstlib.train.loop import build_run_model, precision_autocast, train_step, trainable_parameters

EVAL_FORWARDS = {"clean": 1, "pgd20": 41, "pgd20-margin": 41, "cw-l2": 300, "cw-inf": 201, "autoattack": 4400,
                 "apgd-t": 2700}
AA_RAND_FORWARDS = 12000  # AutoAttack rand: APGD-CE + APGD-DLR, 100 iterations x 20 EOT draws each
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
        lines = [f"profile {self.profile}: {self.runs} training runs, {self.evaluations} evaluations",
                 "runs per section (shared runs counted in each): " +
                 ", ".join(f"{k} {v}" for k, v in self.per_section.items()),
                 "training by kind: " + ", ".join(f"{k} {format_hours(v)}" for k, v in self.per_kind_hours.items()),
                 f"training {format_hours(self.train_hours)} + evaluation {format_hours(self.eval_hours)} = "
                 f"{format_hours(self.total_hours)}",
                 f"basis: {self.basis}"]
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


def measure_step_seconds(config: RunConfig, device="auto", repeats: int = 3, batch: int | None = None,
                         channels_last: bool = False) -> float:
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


def _n_train(config: RunConfig) -> int:
    return config.n_train or datasets.dataset_spec(config.dataset).train_size


def _n_test(profile: Profile, dataset: str, n_test: int | None) -> int:
    full = datasets.dataset_spec(dataset).test_size
    n = n_test if n_test is not None else profile.eval_n_test
    return min(n, full) if n else full


def _quick_batch(full: int, step_flops_per_image: float) -> int:
    """Images per timed step of a quick measurement: at most QUICK_STEP_FLOPS per step, 2 to 32."""
    return max(2, min(32, full, int(QUICK_STEP_FLOPS // max(step_flops_per_image, 1.0))))


def _to_stderr(message: str):
    print(message, file=sys.stderr, flush=True)


def project(profile: Profile, sections=None, measure: bool = False, device="auto",
            planned: tuple | None = None, quick: bool = False, budget_s: float = MEASURE_SECONDS,
            say=_to_stderr) -> Projection:
    """Device-hours of `sections` at `profile`; `planned` = their `sections.plan(...)` (or any
    (runs, evals, per_section) subset of it). quick: measure on a few images per step (CPU).

    A measurement is bounded: each network's step is timed once, with one line through `say`,
    until `budget_s` seconds of timing are spent (at least one network is timed); the networks
    left are priced by their FLOPs at the throughput measured so far (said in `basis`)."""
    runs, evals, per_section = planned or section_plan(profile, sections)
    device = resolve_device(device)
    flops_cache: dict[tuple, float] = {}
    step_cache: dict[tuple, float] = {}
    timing = {"seconds": 0.0, "flops": 0.0, "spent": 0.0, "priced": 0}
    quick_cpu = quick and device.type == "cpu"

    def fwd(c: RunConfig) -> float:
        key = (c.arch, c.dataset, c.width)
        if key not in flops_cache:
            flops_cache[key] = forward_flops(*key)
        return flops_cache[key]

    def step_flops(c: RunConfig) -> float:
        return c.train.batch_size * step_forwards(c) * fwd(c)

    def step_seconds(c: RunConfig) -> float:
        key = (c.arch, c.dataset, c.width, c.kind, c.train.batch_size, c.train.attack, c.train.steps, c.precision)
        if key in step_cache:
            return step_cache[key]
        if timing["seconds"] and timing["spent"] >= budget_s:  # budget spent: FLOPs at the measured throughput
            step_cache[key] = step_flops(c) * timing["seconds"] / timing["flops"]
            timing["priced"] += 1
            return step_cache[key]
        batch = _quick_batch(c.train.batch_size, step_flops(c) / c.train.batch_size) if quick_cpu else None
        images = f"{batch} of {c.train.batch_size}" if batch else f"{c.train.batch_size}"
        say(f"timing one {c.kind} step of {c.arch} on {c.dataset} ({images} images, {device}) ...")
        t = time.perf_counter()
        seconds = measure_step_seconds(c, device, repeats=1 if quick else 3, batch=batch,
                                       channels_last=profile.fast.channels_last)
        timing["spent"] += time.perf_counter() - t
        timing["seconds"] += seconds
        timing["flops"] += step_flops(c)
        step_cache[key] = seconds
        return seconds

    image_forward_seconds: dict[tuple, float] = {}

    def eval_seconds_per_forward(c: RunConfig) -> float:
        """Seconds of one image's forward pass in an evaluation (fp32)."""
        key = (c.arch, c.dataset, c.width)
        if key not in image_forward_seconds:
            if measure:  # from the measured step of this network
                image_forward_seconds[key] = step_seconds(c) / (c.train.batch_size * step_forwards(c))
            else:
                image_forward_seconds[key] = fwd(c) / (ASSUMED_TFLOPS["fp32"] * 1e12)
        return image_forward_seconds[key]

    per_kind: dict[str, float] = defaultdict(float)
    train_seconds = 0.0
    for c in runs.values():
        steps = c.train.epochs * math.ceil(_n_train(c) / c.train.batch_size)
        if measure:
            seconds = steps * step_seconds(c)
        else:
            rate = ASSUMED_TFLOPS[c.precision] * 1e12
            seconds = steps * c.train.batch_size * step_forwards(c) * fwd(c) / rate
        per_kind[c.kind] += seconds / 3600
        train_seconds += seconds
    eval_seconds = 0.0
    crafted = set()
    for e in evals:
        n = _n_test(profile, e.target.dataset, e.n_test)
        if e.members and e.eot_over == "rand":  # AutoAttack rand on R2S, a subset of images
            n = min(n, e.strong_images or n)
            forwards = AA_RAND_FORWARDS * 0.5
        elif e.members:  # an EOT attack on R2S: PGD-20 through every member
            forwards = EVAL_FORWARDS["pgd20"] * len(e.members)
        elif e.strong_images is not None:  # the strong figure: margin PGD-20 + APGD-T on a subset
            forwards = EVAL_FORWARDS["pgd20-margin"] + EVAL_FORWARDS["apgd-t"] * 0.5 * min(e.strong_images, n) / n
        elif e.source is not None:  # a transfer cell: crafting counted once per (source, attack)
            key = (e.source.run_id(), e.attack)
            forwards = 1 + (EVAL_FORWARDS.get(e.attack.name, 41) if key not in crafted else 0)
            crafted.add(key)
        elif e.attack.name == "bandits":
            forwards = 1.5 * e.attack.queries * 0.5
        else:
            forwards = EVAL_FORWARDS[e.attack.name] * (0.5 if e.attack.name == "autoattack" else 1)
        eval_seconds += n * forwards * eval_seconds_per_forward(e.target)
    if measure:
        basis = (f"training steps timed on this machine ({device}{', a few images per step' if quick_cpu else ''}); "
                 "evaluations priced per forward pass from the same measurement")
        if timing["priced"]:
            basis += (f"; {timing['priced']} network(s) past the {budget_s:g} s timing budget priced by FLOPs at "
                      "the throughput measured here")
    else:
        basis = (f"FLOPs at an assumed achieved {ASSUMED_TFLOPS['bf16']:g} TFLOP/s (bf16) and "
                 f"{ASSUMED_TFLOPS['fp32']:g} TFLOP/s (fp32) on one H100-class GPU, not measured; rerun with "
                 "--measure on the target device for a measured figure")
    return Projection(profile.name, len(runs), len(evals), train_seconds / 3600, eval_seconds / 3600,
                      per_section, dict(per_kind), basis)
