"""TESTS ONLY: route python-telegram-bot to the fake Bot API server named in the environment.

Freqtrade builds its Telegram application itself (``Application.builder().token(...).build()``)
without a base-URL setting. The bot subprocess of the paper-trading test gets this folder on
``PYTHONPATH`` and ``FREQAI_SWING_FAKE_TELEGRAM`` set, so Python imports this module at start-up
and every application built afterwards talks to the local fake. Shipped code never does this.
"""

import os

_URL = os.environ.get("FREQAI_SWING_FAKE_TELEGRAM")
if _URL:
    from telegram.ext import ApplicationBuilder

    _build = ApplicationBuilder.build

    def _build_on_fake(self):  # type: ignore[no-untyped-def]
        self.base_url(f"{_URL}/bot")
        self.base_file_url(f"{_URL}/file/bot")
        return _build(self)

    ApplicationBuilder.build = _build_on_fake
