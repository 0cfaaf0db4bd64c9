"""Where code runs: device choice, CPU arithmetic that does not depend on the machine, progress bars."""
