"""Every ``freqai-swing …`` and ``make …`` command shown in README.md and docs/*.md parses.

The command lines are taken from the Markdown itself (fenced blocks, with ``\\`` continuations,
and inline code spans), so a documented command cannot break unseen: each parses with the real
parser, the freqtrade command it wraps parses with freqtrade's own parser, its ``--help``
answers, and the cheap ones (the local exchange) really run.
"""

from __future__ import annotations

import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

from tests.conftest import REPO_ROOT
from tooling import cli
from tooling.offline import bundle_environment

DOCUMENTS = (REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")))
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"`([^`]+)`")
_PLACEHOLDER = re.compile(r"<[^<>]+>")
#: A command line shown with a shell prefix (``nice -n 10 freqai-swing …``).
_PREFIX = re.compile(r"^(?:nice -n \d+ )")


def _command_lines(text: str) -> list[str]:
    """Command lines of fenced blocks (continuations joined) and of inline code spans."""
    lines: list[str] = []
    for block in _FENCE.findall(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            lines += [part for part in line.split("&&")]
    prose = _FENCE.sub("", text)
    lines += [span for span in _INLINE.findall(prose.replace("\n", " "))]
    commands = []
    for line in lines:
        line = _PREFIX.sub("", line.split(" #")[0].strip()).rstrip("&").strip()
        if line.startswith(("freqai-swing ", "make ")):
            commands.append(line)
    return commands


def documented_commands() -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for document in DOCUMENTS:
        for command in _command_lines(document.read_text(encoding="utf-8")):
            found.setdefault(command, document.name)
    return sorted((command, name) for command, name in found.items())


def _words(command: str) -> tuple[list[str], bool]:
    """The command's words, and whether it is a template (placeholders, elisions)."""
    template = bool(_PLACEHOLDER.search(command)) or "…" in command or "[" in command
    command = _PLACEHOLDER.sub("PLACEHOLDER", command.replace("…", " "))
    command = command.replace("[", " ").replace("]", " ")
    return shlex.split(command), template


def _parse_freqtrade(arguments: list[str]) -> None:
    """Parse a wrapped freqtrade command line with freqtrade's own parser (SystemExit if not)."""
    from freqtrade.commands import Arguments

    Arguments(arguments).get_parsed_arg()


def _check_bundle_command(words: list[str], template: bool) -> None:
    subcommand = words[1] if len(words) > 1 else None
    if subcommand in cli.MODULE_COMMANDS:
        return  # their own parsers: run for real in test_documented_local_exchange_runs
    args = cli.build_parser().parse_args(words[1:])
    if subcommand == "evaluate" and args.runners:  # checked by the evaluation, not the parser
        from tooling.evaluate import RUNNERS

        assert set(args.runners) <= set(RUNNERS), f"unknown runners in {words}"
    wrapped = list(getattr(args, "freqtrade_arguments", []))
    if wrapped[:1] == ["--"]:
        wrapped = wrapped[1:]
    if subcommand == "trade" and wrapped[:1] != ["freqtrade"]:
        wrapped = ["freqtrade", "trade", *wrapped]
    if wrapped[:1] == ["freqtrade"] and len(wrapped) > 1 and not template:
        _parse_freqtrade(wrapped[1:])


def _check_make_command(words: list[str]) -> None:
    dry_run = subprocess.run(
        ["make", "-n", *words[1:]], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert dry_run.returncode == 0, dry_run.stderr
    for line in dry_run.stdout.splitlines():
        if line.startswith(".venv/bin/freqai-swing "):
            _check_bundle_command(shlex.split(line.removeprefix(".venv/bin/")), template=False)


def test_documents_show_bundle_and_make_commands() -> None:
    commands = [command for command, _ in documented_commands()]
    # The extraction itself: continuation lines, inline spans and prefixed commands are found.
    assert any(c.startswith("freqai-swing offline -- freqtrade backtesting") for c in commands)
    assert "freqai-swing local-exchange --datadir user_data/data/binance --port 18765" in commands
    assert any(c.endswith("--datadir /tmp/paper-data") for c in commands), commands
    assert any(c.startswith("freqai-swing selftrain --simulate --start") for c in commands)
    assert any(c.startswith("make evaluate EVALUATE_ARGS=") for c in commands)
    assert len(commands) > 30


@pytest.mark.parametrize(("command", "document"), documented_commands())
def test_documented_command_parses(command: str, document: str) -> None:
    words, template = _words(command)
    try:
        if words[0] == "make":
            _check_make_command(words)
        else:
            _check_bundle_command(words, template)
    except SystemExit as error:
        if error.code == 0 and "--help" in words:
            return
        pytest.fail(f"{document}: `{command}` does not parse (exit {error.code})")


@pytest.mark.parametrize(
    "subcommand",
    sorted({_words(command)[0][1] for command, _ in documented_commands()
            if command.startswith("freqai-swing ") and not _words(command)[0][1].startswith("-")}),
)  # fmt: skip
def test_documented_command_help_answers(
    subcommand: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main([subcommand, "--help"])
    assert stopped.value.code == 0
    assert f"usage: freqai-swing {subcommand}" in capsys.readouterr().out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serves(process: subprocess.Popen[str], port: int, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urlopen(f"http://127.0.0.1:{port}/api/v3/ping", timeout=2) as response:
                return response.status == 200
        except OSError:
            time.sleep(0.3)
    return False


@pytest.mark.parametrize(
    "command",
    [command for command, _ in documented_commands()
     if command.startswith("freqai-swing local-exchange")]
    + ["freqai-swing local-exchange -- --datadir user_data/data/binance --port 18765"],
)  # fmt: skip
def test_documented_local_exchange_runs(command: str, tmp_path: Path) -> None:
    """The exact documented options, on a free port (18765 may be taken on a shared machine)."""
    words, _ = _words(command)
    port = _free_port()
    words = [str(port) if previous == "--port" else word
             for previous, word in zip(["", *words[:-1]], words, strict=True)]  # fmt: skip
    words = [str(tmp_path / "clock") if word == "/tmp/replay-clock" else word for word in words]
    process = subprocess.Popen(
        [sys.executable, "-m", "tooling.cli", *words[1:]],
        cwd=REPO_ROOT,
        env=bundle_environment(),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        serving = _serves(process, port)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert serving, f"`{command}` did not serve: {stderr[-2000:]}"
    assert process.returncode == 0, stderr[-2000:]
