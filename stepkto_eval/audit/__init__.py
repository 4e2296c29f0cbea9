"""Step-error auditing: step splitting and judges."""
