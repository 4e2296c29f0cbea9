"""stepkto evaluation: grading, tasks, backends, metrics, auditing and run folders."""
__version__ = "0.1.0"
