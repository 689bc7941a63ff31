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
    ("base.json", "freqai.json", "dry-run.json", "selftrain.json"),
]


#: What ``freqai-swing init-secrets`` puts in .env (dry-run.json and live.json enable the API).
API_SECRETS = {
    "FREQTRADE__API_SERVER__USERNAME": "freqai-swing",
    "FREQTRADE__API_SERVER__PASSWORD": "generated-password-0123456789",
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "generated-jwt-secret-0123456789abcdef",
    "FREQTRADE__API_SERVER__WS_TOKEN": "generated-ws-token-0123456789",
}


@pytest.mark.parametrize("files", COMBINATIONS, ids=lambda files: "+".join(files))
def test_freqtrade_validates_the_config(files: tuple[str, ...]) -> None:
    command = [freqtrade_executable(), "show-config"]
    for name in files:
        command += ["-c", str(CONFIG_DIR / name)]
    environment = bundle_environment()
    environment.update(FREQTRADE__EXCHANGE__KEY="key-from-env", FREQTRADE__EXCHANGE__SECRET="s")
    if {"dry-run.json", "live.json"} & set(files):
        environment.update(API_SECRETS)
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


@pytest.mark.parametrize("overlay", ["dry-run.json", "live.json"])
def test_api_server_will_not_start_without_generated_secrets(overlay: str) -> None:
    command = [freqtrade_executable(), "show-config"]
    for name in ("base.json", "freqai.json", overlay):
        command += ["-c", str(CONFIG_DIR / name)]
    environment = {
        name: value
        for name, value in bundle_environment().items()
        if not name.startswith("FREQTRADE__")
    }
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=120, check=False
    )
    # show-config exits 0 even then; the configuration error is what freqtrade reports.
    assert "Configuration error: 'username' is a required property" in result.stderr
    config = json.loads((CONFIG_DIR / overlay).read_text())
    assert config["api_server"]["listen_ip_address"] == "127.0.0.1"
    assert not {"password", "jwt_secret_key", "ws_token"} & set(config["api_server"])
