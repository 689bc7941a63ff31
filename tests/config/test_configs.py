"""Every shipped config combination passes freqtrade's own validation, and holds no secret."""

from __future__ import annotations

import json
import subprocess

import pytest

from freqai_swing.settings import load_swing_settings
from tests.conftest import CONFIG_DIR
from tooling.offline import bundle_environment, freqtrade_executable

COMBINATIONS = [
    ("base.json", "freqai.json"),
    ("base.json", "freqai.json", "offline.json"),
    ("base.json", "freqai.json", "dry-run.json"),
    ("base.json", "freqai.json", "live.json"),
    ("base.json", "freqai.json", "rl.json"),
]


@pytest.mark.parametrize("files", COMBINATIONS, ids=lambda files: "+".join(files))
def test_freqtrade_validates_the_config(files: tuple[str, ...]) -> None:
    command = [freqtrade_executable(), "show-config"]
    for name in files:
        command += ["-c", str(CONFIG_DIR / name)]
    environment = bundle_environment()
    environment.update(FREQTRADE__EXCHANGE__KEY="key-from-env", FREQTRADE__EXCHANGE__SECRET="s")
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert '"key": "REDACTED"' in result.stdout, "the key comes from the environment"
    merged: dict = {}
    for name in files:
        merged.update(json.loads((CONFIG_DIR / name).read_text()))
    load_swing_settings(merged)


def test_no_committed_config_holds_a_key() -> None:
    for path in CONFIG_DIR.glob("*.json"):
        exchange = json.loads(path.read_text()).get("exchange", {})
        assert not exchange.get("key") and not exchange.get("secret"), path
