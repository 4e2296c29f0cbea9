"""Step-KTO training on labeled data from stepkto-eval."""
