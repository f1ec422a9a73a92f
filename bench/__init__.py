"""The benchmark (python -m bench): figures, not pass/fail."""
