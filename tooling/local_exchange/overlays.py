"""Freqtrade configuration: the overlay that points ccxt's Binance at the local exchange."""

from __future__ import annotations

import json
from copy import deepcopy
from pathlib import Path
from typing import Any


def offline_overlay(api_url: str) -> dict[str, Any]:
    """The freqtrade config block that points ccxt's Binance at ``api_url``.

    Only spot markets are fetched (the futures hosts are not impersonated), and websockets are
    off: in dry runs they would otherwise stream live prices from the real Binance.
    """
    api_url = api_url.rstrip("/")
    if not api_url.endswith("/api/v3"):
        raise ValueError(f"{api_url!r} is not a spot API URL ending in /api/v3")
    root = api_url.removesuffix("/api/v3")
    ccxt_config = {
        "urls": {
            "api": {
                "public": api_url,
                "private": api_url,
                "v1": f"{root}/api/v1",
                "sapi": f"{root}/sapi/v1",
            }
        },
        "options": {"fetchMarkets": {"types": ["spot"]}},
    }
    return {
        "exchange": {
            "enable_ws": False,
            "ccxt_config": ccxt_config,
            "ccxt_async_config": deepcopy(ccxt_config),
        }
    }


def write_offline_overlay(path: Path, api_url: str) -> Path:
    """Write :func:`offline_overlay` as JSON, for ``freqtrade ... -c <path>``."""
    path = Path(path)
    path.write_text(json.dumps(offline_overlay(api_url), indent=4) + "\n", encoding="utf-8")
    return path
