"""A loopback fake of the Telegram Bot API that records what the bot sends.

Answers ``getMe``, ``getUpdates`` (a long poll: held until an update is queued or the request's
``timeout`` passes, as Telegram does), ``sendMessage`` and anything else with ``ok: true``, in the
Bot API's JSON shapes. Answering polls at once would make the bot poll several times a second and
take CPU from its trading loop and FreqAI's training thread.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

LONG_POLL_CAP_SECONDS = 10.0
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
            self.server.wait_for_updates(int(params.get("offset") or 0), params.get("timeout"))
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
        self.queued = threading.Condition(self.lock)
        self.message_id = 0
        self.updates: list[dict[str, Any]] = []

    def record(self, method: str, params: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append((method, params))

    def wait_for_updates(self, offset: int, timeout: Any) -> None:
        """Hold a ``getUpdates`` poll until an update at or after ``offset`` is queued."""
        seconds = min(float(timeout or 0.5), LONG_POLL_CAP_SECONDS)
        with self.queued:
            self.queued.wait_for(
                lambda: any(item["update_id"] >= offset for item in self.updates), seconds
            )

    def result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            with self.lock:
                self.updates = [item for item in self.updates if item["update_id"] >= offset]
                return list(self.updates)
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

    def send_command(self, chat_id: int, command: str) -> None:
        """Queue a user's ``/command`` in ``chat_id`` for the bot's next ``getUpdates``."""
        with self._server.lock:
            self._server.message_id += 1
            update_id = 1000 + self._server.message_id
            self._server.updates.append(
                {
                    "update_id": update_id,
                    "message": {
                        "message_id": self._server.message_id,
                        "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private"},
                        "from": {"id": chat_id, "is_bot": False, "first_name": "user"},
                        "text": command,
                        "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
                    },
                }
            )
            self._server.queued.notify_all()

    def methods(self) -> list[str]:
        with self._server.lock:
            return [method for method, _ in self._server.calls]

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
