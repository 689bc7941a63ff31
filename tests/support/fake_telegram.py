"""A loopback fake of the Telegram Bot API that records what the bot sends.

Answers ``getMe``, ``getUpdates`` (empty, after a short wait like a long poll), ``sendMessage``
and anything else with ``ok: true``, in the Bot API's JSON shapes.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "fake", "username": "fake_swing_bot"}


class _Handler(BaseHTTPRequestHandler):
    server: _FakeServer

    def do_POST(self) -> None:  # noqa: N802 - base-class name
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        params = _params(self.headers.get("Content-Type", ""), body)
        method = self.path.rstrip("/").rsplit("/", 1)[-1]
        self.server.record(method, params)
        if method == "getUpdates":
            time.sleep(0.5)
        self._send({"ok": True, "result": self.server.result(method, params)})

    do_GET = do_POST  # noqa: N815

    def _send(self, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if "json" in content_type:
        return json.loads(body)
    if "x-www-form-urlencoded" in content_type:
        return {key: values[-1] for key, values in parse_qs(body.decode()).items()}
    if "multipart/form-data" in content_type:
        boundary = content_type.split("boundary=", 1)[1].encode()
        fields: dict[str, Any] = {}
        for part in body.split(b"--" + boundary):
            head, _, value = part.partition(b"\r\n\r\n")
            if b'name="' in head:
                name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
                fields[name] = value.rstrip(b"\r\n").decode(errors="replace")
        return fields
    return {}


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.message_id = 0

    def record(self, method: str, params: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append((method, params))

    def result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            return []
        if method in ("sendMessage", "editMessageText"):
            with self.lock:
                self.message_id += 1
                message_id = self.message_id
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
        return True


class FakeTelegram:
    """``with FakeTelegram() as telegram:`` serves on ``telegram.url`` until the block ends."""

    def __init__(self) -> None:
        self._server = _FakeServer()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def messages(self) -> list[dict[str, Any]]:
        """Every ``sendMessage`` call's parameters, oldest first."""
        with self._server.lock:
            return [params for method, params in self._server.calls if method == "sendMessage"]

    def methods(self) -> list[str]:
        with self._server.lock:
            return [method for method, _ in self._server.calls]

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
