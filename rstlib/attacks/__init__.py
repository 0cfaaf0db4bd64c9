"""Attacks: PGD (training and PGD-20), Bandits-TD, and the AdverTorch shim."""
