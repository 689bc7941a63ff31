"""Docker and systemd files: valid for their tools, API on localhost only, secrets from .env."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tooling.secrets_env import init_secrets

COMPOSE = REPO_ROOT / "docker-compose.yml"
COMPOSE_GPU = REPO_ROOT / "docker-compose.gpu.yml"
SYSTEMD = REPO_ROOT / "systemd"


def freqtrade_release() -> str:
    dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    pins = [re.search(r"==(\S+)$", item) for item in dependencies if item.startswith("freqtrade")]
    assert pins and pins[0] is not None
    return pins[0].group(1)


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy is not None else None


def missing_tool(tool: str, package: str) -> None:
    """Fail where ``make test`` installs the tool (Debian's apt-get, as root), skip elsewhere.

    ``make test`` runs ``make system-packages`` first, so a missing tool there is a broken setup,
    not a reason to pass quietly; only a machine it cannot install on skips, and says why.
    """
    apt = shutil.which("apt-get")
    if apt is not None and os.geteuid() == 0:
        pytest.fail(f"{tool} is missing: `make system-packages` installs it (Debian {package})")
    why = "no apt-get" if apt is None else "not root"
    pytest.skip(f"{tool} is not installed and `make test` cannot install it here ({why})")


def test_image_is_freqtrades_freqairl_build_of_the_pinned_release() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert f"ARG FREQTRADE_TAG={freqtrade_release()}_freqairl" in dockerfile
    assert "FROM freqtradeorg/freqtrade:${FREQTRADE_TAG}" in dockerfile


def test_compose_publishes_the_api_on_localhost_only_and_reads_env() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"freqtrade", "selftrain"}
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
        assert service["env_file"] == ".env"
        mounts = {volume.split(":")[1] for volume in service["volumes"]}
        assert {"/freqtrade/user_data", "/freqtrade/config"} <= mounts
    bot = services["freqtrade"]
    assert bot["ports"] == ["127.0.0.1:8080:8080"]
    assert bot["entrypoint"] == ["freqai-swing"] and bot["command"].startswith("trade")
    assert "/freqtrade/config/dry-run.json" in bot["command"]
    assert services["selftrain"]["profiles"] == ["selftrain"]
    selftrain = services["selftrain"]["command"]
    assert selftrain[:2] == ["selftrain", "--loop"]
    assert "/freqtrade/config/selftrain.json" in selftrain
    gpu = yaml.safe_load(COMPOSE_GPU.read_text())["services"]["freqtrade"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and devices[0]["capabilities"] == ["gpu"]


def test_compose_config_accepts_the_files(tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        missing_tool("`docker compose` or `docker-compose`", "docker-compose")
        return
    for path in (COMPOSE, COMPOSE_GPU, REPO_ROOT / "Dockerfile"):
        shutil.copy(path, tmp_path / path.name)
    init_secrets(tmp_path / ".env")
    for files in (
        ["-f", "docker-compose.yml"],
        ["-f", "docker-compose.yml", "-f", "docker-compose.gpu.yml"],
    ):
        result = subprocess.run(
            [*command, *files, "config", "-q"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr


def test_systemd_units_verify_and_start_through_the_guard() -> None:
    units = sorted(SYSTEMD.glob("*.service")) + sorted(SYSTEMD.glob("*.timer"))
    assert [unit.name for unit in units] == [
        "freqai-swing-selftrain.service",
        "freqai-swing.service",
        "freqai-swing-selftrain.timer",
    ]
    bot = (SYSTEMD / "freqai-swing.service").read_text()
    assert "EnvironmentFile=/opt/freqai-swing/.env" in bot
    assert "freqai-swing trade" in bot and "config/dry-run.json" in bot
    assert (
        "Unit=freqai-swing-selftrain.service"
        in (SYSTEMD / "freqai-swing-selftrain.timer").read_text()
    )
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing_tool("systemd-analyze", "systemd")
        return
    result = subprocess.run(
        [analyze, "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # The only complaint allowed: the bundle is not installed in /opt/freqai-swing here.
    complaints = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and "/opt/freqai-swing/.venv/bin/freqai-swing is not executable" not in line
    ]
    assert complaints == []
