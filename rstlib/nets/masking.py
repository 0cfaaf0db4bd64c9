"""Masked ("scratch ticket") layers: frozen weights, trainable scores, per-layer top-k mask.

Forward uses `weight * mask`, where the mask keeps the k entries of largest |score| in the
layer. Backward is straight-through: the gradient w.r.t. the mask reaches the scores unchanged
(through |.|, as in edge-popup).

Count rule: a layer with n weights and remaining ratio r keeps k = floor(r * n + 1/2) weights
(round half up), at least 1. Whenever r * n is an integer the kept fraction is exactly r.

The mask depends only on the scores, so it is cached and keyed on the scores' (and weights')
version counters: the attack steps of one PGD batch reuse it, and the next optimiser step (an
in-place update, which bumps the version) invalidates it.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def kept_count(numel: int, ratio: float) -> int:
    """Number of weights a layer of `numel` weights keeps at remaining ratio `ratio` (0-1]."""
    if not 0 < ratio <= 1:
        raise ValueError(f"remaining ratio must be in (0, 1], got {ratio}")
    return max(1, min(numel, math.floor(ratio * numel + 0.5)))


def topk_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Binary mask (same dtype/shape as scores) keeping the k largest |scores|, by selection."""
    flat = scores.detach().abs().flatten()
    mask = torch.zeros_like(flat)
    if k >= flat.numel():
        mask.fill_(1)
    else:
        mask[torch.topk(flat, k, sorted=False).indices] = 1
    return mask.view_as(scores)


class MaskedLayer:
    """Mixin giving a conv/linear layer frozen weights, scores and a cached top-k mask."""

    weight: nn.Parameter

    def _init_mask_state(self):
        self.scores = nn.Parameter(torch.empty_like(self.weight))
        nn.init.kaiming_uniform_(self.scores, a=math.sqrt(5))  # PyTorch's default conv init
        self.weight.requires_grad_(False)
        self.ratio = 1.0
        self.fixed_mask: torch.Tensor | None = None
        self._cache_key = None
        self._mask = None
        self._masked_weight = None
        self.mask_computations = 0  # how often the top-k ran (tests and benchmarks read it)

    @property
    def k(self) -> int:
        return kept_count(self.weight.numel(), self.ratio)

    def set_ratio(self, ratio: float):
        self.ratio = float(ratio)
        self._cache_key = None

    def mask(self) -> torch.Tensor:
        """The current binary mask (cached until scores, weights or ratio change)."""
        s, w = self.scores, self.weight
        key = (
            s._version,
            s.data_ptr(),
            w._version,
            w.data_ptr(),
            self.ratio,
            None if self.fixed_mask is None else self.fixed_mask.data_ptr(),
        )
        if key != self._cache_key:
            if self.fixed_mask is not None:
                self._mask = self.fixed_mask.to(dtype=w.dtype, device=w.device)
            else:
                self._mask = topk_mask(s, self.k)
                self.mask_computations += 1
            self._masked_weight = None
            self._cache_key = key
        return self._mask

    def effective_weight(self) -> torch.Tensor:
        mask = self.mask()
        grad_on = torch.is_grad_enabled()
        score_grad = grad_on and self.scores.requires_grad and self.fixed_mask is None
        weight_grad = grad_on and self.weight.requires_grad
        if not (score_grad or weight_grad):
            if self._masked_weight is None:
                with torch.no_grad():
                    self._masked_weight = self.weight * mask
            return self._masked_weight
        if score_grad:
            a = self.scores.abs()
            mask = mask + (a - a.detach())  # value: the binary mask; gradient: straight-through
        return self.weight * mask

    def set_fixed_mask(self, mask: torch.Tensor | None):
        """Freeze the mask (fine-tuning): the scores no longer matter."""
        if mask is not None:
            check_binary(mask, self.weight.shape)
            mask = mask.detach().to(self.weight.device, self.weight.dtype).clone()
        self.fixed_mask = mask
        self._cache_key = None


class MaskedConv2d(MaskedLayer, nn.Conv2d):  # type: ignore[misc]  # `weight`: the torch layer's own
    def __init__(self, *args, **kwargs):
        kwargs["bias"] = False
        super().__init__(*args, **kwargs)
        self._init_mask_state()

    def forward(self, x):
        return self._conv_forward(x, self.effective_weight(), None)


class MaskedLinear(MaskedLayer, nn.Linear):  # type: ignore[misc]  # `weight`: the torch layer's own
    def __init__(self, in_features, out_features, **kwargs):
        super().__init__(in_features, out_features, bias=False, **kwargs)
        self._init_mask_state()

    def forward(self, x):
        return F.linear(x, self.effective_weight())


def masked_layers(model: nn.Module) -> dict[str, MaskedLayer]:
    return {n: m for n, m in model.named_modules() if isinstance(m, MaskedLayer)}


def set_remaining_ratio(model: nn.Module, ratio_pct: float):
    """Set the remaining ratio (percent, uniform across layers) of every masked layer."""
    layers = masked_layers(model)
    if not layers:
        raise ValueError("model has no masked layers; build it with masked=True")
    for layer in layers.values():
        layer.set_ratio(ratio_pct / 100.0)


def check_binary(mask: torch.Tensor, shape: torch.Size):
    if mask.shape != shape:
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match weight shape {tuple(shape)}")
    if not torch.all((mask == 0) | (mask == 1)):
        raise ValueError("mask entries must be 0 or 1")


def export_mask(model: nn.Module) -> dict[str, torch.Tensor]:
    """Binary masks by layer name (bool tensors on CPU)."""
    return {n: layer.mask().detach().bool().cpu() for n, layer in masked_layers(model).items()}


def import_mask(model: nn.Module, masks: dict[str, torch.Tensor]):
    """Fix every masked layer's mask to the given binary masks (names must match)."""
    layers = masked_layers(model)
    missing, unknown = set(layers) - set(masks), set(masks) - set(layers)
    if missing or unknown:
        raise ValueError(f"mask names do not match the model: missing {sorted(missing)}, unknown {sorted(unknown)}")
    for name, layer in layers.items():
        layer.set_fixed_mask(masks[name].float())


def sparsity_report(model: nn.Module) -> dict[str, dict[str, float]]:
    """Per-layer kept count, size and kept fraction."""
    report = {}
    for name, layer in masked_layers(model).items():
        m = layer.mask()
        kept = int(m.sum().item())
        report[name] = {"kept": kept, "numel": m.numel(), "kept_fraction": kept / m.numel()}
    return report


@contextlib.contextmanager
def frozen_parameters(model: nn.Module):
    """Switch off requires_grad of every parameter while crafting an attack: the attack only
    needs input gradients, and masked layers then reuse their cached masked weight."""
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)
