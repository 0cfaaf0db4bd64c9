"""The network of a run: built as its configuration says (masked or dense, at its ratio),
initialised (from its parent's weights for a fine-tune or an RTT), loaded when finished, and the
parameters its kind trains."""

from __future__ import annotations

import torch
import torch.nn as nn

from rstlib.config.profile import RunConfig
from rstlib.nets.inits import initialise, kaiming_normal
from rstlib.nets.masking import import_mask, masked_layers, set_remaining_ratio
from rstlib.nets.models import Classifier, build_model
from rstlib.runtime.device import resolve_device
from rstlib.store.rundir import RunDir

MASKED_KINDS = ("search", "finetune", "rtt")


def build_run_model(config: RunConfig) -> Classifier:
    """The run's architecture, masked for search/finetune/rtt, dense for dense; ratio set."""
    model = build_model(config.arch, config.dataset, masked=config.kind in MASKED_KINDS, width=config.width)
    if config.kind in MASKED_KINDS:
        set_remaining_ratio(model, config.ratio)
    return model


def load_run_model(run: RunDir, device="cpu") -> Classifier:
    """A finished run's model, ready for evaluation."""
    model = build_run_model(run.config)
    state = run.load_model_state()
    load_state(model, state)
    return model.to(resolve_device(device)).eval()


def load_state(model: nn.Module, state: dict):
    """Load a finished run's state (`RunDir.load_model_state`): a masked network's scores are not
    stored (its masks are, and fix the network), so only scores may be absent."""
    masks = state.get("masks")
    missing, unexpected = model.load_state_dict(state["model"], strict=False)
    if unexpected or any(not (masks and k.endswith("scores")) for k in missing):
        raise RuntimeError(f"the stored weights do not fit the network: missing {missing}, unexpected {unexpected}")
    if masks:
        import_mask(model, masks)


def initial_model(config: RunConfig, store) -> Classifier:
    model = build_run_model(config)
    initialise(model, config.init, config.seed)
    if config.kind == "rtt":
        # weights (and BN statistics) of the trained dense network; the scores stay fresh
        dense_state = store.dir(config.parent).load_model_state()["model"]
        missing, unexpected = model.load_state_dict(dense_state, strict=False)
        if unexpected or any(not k.endswith("scores") for k in missing):
            raise RuntimeError(f"dense state does not fit the masked model: {missing} {unexpected}")
    elif config.kind == "finetune":
        assert config.parent is not None  # checked by RunConfig
        parent = build_run_model(config.parent)
        load_state(parent, store.dir(config.parent).load_model_state())
        model.load_state_dict(parent.state_dict())
        import_mask(model, {n: layer.mask() for n, layer in masked_layers(parent).items()})
        if config.finetune_weights == "reinit":
            gen = torch.Generator().manual_seed(config.seed + 10_000)
            with torch.no_grad():
                for layer in masked_layers(model).values():
                    w = torch.empty(layer.weight.shape)
                    kaiming_normal(w, gen)
                    layer.weight.copy_(w)
    return model


def trainable_parameters(model: nn.Module, kind: str) -> list[nn.Parameter]:
    """search/rtt: scores only; dense: weights; finetune: weights with the mask fixed."""
    trainable = []
    for name, p in model.named_parameters():
        is_score = name.endswith("scores")
        train_it = is_score if kind in ("search", "rtt") else not is_score
        p.requires_grad_(train_it)
        if train_it:
            trainable.append(p)
    return trainable
