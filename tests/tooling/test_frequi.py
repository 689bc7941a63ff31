"""FreqUI in a real browser: a user logs in, finds the bot's open trade and sees why it trades.

A dry run of the default strategy (``SwingPortfolioStrategy``: config/base.json +
config/portfolio.json + config/dry-run.json) on the replay exchange serves FreqUI (installed into
freqtrade by ``freqai-swing install-ui``, which ``make test`` runs) on 127.0.0.1 with generated
credentials. Debian's headless Chromium, driven by Playwright (never a browser of its own), goes
through it as a user does: login form, trade list, Chart page with the strategy's plot
configuration loaded through FreqUI's Plot Configurator ("From strategy", "Save").

The replay starts at 2024-02-21 00:00, right after the 23:00 decision candle closed, so the
strategy's own entry fires in the bot's first loop; one candle per 10 minutes keeps the replayed
clock from jumping during the test (a jump of an hour would expire FreqUI's 15-minute login
token and turn its next requests into 401s that it then refreshes). Set
``FREQAI_SWING_SCREENSHOTS=docs`` to refresh the README's screenshots from a run.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image, ImageStat
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import CONFIG_DIR, REPO_ROOT
from tests.support.browser import chromium
from tests.support.paper_bot import PaperBot, replayed_dry_run, wait_for
from tooling.frequi import installed_ui_version

pytestmark = pytest.mark.slow

REPLAY_START = "2024-02-21T00:00"
SECONDS_PER_CANDLE = 600.0
PAIRS = ["ETH/USDT", "SOL/USDT"]
SHARED_FREQUI = REPO_ROOT.parent / "shared" / "frequi"
#: FreqUI loads its icons from the Iconify API and its mirrors; no test reaches the internet, so
#: the browser blocks them (offline the icons are missing, nothing else is).
ICON_HOSTS = {"api.iconify.design", "api.simplesvg.com", "api.unisvg.com"}
#: The strategy enters in the bot's first loop, which a loaded machine may delay.
ENTRY_WAIT_S = 180
#: Generous: the bot serves FreqUI from a loaded 2-core machine.
TIMEOUT_MS = 60_000
CONFIGURATOR_ATTEMPTS = 4
VIEWPORT = {"width": 1400, "height": 900}
#: ECharts' HTML tooltip (FreqUI's chart: one section per subplot, one line per column).
TOOLTIP_TEXT = """() => Array.from(document.querySelectorAll('div'))
    .filter(div => div.style.zIndex === '9999999' && div.style.display !== 'none')
    .map(div => div.innerText).join('\\n')"""


def require_installed_ui() -> None:
    if installed_ui_version() is not None:
        return
    if SHARED_FREQUI.is_dir():
        pytest.fail(
            f"FreqUI is not installed: `make test` installs it (freqai-swing install-ui --from "
            f"{SHARED_FREQUI})"
        )
    pytest.skip("FreqUI is not installed and there is no ../shared/frequi to install it from")


@pytest.fixture(scope="module")
def ui_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperBot]:
    require_installed_ui()
    overlay = {
        "exchange": {"pair_whitelist": PAIRS},
        # Test-only: a forced entry when the strategy's own one is late; orders fill at once.
        "force_entry_enable": True,
        "entry_pricing": {"price_side": "other"},
        "exit_pricing": {"price_side": "other"},
    }
    with replayed_dry_run(
        tmp_path_factory.mktemp("frequi"),
        [CONFIG_DIR / name for name in ("base.json", "portfolio.json", "dry-run.json")],
        overlay,
        REPLAY_START,
        SECONDS_PER_CANDLE,
    ) as bot:
        yield bot


@pytest.fixture(scope="module")
def browser(ui_bot: PaperBot) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Session:
    """A fresh browser profile on the bot's FreqUI, recording what the console reports."""

    page: Page
    bot_url: str
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def unexpected_errors(self) -> list[str]:
        """Console errors other than the load failures of the blocked (icon) requests."""
        return [error for error in self.errors if not self._blocked_load(error)]

    def _blocked_load(self, error: str) -> bool:
        text, _, url = error.rpartition(" @ ")
        return text.startswith("Failed to load resource") and url in self.blocked


