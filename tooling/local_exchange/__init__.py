"""A loopback HTTP server answering like Binance's spot REST API and Bybit's v5, from a datadir.

Freqtrade reaches exchanges only through ccxt, so pointing ccxt's Binance URLs at this server lets
real ``freqtrade`` commands (list-markets, download-data, backtesting, dry runs) work offline and
reproducibly on the bundled candles, without a network and without ever reaching binance.com.
Only the public market-data endpoints exist; anything else answers 404 in Binance's error format.
The same server answers Bybit's public v5 spot endpoints too (:mod:`tooling.bybit_exchange`).

    python -m tooling.local_exchange --datadir user_data/data/binance --port 18765

One module per job: :mod:`.markets` (Binance's trading rules and error answers), :mod:`.candles`
(the datadir's candles, live or replayed), :mod:`.clock` (the replay clock), :mod:`.endpoints`
(the REST answers), :mod:`.server` (HTTP and the server's lifecycle), :mod:`.overlays` (the
freqtrade config that points ccxt here) and :mod:`.cli` (the command line). The names other
modules use are re-exported here.
"""

from tooling.local_exchange.candles import CandleSeries, CandleStore, ReplayStore
from tooling.local_exchange.cli import main
from tooling.local_exchange.clock import (
    HOUR_MS,
    ReplayClock,
    now_ms,
    parse_replay_start,
    write_clock_file,
)
from tooling.local_exchange.endpoints import ENDPOINTS, DayStats, Endpoint, Query
from tooling.local_exchange.markets import (
    BINANCE_INTERVALS_MS,
    DAY_MS,
    BinanceError,
    MarketRules,
    derived_rules,
    market_rules,
)
from tooling.local_exchange.overlays import offline_overlay, write_offline_overlay
from tooling.local_exchange.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    LocalExchange,
    PortInUseError,
    loopback_host,
)

__all__ = [
    "BINANCE_INTERVALS_MS",
    "DAY_MS",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ENDPOINTS",
    "HOUR_MS",
    "BinanceError",
    "CandleSeries",
    "CandleStore",
    "DayStats",
    "Endpoint",
    "LocalExchange",
    "MarketRules",
    "PortInUseError",
    "Query",
    "ReplayClock",
    "ReplayStore",
    "derived_rules",
    "loopback_host",
    "main",
    "market_rules",
    "now_ms",
    "offline_overlay",
    "parse_replay_start",
    "write_clock_file",
    "write_offline_overlay",
]
