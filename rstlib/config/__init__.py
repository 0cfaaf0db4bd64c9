"""Configuration: profiles and run descriptions from `_config.yml` (typed, frozen), each section's knobs, and
the checks on numbers that users type."""
