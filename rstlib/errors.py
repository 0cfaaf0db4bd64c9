"""The ground floor: the error every layer raises for a user's mistake."""


class ConfigError(ValueError):
    """A configuration or user input is invalid; the message says what to change (one line)."""
