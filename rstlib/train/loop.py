"""One training loop for every variant of the paper:

- search:   RST adversarial mask search: scores trained, random weights frozen (PGD-k / FGSM-RS)
- dense:    dense natural (attack 'none') or adversarial training of the weights
- finetune: the RST's mask fixed, weights trained (inherited or re-initialised)
- rtt:      mask search over the weights of a trained dense run (natural or adversarial RTT)
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from rstlib import data as datasets
from rstlib.attacks.pgd import accuracy, training_attack
from rstlib.config.profile import Profile, RunConfig
from rstlib.config.settings import TrainSettings
from rstlib.errors import RetrainedElsewhere, TrainingDiverged
from rstlib.nets.masking import masked_layers, sparsity_report
from rstlib.runtime import numerics
from rstlib.runtime.device import require_precision, resolve_device
from rstlib.runtime.progress import bar
from rstlib.store.files import RETRAINED
from rstlib.store.rundir import RunDir
from rstlib.train.run_model import MASKED_KINDS, initial_model, trainable_parameters


@dataclass(frozen=True)
class RunOptions:
    """How to run, not what: none of these enters a run's identity. The same object travels from
    the CLI, the notebooks and a sweep, so all three train a run id on the same float path.

    device: auto | cpu | cuda; progress: tqdm bars; announce: one line per run start/epoch/end
    on stderr (what a papermill log or a sweep shows); channels_last / compile: the profile's
    fast path."""

    device: str = "auto"
    progress: bool = True
    announce: bool = True
    channels_last: bool = False
    compile: bool = False

    @classmethod
    def of(cls, profile: Profile, **kwargs) -> "RunOptions":
        """The profile's fast path with the given device / progress settings."""
        return cls(channels_last=profile.fast.channels_last, compile=profile.fast.compile, **kwargs)


