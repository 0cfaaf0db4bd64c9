"""Where code runs: device choice and hardware capabilities, in one place."""
from __future__ import annotations

from pathlib import Path

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU."""
    from rstlib.config import ConfigError
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


def resolve_bf16(setting: bool | str, device: str | torch.device = "auto") -> bool:
    """A profile's bf16 switch: true, false, or 'auto' (on where the hardware supports it)."""
    if setting == "auto":
        return bf16_supported(device)
    if isinstance(setting, bool):
        return setting
    from rstlib.config import ConfigError
    raise ConfigError(f"bf16 must be true, false or auto, got {setting!r}")
