"""A finished run's weights: one safetensors file (loading it runs no code), compact, and verified
against the sha256 that the run's metrics.json records before anything is read from it.

Layout (`FORMAT`): every tensor of the model's state dict as it is (a dense network's weights, batch
norm's running statistics), except a masked layer's (an RST, a fine-tuned RST, an RTT). Its network
is `weight * mask`, so the file holds exactly that:
- `<layer>.mask_bits`: its binary mask, flattened, as packed bits (uint8, most significant bit first);
- `<layer>.kept_weight`: the weights the mask keeps, flattened in order (fp32).
The scores that chose the mask and the weights it drops do not change a single output, so they are
not stored: an RST at 10% costs 0.525 bytes per weight instead of the 8 of weights plus scores.
The metadata (one entry, `rstlib`) names the format and every masked layer's weight shape.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_save

from rstlib.store.reading import WEIGHTS_BYTES, UnreadableEntry, read_store_file
from rstlib.store.weights import CorruptCheckpoint

FORMAT = "rstlib-weights-1"
MASK_BITS = ".mask_bits"
KEPT_WEIGHT = ".kept_weight"
METADATA = "rstlib"


def model_bytes(state: dict) -> bytes:
    """The file's bytes for a finished model's `state` ({"model": state dict, "masks": {layer:
    binary mask}} for a masked network, {"model": ...} for a dense one)."""
    masks = state.get("masks") or {}
    tensors: dict[str, torch.Tensor] = {}
    shapes = {}
    for key, value in state["model"].items():
        layer, _, name = key.rpartition(".")
        if layer in masks and name == "scores":
            continue
        if layer in masks and name == "weight":
            keep = masks[layer].detach().cpu().bool()
            if keep.shape != value.shape:
                raise ValueError(f"{layer}: mask shape {tuple(keep.shape)} does not match weight {tuple(value.shape)}")
            bits = np.packbits(keep.flatten().numpy())
            tensors[layer + MASK_BITS] = torch.from_numpy(bits)
            tensors[layer + KEPT_WEIGHT] = value.detach().cpu().flatten()[keep.flatten()].contiguous()
            shapes[layer] = list(value.shape)
            continue
        tensors[key] = value.detach().cpu().contiguous()
    missing = set(masks) - set(shapes)
    if missing:
        raise ValueError(f"masks without a weight in the state dict: {sorted(missing)}")
    # one metadata entry: safetensors writes a metadata map in a random order, and the bytes must
    # not vary (the file's sha256 names the model)
    header = json.dumps({"format": FORMAT, "masked_shapes": shapes}, sort_keys=True)
    return safetensors_save(tensors, metadata={METADATA: header})


def read_model(path: Path, sha256: str) -> dict:
    """The state written by `model_bytes`, back from `path`: {"model": state dict without the
    masked layers' scores, their dropped weights zero; "masks": {layer: float mask}}. A file whose
    bytes do not match `sha256` or that does not parse raises CorruptCheckpoint in one line."""
    try:
        data = read_store_file(path, WEIGHTS_BYTES)
    except UnreadableEntry as e:
        raise CorruptCheckpoint(f"{path.name}: refused: {e}; `rst runs --repair` sets it aside") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise CorruptCheckpoint(
            f"{path.name}: its content does not match the sha256 its run records (truncated, damaged or "
            "altered); refused. `rst runs --repair` sets it aside and the run is trained again"
        )
    try:
        tensors = safetensors_load(data)
        header = json.loads(_metadata(data)[METADATA])
        if header.get("format") != FORMAT:
            raise ValueError(f"format {header.get('format')!r}, expected {FORMAT!r}")
        shapes = header["masked_shapes"]
    except (SafetensorError, ValueError, KeyError) as e:  # one line, not the parser's traceback
        raise CorruptCheckpoint(f"{path.name}: not a weights file of this package ({str(e).splitlines()[0][:200]})") from None
    model: dict[str, torch.Tensor] = {}
    masks: dict[str, torch.Tensor] = {}
    for layer, shape in shapes.items():
        numel = int(np.prod(shape))
        keep = torch.from_numpy(np.unpackbits(tensors.pop(layer + MASK_BITS).numpy(), count=numel).astype(bool))
        kept = tensors.pop(layer + KEPT_WEIGHT)
        if int(keep.sum()) != kept.numel():
            raise CorruptCheckpoint(f"{path.name}: {layer} keeps {int(keep.sum())} weights but stores {kept.numel()}")
        weight = torch.zeros(numel, dtype=kept.dtype)
        weight[keep] = kept
        model[layer + ".weight"] = weight.view(shape)
        masks[layer] = keep.view(shape).float()
    model.update(tensors)
    return {"model": model, "masks": masks}


def _metadata(data: bytes) -> dict:
    """The safetensors header's `__metadata__` (the format is an 8-byte little-endian length, then
    that many bytes of JSON)."""
    size = int.from_bytes(data[:8], "little")
    if size <= 0 or size > len(data) - 8:
        raise ValueError("header length out of range")
    return json.loads(data[8 : 8 + size]).get("__metadata__") or {}
