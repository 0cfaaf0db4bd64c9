"""The paper's words for our identifiers: attack, network, dataset and variant names as the supplement
writes them, used by claims' sentences, table headers and figure labels alike."""

from __future__ import annotations

import re

EXACT = {
    "pgd20": "PGD-20",
    "cw_l2": "CW-L2",
    "natural": "natural",
    "strong": "strong (ours)",
    "dense_adv_trained": "dense (adversarial)",
    "dense_nat_trained": "dense (natural)",
    "C1_best_rst_minus_dense": "C1: best RST − dense (PGD-20)",
    "C1_strong": "C1: best RST − dense (strong)",
    "C2_offdiag_minus_diag": "C2: off-diagonal − diagonal",
    "C2_last_iterate": "C2: off-diagonal − diagonal (last iterate, ours)",
    "C3_r2s_minus_dense": "C3: R2S − dense (PGD-20)",
    "C3_strong": "C3: R2S − dense (strong)",
    "dense_pgd20": "dense, PGD-20",
    "dense_strong": "dense, strong",
    "pgd20_protocol": "PGD-20 (paper's protocol)",
    "pgd20_eot_loss": "EOT loss, CE (ours)",
    "pgd20_eot_logits": "EOT logits, CE (ours)",
    "pgd20_eot_loss_margin": "EOT loss, margin (ours)",
    "pgd20_eot_logits_margin": "EOT logits, margin (ours)",
    "autoattack_rand": "AutoAttack rand (ours)",
    "autoattack_transfer": "AutoAttack from members (ours)",
    "remaining_ratio_pct": "ratio (%)",
    "n_test": "test images",
    "n_images": "images",
    "run_id": "run",
    "candidate_set": "candidate set",
    "candidate_sets": "candidate sets",
    "same_ratio_other_seed": "same ratio, other seed",
    "attack_source": "attack source",
    "attack_source_run": "attack source run",
    "table2_ratios": "Table 2 ratios",
    "train_attack": "training attack",
    "finetune_weights": "fine-tuned weights",
    "bandits_queries": "Bandits queries",
    "acc": "accuracy (%)",
    "rst": "RST",
    "FT_RST_Inherit": "fine-tuned RST (inherited)",
    "FT_RST_Reinit": "fine-tuned RST (re-initialised)",
    "Adv_RTT": "adversarial RTT",
    "Natural_RTT": "natural RTT",
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "svhn": "SVHN",
    "cnn_small": "SmallCNN",
    "resnet18": "ResNet-18",
    "wrn34_10": "WRN-34-10",
    "signed_kaiming_constant": "Signed Kaiming Constant",
    "kaiming_normal": "Kaiming Normal",
    "kaiming_uniform": "Kaiming Uniform",
    "xavier_normal": "Xavier Normal",
}
PATTERNS = [
    (re.compile(r"^autoattack_eps([\d.]+)$"), r"AutoAttack, ε = \1/255"),
    (re.compile(r"^cw_inf_eps([\d.]+)$"), r"CW-Inf, ε = \1/255"),
    (re.compile(r"^bandits_eps([\d.]+)$"), r"Bandits, ε = \1/255"),
    (re.compile(r"^rst_([\d.]+)$"), r"RST @ \1%"),
    (re.compile(r"^Adv_RTT transferred from (.+)$"), r"adversarial RTT transferred from \1"),
    (re.compile(r"^rtt \(from adv on (.+)\)$"), r"adversarial RTT (drawn on \1)"),
    (re.compile(r"^rtt \(from adv\)$"), "adversarial RTT"),
    (re.compile(r"^rtt \(from nat\)$"), "natural RTT"),
    (re.compile(r"^search, (.+)$"), r"RST (\1)"),
    (re.compile(r"^search$"), "RST"),
]


def label(text) -> str:
    """A header or row label in the paper's words."""
    if not isinstance(text, str):
        return text if not isinstance(text, float) or not text.is_integer() else f"{text:g}"
    if text in EXACT:
        return EXACT[text]
    for pattern, replacement in PATTERNS:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", text):  # any other identifier: its words
        return text.replace("_", " ")
    return text
