"""The one compatibility shim of the package.

AdverTorch 0.2.3 imports `zero_gradients` from `torch.autograd.gradcheck`, which modern torch
removed. We put back an equivalent (zero the .grad of a tensor or of every tensor in an iterable)
before AdverTorch is imported. Import AdverTorch only through `advertorch()` below.
"""

from __future__ import annotations

import collections.abc
import importlib

import torch

# `torch.autograd.gradcheck` the attribute is a function; we need the module of that name
_gradcheck = importlib.import_module("torch.autograd.gradcheck")


def _zero_gradients(x):
    if isinstance(x, torch.Tensor):
        if x.grad is not None:
            x.grad.detach_()
            x.grad.zero_()
    elif isinstance(x, collections.abc.Iterable):
        for elem in x:
            _zero_gradients(elem)


def advertorch():
    """The `advertorch.attacks` module, importable on modern torch."""
    if not hasattr(_gradcheck, "zero_gradients"):
        _gradcheck.zero_gradients = _zero_gradients
    import advertorch.attacks

    return advertorch.attacks
