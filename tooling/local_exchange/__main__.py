"""``python -m tooling.local_exchange``: serve in the foreground until SIGINT/SIGTERM."""

from tooling.local_exchange.cli import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m tooling.local_exchange"))
