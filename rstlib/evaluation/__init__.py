"""Evaluation of stored runs: every attack (PGD-20, CW, AutoAttack, Bandits), transfer, Random RST Switch,
and the entry points for one's own models."""