@pytest.fixture
def session(browser: Browser, ui_bot: PaperBot) -> Iterator[Session]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    opened = Session(page, ui_bot.api_url)

    def leave_the_machine(route: Route) -> None:
        opened.blocked.append(route.request.url)
        route.abort("blockedbyclient")

    context.route(lambda url: not url.startswith(ui_bot.api_url + "/"), leave_the_machine)
    page.on(
        "console",
        lambda message: (
            opened.errors.append(f"{message.text} @ {message.location.get('url')}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
    try:
        yield opened
    finally:
        context.close()


def log_in(session: Session, username: str, password: str) -> None:
    page = session.page
    page.goto(f"{session.bot_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Submit").click()


def assert_not_blank(path: Path) -> None:
    """A drawn page: many colours, and more than the (dark) background colour."""
    image = Image.open(path).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    background = max(count for count, _ in colours)
    assert len(colours) > 200, f"{path}: only {len(colours)} colours"
    assert background < 0.95 * image.width * image.height, f"{path}: one colour covers it"
    assert max(ImageStat.Stat(image).stddev) > 10, f"{path}: no contrast"


def screenshot(session: Session, folder: Path, name: str) -> Path:
    path = folder / name
    session.page.screenshot(path=str(path))
    assert_not_blank(path)
    wanted = os.environ.get("FREQAI_SWING_SCREENSHOTS")
    if wanted:
        target = REPO_ROOT / wanted
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / name)
    return path


@pytest.fixture(scope="module")
def trade(ui_bot: PaperBot) -> dict:
    """The bot's open trade: the strategy's own (its first loop decides), else a forced one.

    Waiting for it first also lets the bot finish its start-up before the browser loads FreqUI.
    """
    bot = ui_bot
    client = bot.client()

    def open_trades() -> list[dict] | None:
        try:
            return client.status() or None
        except requests.RequestException:  # the bot's first loop may hold the API a while
            return None

    deadline = time.monotonic() + ENTRY_WAIT_S
    while (trades := open_trades()) is None and time.monotonic() < deadline:
        time.sleep(1)
    if not trades:
        forced = client.forceenter(PAIRS[0], "long")
        assert forced.get("pair") == PAIRS[0], forced
        trades = wait_for(open_trades, 60, "the forced entry", bot.log)
    trade = min(trades, key=lambda trade: trade["trade_id"])
    wait_for(
        lambda: client.trade(trade["trade_id"]).get("has_open_orders") is False,
        30,
        "the entry to fill",
        bot.log,
    )
    return trade


def test_a_wrong_password_is_refused(ui_bot: PaperBot, trade: dict, session: Session) -> None:
    log_in(session, ui_bot.username, "not-the-password")
    page = session.page
    expect(page.get_by_text("Login failed", exact=False).first).to_be_visible()
    assert urlsplit(page.url).path == "/login"
    # The browser's console shows the refusal (and nothing else): the 401 of the login call,
    # FreqUI's request error and its "Login failed" message.
    errors = session.unexpected_errors()
    assert any("401" in error and "/api/v1/token/login" in error for error in errors), errors
    assert all("401" in error or "Login failed" in error for error in errors), errors


def tooltip_sections(text: str) -> dict[str, dict[str, str]]:
    """``{subplot: {column: value}}`` from the tooltip's lines (title, then name/value pairs)."""
    sections: dict[str, dict[str, str]] = {}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    current: dict[str, str] | None = None
    index = 1  # the first line is the candle's date
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if current is not None and _is_number(following):
            current[line] = following
            index += 2
            continue
        current = sections.setdefault(line, {})
        index += 1
    return sections


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text.replace(",", "")))
    except ValueError:
        return False


