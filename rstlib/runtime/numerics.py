"""CPU arithmetic that does not depend on which x86 machine runs it.

A run's weights are named by their sha256 and every cached evaluation by the weights it attacked,
so a committed run whose weights are retrained (a new evaluation needs them) must come back
bit-identical, on any machine. By default PyTorch's CPU kernels pick their code path from the CPU:
ATen's vectorised kernels and oneDNN's convolutions use AVX-512 where the CPU has it, and MKL's
GEMM picks a path per CPU model and splits its sums by the thread count. Measured (smoke search,
2 cores, AMD EPYC with AVX2, `rst train --profile smoke`): the model's sha256 changes with
ATEN_CPU_CAPABILITY, with ONEDNN_MAX_CPU_ISA and with the thread count; with MKL_CBWR=AVX2 one and
two threads give the same model. The committed laptop store, trained on an Intel Xeon, did not
retrain to the same weights on that AMD machine (one dense network's first-epoch test accuracy
63.6% recorded, 63.9% retrained).

`pin()` (run when `rstlib` is imported, before torch computes anything) fixes all three to the
AVX2 code paths, which every x86-64 CPU since 2013 has (about 10% slower than MKL's own choice in
the same measurement). It sets only what the environment leaves unset, so a user can override
each. A CPU without AVX2 (or not x86) runs other code paths: its runs record that and a retrained
committed run says that it came back different (`rstlib.train.loop`).
"""

from __future__ import annotations

import os

PINNED = {
    "ATEN_CPU_CAPABILITY": "avx2",  # ATen's vectorised CPU kernels
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN (mkldnn) convolutions and matmuls
    "MKL_CBWR": "AVX2",  # MKL's conditional numerical reproducibility: one path, any thread count
}


def pin() -> None:
    """Fix the CPU code paths (see the module docstring); leaves any value the user set."""
    for name, value in PINNED.items():
        os.environ.setdefault(name, value)


def fingerprint() -> dict[str, str]:
    """What a CPU run's arithmetic was: the code paths in force and the library versions."""
    import torch

    out = {name: os.environ.get(name, "") for name in PINNED}
    out["aten_capability"] = torch.backends.cpu.get_cpu_capability()
    out["torch"] = torch.__version__
    return out
