"""The GPU check: every `rst` command at smoke on this device, the search and PGD-20 throughput
table (original design vs rstlib, rstlib vs AdverTorch, share of the matmul peak), and the paper
profile's measured projection. Not a test: it prints measurements. On a CPU the same steps run at
CPU sizes (the laptop model and ResNet-18 at batch 32; the laptop profile's projection).

    bash benchmarks/gpu_check.sh            # what to run (sets up paths and data on a bare machine)
    python -m benchmarks.gpu_check --work DIR [--device auto] [--skip commands,throughput,plan]

The last line is `gpu speedup resnet18_b256=<x> wrn=<y> pgd20_vs_advertorch=<z> paper_hours=<h>`
(`-` where a step did not run on this device).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import search_throughput as bench  # noqa: E402
from rstlib.attacks.registry import ATTACKS  # noqa: E402
from rstlib.runtime.device import resolve_device  # noqa: E402

OPTIONAL = {
    "advertorch": "cw-l2, cw-inf and the AdverTorch PGD-20 comparison",
    "pyautoattack": "autoattack, apgd-t, apgd-ce and the strong figure",
    "submitit": "SLURM sweeps (not run here)",
    "papermill": "the book's pages (not run here)",
}
GPU_CASES = ["laptop", "resnet18", "resnet18_b256", "wrn"]
CPU_CASES = ["laptop", "resnet18"]


def present(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def commands(device: str, runs: Path) -> list[tuple[str, list[str], str | None]]:
    """(label, rst arguments, the optional package it needs) for the smoke run of every command."""
    common = ["--profile", "smoke", "--device", device, "--runs", str(runs), "--no-progress"]
    out = [
        ("search 10%", ["search", "--ratio", "10"], None),
        ("search 30%", ["search", "--ratio", "30"], None),
        ("train (dense adversarial)", ["train"], None),
        ("finetune 10% reinit", ["finetune", "--ratio", "10", "--weights", "reinit"], None),
        ("rtt 10%", ["rtt", "--ratio", "10"], None),
    ]
    needs = {
        "cw-l2": "advertorch",
        "cw-inf": "advertorch",
        "autoattack": "pyautoattack",
        "apgd-t": "pyautoattack",
        "apgd-ce": "pyautoattack",
    }
    for attack in ATTACKS:  # every attack the registry has, so this check cannot fall behind it
        extra = ["--queries", "50"] if attack == "bandits" else []
        out.append((f"eval {attack}", ["eval", "--ratio", "10", "--attack", attack, "--n-test", "32", *extra], needs.get(attack)))
    out.append(("r2s --adaptive {10,30}", ["r2s", "--ratios", "10,30", "--adaptive", "--n-test", "32"], None))
    out = [(label, [*args, *common], need) for label, args, need in out]
    sweep = [
        "sweep",
        "--profile",
        "smoke",
        "--sections",
        "sec3",
        "--executor",
        "local",
        "--max-parallel",
        "2",
        "--device",
        device,
        "--runs",
        str(runs),
        "--yes",
    ]
    out += [
        ("sweep sec3 (local, 2 workers)", sweep, None),
        ("runs", ["runs", "--runs", str(runs)], None),
        ("compare (the store with itself)", ["compare", str(runs), "--runs", str(runs)], None),
        ("plan (smoke, priced)", ["plan", "--profile", "smoke"], None),
        ("scale (the smoke ladder's plan)", ["scale", "--ladder", "smoke", "--dry-run"], None),
    ]
    return out


def run_commands(device: str, work: Path) -> bool:
    print("\n## Every command at smoke on", device)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    ok = True
    print("| command | result | seconds | last line |\n| --- | --- | --- | --- |")
    for label, args, need in commands(device, work / "smoke-runs"):
        if need and not present(need):
            print(f"| {label} | skipped | - | needs {need} |")
            continue
        t = time.time()
        p = subprocess.run(
            [sys.executable, "-m", "rstlib.cli.main", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600
        )
        last = (p.stdout.strip().splitlines() or p.stderr.strip().splitlines() or [""])[-1][:110]
        failed = p.returncode != 0 or "Traceback" in p.stderr
        ok &= not failed
        print(
            f"| {label} | {'FAILED (exit %d)' % p.returncode if failed else 'ok'} | {time.time() - t:.1f} | "
            f"{last.replace('|', '/')} |",
            flush=True,
        )
        if failed:
            print("```\n" + p.stderr[-3000:] + "\n```")
    return ok


def run_throughput(device: torch.device, repeats: int) -> dict:
    cases = GPU_CASES if device.type == "cuda" else CPU_CASES
    print(
        f"\n## Throughput on {device}: one PGD-7 search step and PGD-20 evaluation (fp32, the paper "
        "profile's precision; channels_last as the profile sets it)"
    )
    peak32 = bench.matmul_peak(device, torch.float32)
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    peak16 = bench.matmul_peak(device, torch.bfloat16) if bf16 else None
    print(f"dense matmul peak here: fp32 {peak32 / 1e12:.2f} TFLOP/s" + (f", bf16 {peak16 / 1e12:.1f} TFLOP/s" if peak16 else ""))
    fast = {"bf16": False, "channels_last": True, "compile": False}
    print(
        "| case | batch | original design img/s | rstlib img/s | speedup | rstlib % of fp32 peak"
        + (" | % of bf16 peak" if peak16 else "")
        + " | PGD-20 rstlib img/s | AdverTorch img/s | ratio |"
    )
    print("| --- " * (9 + bool(peak16)) + "|")
    out = {}
    for case in cases:
        r = bench.bench_case(case, device, repeats, fast)
        e = bench.bench_pgd20(case, device, max(2, repeats // 2)) if present("advertorch") else None
        out[case] = {"search": r, "pgd20": e}
        cells = [
            case,
            r["batch"],
            f"{r['baseline_img_s']:.0f}",
            f"{r['rstlib_img_s']:.0f}",
            f"{r['speedup']:.2f}x",
            f"{100 * r['rstlib_flop_s'] / peak32:.1f}%",
        ]
        if peak16:
            cells.append(f"{100 * r['rstlib_flop_s'] / peak16:.1f}%")
        cells += [f"{e['rstlib_img_s']:.0f}", f"{e['advertorch_img_s']:.0f}", f"{e['ratio']:.2f}x"] if e else ["-"] * 3
        print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)
    return out


def run_plan(device: str, profile: str) -> float | None:
    print(f"\n## rst plan --profile {profile} --measure --device {device}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    p = subprocess.run(
        [sys.executable, "-m", "rstlib.cli.main", "plan", "--profile", profile, "--measure", "--device", device],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    print(p.stdout.rstrip() or p.stderr.rstrip())
    found = re.findall(r"=\s*([\d,.]+)\s*device-hours", p.stdout)  # the total line
    return float(found[-1].replace(",", "")) if found else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=None, help="scratch folder (a fresh run store goes there)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip", default="", help="comma-separated steps to leave out: commands, throughput, plan")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    work = Path(args.work or os.environ.get("TMPDIR", "/tmp")) / "gpu_check"
    work.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"# GPU check: {name} | torch {torch.__version__} | python {sys.version.split()[0]} | "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    for module, what in OPTIONAL.items():
        if not present(module):
            print(f"note: {module} is not importable: {what} skipped")
    started = time.time()
    ok = run_commands(str(device), work) if "commands" not in skip else True
    speed = run_throughput(device, args.repeats) if "throughput" not in skip else {}
    # the paper's projection on a GPU; on a CPU (where a paper-size step takes minutes) the laptop's
    plan_profile = "paper" if device.type == "cuda" else "laptop"
    planned = run_plan(str(device), plan_profile) if "plan" not in skip else None
    hours = planned if plan_profile == "paper" else None  # the last line reports the paper's hours only

    def search(case):
        return f"{speed[case]['search']['speedup']:.2f}" if case in speed else "-"

    ratios = [v["pgd20"]["ratio"] for v in speed.values() if v["pgd20"]]
    pgd20 = f"{min(ratios):.2f}" if ratios else "-"  # the slowest case: the target is >= 1.2x on every one
    paper = f"{hours:.1f}" if hours is not None else "-"
    print(f"\nall steps in {time.time() - started:.0f} s; commands {'all ok' if ok else 'SOME FAILED'}")
    print(
        f"gpu speedup resnet18_b256={search('resnet18_b256')} wrn={search('wrn')} pgd20_vs_advertorch={pgd20} paper_hours={paper}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
