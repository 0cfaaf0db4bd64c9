"""The claims engine: the registry of the supplement's claims, the rules that judge them, the one noise
model, verdicts, and the rules run on the paper's own numbers."""
