"""The loopback HTTP server: routes requests to the endpoints, bound and run in a thread."""

from __future__ import annotations

import errno
import ipaddress
import json
import logging
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tooling.local_exchange.candles import CandleStore, ReplayStore
from tooling.local_exchange.clock import ReplayClock, now_ms, write_clock_file
from tooling.local_exchange.endpoints import ENDPOINTS, Endpoint
from tooling.local_exchange.markets import BinanceError

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 18765


class PortInUseError(OSError):
    """The port is taken: named plainly so a Makefile user sees why the server did not start."""

    def __init__(self, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} is already in use")
        self.port = port

    def __str__(self) -> str:
        return self.strerror or f"port {self.port} is already in use"


class _ExchangeServer(ThreadingHTTPServer):
    """The HTTP server, carrying the candle store and a tally of the endpoints hit."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: CandleStore) -> None:
        from tooling.bybit_exchange import ENDPOINTS as BYBIT_ENDPOINTS

        self.store = store
        # Binance's /api/v3 paths and Bybit's /v5 paths never overlap: one server answers both.
        self.endpoints: dict[str, Endpoint] = {**ENDPOINTS, **BYBIT_ENDPOINTS}
        self.hits: Counter[str] = Counter()
        self.hits_lock = threading.Lock()
        super().__init__(address, _Handler)

    def record(self, endpoint: str) -> None:
        """Count one request, so tests and users can see what ccxt and freqtrade asked for."""
        with self.hits_lock:
            self.hits[endpoint] += 1


class _ExchangeServerV6(_ExchangeServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    """Routes a request to its endpoint and answers JSON, errors in Binance's format."""

    server: _ExchangeServer
    protocol_version = "HTTP/1.1"  # keep-alive: ccxt reuses its connections
    server_version = "freqai-swing-local-exchange"

    def do_GET(self) -> None:
        """Answer a market-data request."""
        parts = urlsplit(self.path)
        self.server.record(f"GET {parts.path}")
        endpoint = self.server.endpoints.get(parts.path)
        if endpoint is None:
            self._unknown(parts.path)
            return
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        try:
            payload = endpoint(self.server.store, query)
        except BinanceError as error:
            self._send(error.status, {"code": error.code, "msg": error.msg})
        except Exception:
            logger.exception("Local exchange failed on %s", self.path)
            self._send(500, {"code": -1000, "msg": "An unknown error occurred while processing."})
        else:
            self._send(200, payload)

    def do_POST(self) -> None:
        """Orders and account calls are not impersonated: say so instead of pretending."""
        self._discard_body()
        self.server.record(f"POST {urlsplit(self.path).path}")
        self._unknown(urlsplit(self.path).path)

    do_PUT = do_POST  # noqa: N815
    do_DELETE = do_POST  # noqa: N815

    def _discard_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def _unknown(self, path: str) -> None:
        logger.info("Local exchange has no endpoint %s %s", self.command, path)
        self._send(
            404, {"code": -1000, "msg": f"Unknown endpoint {self.command} {path} (local exchange)."}
        )

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base-class signature
        """One debug line per request instead of http.server's stderr output."""
        logger.debug("%s %s", self.address_string(), format % args)


def loopback_host(host: str) -> str:
    """The address to bind, refusing anything reachable from outside this machine."""
    if host == "localhost":
        return DEFAULT_HOST
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(
            f"refusing to bind {host!r}: the local exchange listens on loopback only "
            "(127.0.0.1, ::1 or localhost)"
        )
    return host


class LocalExchange:
    """The server's lifecycle: bind on loopback, serve in a background thread, stop.

    ``with LocalExchange(datadir) as exchange:`` gives a running server on a free port, whose
    ``api_url`` goes into :func:`offline_overlay`.
    """

    def __init__(
        self,
        datadir: Path,
        host: str = DEFAULT_HOST,
        port: int = 0,
        replay: ReplayClock | None = None,
        clock_file: Path | None = None,
    ) -> None:
        self.host = loopback_host(host)
        if clock_file is not None and replay is None:
            raise ValueError("a clock file is only written in replay mode")
        self.store = CandleStore(Path(datadir)) if replay is None else ReplayStore(datadir, replay)
        self.replay = replay
        self.clock_file = None if clock_file is None else Path(clock_file)
        self._requested_port = port
        self._server: _ExchangeServer | None = None
        self._thread: threading.Thread | None = None
        self._clock_stop = threading.Event()
        self._clock_thread: threading.Thread | None = None

    def start(self) -> LocalExchange:
        """Bind and serve in a daemon thread; raises :class:`PortInUseError` if taken."""
        if self._server is not None:
            return self
        server_class = _ExchangeServerV6 if ":" in self.host else _ExchangeServer
        try:
            self._server = server_class((self.host, self._requested_port), self.store)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(self._requested_port) from error
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="local-exchange",
            daemon=True,
        )
        self._thread.start()
        if self.replay is not None and self.clock_file is not None:
            write_clock_file(self.clock_file, self.replay)
            self._clock_stop.clear()
            self._clock_thread = threading.Thread(
                target=self._keep_clock_file, name="replay-clock", daemon=True
            )
            self._clock_thread.start()
        logger.info("Local exchange serving %d pairs on %s", len(self.store.symbols()), self.url)
        return self

    def _keep_clock_file(self) -> None:
        """Rewrite the shared clock at every replay step, so the bot's clock jumps with ours."""
        assert self.replay is not None and self.clock_file is not None
        while True:
            wait_ms = self.replay.next_step_real_ms(now_ms()) - now_ms()
            if self._clock_stop.wait(max(wait_ms, 1) / 1000):
                return
            write_clock_file(self.clock_file, self.replay)

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        if self._clock_thread is not None:
            self._clock_stop.set()
            self._clock_thread.join()
            self._clock_thread = None
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    @property
    def port(self) -> int:
        """The bound port (the one picked by the system when started with port 0)."""
        if self._server is None:
            raise RuntimeError("The local exchange is not started.")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:18765``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Base URL of the spot API, what ccxt calls ``urls.api.public``."""
        return f"{self.url}/api/v3"

    @property
    def bybit_url(self) -> str:
        """Base URL of Bybit's v5 API here (its root), what ccxt's bybit calls ``urls.api``."""
        return self.url

    @property
    def endpoint_hits(self) -> Counter[str]:
        """How often each ``METHOD /path`` was requested since start."""
        if self._server is None:
            return Counter()
        with self._server.hits_lock:
            return Counter(self._server.hits)

    def __enter__(self) -> LocalExchange:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
