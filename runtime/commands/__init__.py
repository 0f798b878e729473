"""One module per ``maigic`` subcommand, each exposing ``register(subparsers)``."""
