"""Where code runs: device choice and hardware capabilities, in one place."""

from __future__ import annotations

from pathlib import Path

import torch

from rstlib.errors import ConfigError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ConfigError(f"unknown device {device!r}; choose auto, cpu or cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda asked for, but CUDA is not available on this machine")
    return torch.device(device)


def _cpu_flags() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def bf16_supported(device: str | torch.device = "auto") -> bool:
    """bf16 matmuls in hardware: CUDA with bf16, or a CPU with AVX512-BF16 / AMX."""
    device = resolve_device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    flags = _cpu_flags()
    return torch.backends.mkldnn.is_available() and ("avx512_bf16" in flags or "amx_bf16" in flags)


def require_precision(precision: str, device: str | torch.device = "auto", where: str = "the profile") -> None:
    """Refuse, in one line, a precision this machine cannot run (never silently run another)."""
    if precision == "bf16" and not bf16_supported(device):
        raise ConfigError(
            f"{where} asks for bf16 training, but this {resolve_device(device).type} has no bf16 "
            "matmuls (AVX512-BF16/AMX or a bf16 GPU); use --precision fp32 (a different run) "
            "or run on hardware with bf16"
        )
