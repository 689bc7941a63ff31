"""The exchanges the bundle trades on (Binance and Bybit spot) and their local-exchange overlays.

One local exchange answers both APIs (:mod:`tooling.local_exchange` for Binance's ``/api/v3``,
:mod:`tooling.bybit_exchange` for Bybit's ``/v5``); the overlay chosen here decides which one
ccxt talks to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

EXCHANGES = ("binance", "bybit")


def write_exchange_overlay(path: Path, exchange: str, url: str) -> Path:
    """The overlay pointing ccxt's ``exchange`` at the local exchange (root or ``/api/v3`` URL).

    It names the exchange too, so ``--exchange bybit`` runs on Bybit whatever the configs say.
    """
    if exchange == "bybit":
        from tooling.bybit_exchange import write_bybit_overlay

        return write_bybit_overlay(path, url)
    if exchange != "binance":
        raise ValueError(f"the local exchange serves {' and '.join(EXCHANGES)}, not {exchange!r}")
    from tooling.local_exchange import offline_overlay

    root = url.rstrip("/").removesuffix("/api/v3")
    overlay = offline_overlay(f"{root}/api/v3")
    overlay["exchange"] = {"name": "binance", **overlay["exchange"]}
    path = Path(path)
    path.write_text(json.dumps(overlay, indent=4) + "\n", encoding="utf-8")
    return path


def configured_exchange(freqtrade_arguments: Sequence[str], cwd: Path) -> str:
    """The exchange the ``-c``/``--config`` files of a freqtrade command name (the last one wins).

    ``binance`` when none names one, or a file cannot be read as plain JSON (freqtrade then says
    what is wrong with it).
    """
    name = "binance"
    arguments = list(freqtrade_arguments)
    for index, argument in enumerate(arguments):
        if argument in ("-c", "--config") and index + 1 < len(arguments):
            path = Path(arguments[index + 1])
        elif argument.startswith("--config="):
            path = Path(argument.split("=", 1)[1])
        else:
            continue
        path = path if path.is_absolute() else cwd / path
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        exchange = config.get("exchange") if isinstance(config, dict) else None
        if isinstance(exchange, dict) and isinstance(exchange.get("name"), str):
            name = exchange["name"].lower()
    return name
