"""One module per `stepkto-eval` subcommand (see stepkto_eval/cli.py)."""