def load_the_strategys_plot_config(page: Page, subplots: set[str]) -> None:
    """What a user does once: the Plot Configurator's "From strategy", then "Save".

    The configurator closes itself when FreqUI redraws the page in its first seconds (its
    first refresh after a page change), so the steps are retried from the start.
    """
    toggle = page.get_by_title("Plot configurator")
    from_strategy = page.get_by_role("button", name="From strategy")
    for _ in range(CONFIGURATOR_ATTEMPTS):
        if not from_strategy.is_visible():
            toggle.click()
        try:
            from_strategy.click(timeout=5_000)
            for name in subplots:  # the configurator lists the strategy's subplots
                page.get_by_text(name, exact=True).first.wait_for(timeout=5_000)
            page.get_by_role("button", name="Save", exact=True).click(timeout=5_000)
        except PlaywrightTimeout:
            continue
        if from_strategy.is_visible():
            toggle.click()  # closed again: the chart takes the whole page
        return
    pytest.fail(f"FreqUI's Plot Configurator closed {CONFIGURATOR_ATTEMPTS} times")


def hovered_subplots(page: Page, subplots: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """The chart's tooltip over candles near the end, once it shows every subplot's columns.

    The tooltip of a candle lists each subplot with each of its columns' values; the chart
    redraws once FreqUI fetched the candles with the configuration's columns.
    """
    box = page.locator("canvas").first.bounding_box()
    assert box is not None
    sections: dict[str, dict[str, str]] = {}
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        for share in (0.9, 0.8, 0.7):
            page.mouse.move(box["x"] + share * box["width"], box["y"] + 0.4 * box["height"])
            page.wait_for_timeout(300)
            sections = tooltip_sections(page.evaluate(TOOLTIP_TEXT))
            if all(columns <= set(sections.get(name, {})) for name, columns in subplots.items()):
                return sections
    return sections


def test_the_user_sees_the_open_trade_and_every_subplot_of_the_chart(
    ui_bot: PaperBot, trade: dict, session: Session, tmp_path: Path
) -> None:
    plot_config = ui_bot.client().plot_config()
    subplots = {name: set(lines) for name, lines in plot_config["subplots"].items()}
    assert subplots, plot_config

    log_in(session, ui_bot.username, ui_bot.password)
    page = session.page
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")

    navigation = page.get_by_role("navigation")
    navigation.get_by_role("link", name="Trade").click()
    # The open trades' table (the closed trades' one has no current profit).
    open_trades = page.get_by_role("table").filter(
        has=page.get_by_role("columnheader", name="Current profit %")
    )
    row = open_trades.locator("tr").filter(has_text=trade["pair"])
    expect(row).to_be_visible()
    cells = row.get_by_role("cell").all_inner_texts()
    assert cells[:2] == [str(trade["trade_id"]), trade["pair"]], cells
    expect(page.locator("canvas").first).to_be_visible()  # the pair's chart
    screenshot(session, tmp_path, "frequi-trade.png")

    navigation.get_by_role("link", name="Chart").click()
    pair_picker = page.get_by_role("button", name="Show popup")  # shows the chart's pair
    expect(pair_picker).to_be_visible()
    if pair_picker.inner_text().strip() != trade["pair"]:
        pair_picker.click()
        page.get_by_role("option", name=trade["pair"]).click()
    expect(pair_picker).to_have_text(trade["pair"])
    canvas = page.locator("canvas").first
    expect(canvas).to_be_visible()
    # the strategy's entry signals are marked on the price (FreqUI counts them above the chart)
    expect(page.get_by_text(re.compile(r"Long entries: [1-9]"))).to_be_visible()
    load_the_strategys_plot_config(page, set(subplots))

    sections = hovered_subplots(page, subplots)
    for name, columns in subplots.items():
        assert name in sections, f"subplot {name} not drawn: {sections}"
        assert columns <= set(sections[name]), f"{name}: {columns} drawn as {sections[name]}"
    screenshot(session, tmp_path, "frequi-chart.png")

    assert session.unexpected_errors() == []
    off_machine = {urlsplit(url).hostname for url in session.blocked}
    assert off_machine <= ICON_HOSTS, off_machine
