"""The ground floor: the error every layer raises for a user's mistake."""


class ConfigError(ValueError):
    """A configuration or user input is invalid; the message says what to change (one line)."""


class AttackError(RuntimeError):
    """An attack's output cannot be scored (e.g. non-finite adversarial images); nothing is cached."""


class TrainingDiverged(RuntimeError):
    """A training whose loss or weights became non-finite: the run is failed, never stored as done."""


class RetrainedElsewhere(RuntimeError):
    """Committed results whose weights, retrained here, are other ones (another CPU's arithmetic):
    the committed numbers stay, the new weights are kept apart, and nothing is evaluated on them."""