def announce(options: RunOptions, message: str):
    if options.announce:
        print(f"[rst {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def learning_rate(settings: TrainSettings, epoch_progress: float) -> float:
    """Piecewise: x0.1 at 50% and 75% of training (epochs 80/120 of 160); cosine: per iteration."""
    if settings.schedule == "cosine":
        return 0.5 * settings.lr * (1 + math.cos(math.pi * epoch_progress / settings.epochs))
    epoch = int(epoch_progress)
    factor = 1.0
    for milestone in (0.5, 0.75):
        if epoch >= int(round(milestone * settings.epochs)):
            factor *= 0.1
    return settings.lr * factor


def _run_logger(run: RunDir) -> logging.Logger:
    log = logging.getLogger(f"rstlib.run.{run.path.name}")
    log.setLevel(logging.INFO)
    log.propagate = False
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    handler = logging.FileHandler(run.log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    return log


def train_step(
    model: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    attack=None,
    generator: torch.Generator | None = None,
    autocast=None,
):
    """One optimiser step on the (adversarial) batch; returns (loss, logits).

    The attack is crafted with the model in train mode, as in the original search. During its
    steps the parameters are frozen, so masked layers reuse one cached mask per optimiser step.
    """
    with autocast if autocast is not None else contextlib.nullcontext():
        x_in = attack(model, x, y, generator) if attack is not None else x
        logits = model(x_in)
        loss = F.cross_entropy(logits.float(), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss, logits


def precision_autocast(device: torch.device, precision: str):
    """The training step's arithmetic: bf16 autocast when the run's precision is bf16 (evaluation
    attacks never use it)."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()


def execute(config: RunConfig, run: RunDir, store, options: RunOptions = RunOptions()) -> dict:
    """Train `config` into `run` (resuming from its last good checkpoint); returns metrics.
    Ctrl-C (or SIGTERM via KeyboardInterrupt) leaves the run `interrupted`; asking again resumes."""
    device = resolve_device(options.device)
    require_precision(config.precision, device, where=f"run {config.run_id()}")
    run.path.mkdir(parents=True, exist_ok=True)
    run.clean_stale_temporaries()  # the caller holds the run's lock: nothing else is writing here
    run.write_config()
    log = _run_logger(run)
    run.set_status("running")
    try:
        metrics = _train(config, run, store, device, options, log)
    except KeyboardInterrupt:
        run.set_status("interrupted")
        log.info("interrupted (resumes from its last checkpoint when asked again)")
        announce(options, f"interrupted {run.path.name}; it resumes from its last checkpoint")
        raise
    except RetrainedElsewhere as e:  # the run keeps its recorded results (its state: results-only)
        log.info(str(e))
        raise
    except BaseException as e:
        run.set_status("failed", error=f"{type(e).__name__}: {e}")
        log.info(f"failed: {type(e).__name__}: {e}")
        raise
    finally:
        for h in list(log.handlers):
            h.close()
            log.removeHandler(h)
    return metrics


def _check_finite(model: nn.Module, loss: float, epoch: int, lr: float):
    """Raise TrainingDiverged when the epoch's loss or any weight is NaN or infinite: such a run is
    failed, never checkpointed nor stored as finished."""
    bad = [name for name, t in model.state_dict().items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if math.isfinite(loss) and not bad:
        return
    what = f"loss {loss}" if not math.isfinite(loss) else f"non-finite weights in {bad[0]}"
    raise TrainingDiverged(
        f"training diverged at epoch {epoch} ({what}); nothing was stored as finished: lower the learning rate (lr {lr:g})"
    )


def _train(config, run, store, device, options: RunOptions, log) -> dict:
    s = config.train
    channels_last, progress = options.channels_last, options.progress
    spec = datasets.dataset_spec(config.dataset)
    train_data = datasets.load(config.dataset, train=True, n=config.n_train)
    test_data = datasets.load(config.dataset, train=False, n=config.n_test)
    model = initial_model(config, store).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # Module.to takes memory_format; torch's stub omits it
    params = trainable_parameters(model, config.kind)
    optimizer = torch.optim.SGD(params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)
    data_gen = torch.Generator().manual_seed(config.seed)
    attack_gen = torch.Generator().manual_seed(config.seed + 1)
    loader = datasets.BatchLoader(
        train_data, s.batch_size, device, shuffle=True, augment=spec, generator=data_gen, channels_last=channels_last
    )
    test_loader = datasets.BatchLoader(test_data, 512, device, shuffle=False, channels_last=channels_last)
    attack = training_attack(s.attack, s.eps, s.step, s.steps)
    forward = torch.compile(model) if options.compile else model
    autocast = precision_autocast(device, config.precision)

    start_epoch, history = 0, []
    ckpt = run.latest_checkpoint(log=lambda m: (log.info(m), print(m)))
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        data_gen.set_state(ckpt["data_generator"])
        attack_gen.set_state(ckpt["attack_generator"])
        start_epoch, history = ckpt["epoch"] + 1, ckpt["history"]
        log.info(f"resumed after epoch {ckpt['epoch']}")
        announce(options, f"resume {run.path.name} after epoch {ckpt['epoch'] + 1}/{s.epochs}")
    else:
        log.info(f"start {config.run_id()} on {device}: {json.dumps(config.to_dict(), default=str)}")
        announce(options, f"train {run.path.name}: {s.epochs} epochs on {device} ({config.precision})")

    n_iter = len(loader)
    for epoch in range(start_epoch, s.epochs):
        model.train()
        t0 = time.time()
        loss_sum = correct = seen = 0
        batches = bar(loader, progress, desc=f"{run.path.name[:40]} ep {epoch + 1}/{s.epochs}")
        for i, (x, y) in enumerate(batches):
            lr = learning_rate(s, epoch + i / n_iter)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss, logits = train_step(forward, x, y, optimizer, attack, attack_gen, autocast)
            loss_sum += loss.item() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
            if hasattr(batches, "set_postfix"):  # a bar on a terminal
                batches.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{100 * correct / seen:.1f}")
        epoch_time = time.time() - t0
        _check_finite(model, loss_sum / seen, epoch + 1, s.lr)
        test_acc = accuracy(model, test_loader)
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": loss_sum / seen,
                "train_acc": 100 * correct / seen,
                "test_natural_acc": test_acc,
                "lr": lr,
                "epoch_seconds": epoch_time,
            }
        )
        log.info(
            f"epoch {epoch + 1}/{s.epochs} loss {loss_sum / seen:.4f} train_acc {100 * correct / seen:.2f} "
            f"test_acc {test_acc:.2f} lr {lr:.4g} time {epoch_time:.1f}s"
        )
        announce(
            options,
            f"  {run.path.name} epoch {epoch + 1}/{s.epochs}: loss {loss_sum / seen:.3f}, "
            f"test acc {test_acc:.2f}%, {epoch_time:.1f} s",
        )
        run.save_checkpoint(
            epoch,
            {
                "epoch": epoch,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "data_generator": data_gen.get_state(),
                "attack_generator": attack_gen.get_state(),
                "history": history,
            },
        )

    model = model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]  # (torch's stub omits it)
    final = {"model": model.state_dict()}
    if config.kind in MASKED_KINDS:
        final["masks"] = {n: m.mask().detach().cpu() for n, m in masked_layers(model).items()}
    metrics = {
        "run_id": config.run_id(),
        "natural_acc": history[-1]["test_natural_acc"],
        "n_test": len(test_data),
        "n_train": len(train_data),
        "history": history,
        "seconds_per_epoch": sum(h["epoch_seconds"] for h in history) / len(history),
        "device": str(device),
    }
    if device.type == "cpu":
        metrics["cpu_numerics"] = numerics.fingerprint()
    if config.kind in MASKED_KINDS:
        report = sparsity_report(model)
        metrics["kept_fraction"] = sum(r["kept"] for r in report.values()) / sum(r["numel"] for r in report.values())
        run.write_sparsity(report)
    recorded = run.metrics().get("model_sha256") if run.has_results() else None
    digest = run.save_model(final, recorded)
    if recorded == digest:
        # weights of committed results, retrained bit-identically: the recorded metrics stay as they are
        announce(options, f"done {run.path.name}: the same model (sha256) as its recorded results")
    elif recorded is not None:
        # other weights than the recorded results': those numbers stay the run's; these are kept apart
        was = run.metrics().get("cpu_numerics") or "not recorded"
        here = metrics.get("cpu_numerics")
        message = (
            f"{run.path.name} retrained to a different model than its recorded results (sha256 {digest[:12]}, recorded "
            f"{recorded[:12]}): other hardware or library version (CPU arithmetic recorded: {was}; here: {here}). "
            "The recorded results and their cached evaluations are kept; the new weights are set aside as "
            f"{RETRAINED.format(sha12=digest[:12])} (train into a store of your own, --runs DIR, to evaluate them)"
        )
        run.set_status("done", retrained_here=here, note=message)
        run.clear_checkpoints()
        raise RetrainedElsewhere(message)
    else:
        metrics["model_sha256"] = digest
        run.write_metrics(metrics)
        announce(options, f"done {run.path.name}: natural accuracy {metrics['natural_acc']:.2f}%")
    run.set_status("done")
    run.clear_checkpoints()
    log.info(f"done: natural_acc {metrics['natural_acc']:.2f}")
    return run.metrics()
