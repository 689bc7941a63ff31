"""What a ``selftrain`` pass works with: the two bots' settings, the pass's context built from
the CLI's options, and the small state file (challenger start, equity history, failing streak).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from freqai_swing.lifecycle.config import SelfTrainSettings
from tooling.evaluate import CONFIG_DIR
from tooling.offline import REPO_ROOT, bundle_environment

#: The lifecycle's FreqAI settings for both bots (``live_retrain_hours`` beyond any run,
#: ``expiration_hours`` 0): FreqAI never retrains on its own and trades the registry's model.
#: The production bot must be started with it too (docs/selftrain.md).
SELFTRAIN_CONFIG = CONFIG_DIR / "selftrain.json"


@dataclass(frozen=True)
class BotSettings:
    """How to reach and configure one of the two bots."""

    name: str
    userdir: Path
    api_url: str
    username: str
    password: str
    configs: tuple[Path, ...]
    wallet: float
    #: the challenger is started and stopped by selftrain; the production bot is a service
    managed: bool = False


@dataclass(frozen=True)
class SelfTrainContext:
    """Everything one pass needs; built by the CLI or by a test."""

    settings: SelfTrainSettings
    state_dir: Path
    configs: tuple[Path, ...]
    pairs: tuple[str, ...]
    datadir: Path
    production: BotSettings
    challenger: BotSettings
    offline_overlay: Path | None = None
    online: bool = False
    warehouse: Path | None = None
    environment: dict[str, str] = field(default_factory=dict)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    freqaimodel: str = "SwingEnsembleClassifier"


def _state_path(context: SelfTrainContext) -> Path:
    return context.state_dir / "selftrain-state.json"


def load_state(context: SelfTrainContext) -> dict[str, Any]:
    path = _state_path(context)
    return json.loads(path.read_text()) if path.is_file() else {}


def save_state(context: SelfTrainContext, state: dict[str, Any]) -> None:
    """Write to a temporary file and rename it over the state: never half a file."""
    path = _state_path(context)
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    temporary.write_text(json.dumps(state, indent=2, default=str))
    temporary.replace(path)


def with_settings(context: SelfTrainContext, **changes: Any) -> SelfTrainContext:
    return replace(context, settings=replace(context.settings, **changes))


def context_from_arguments(
    args: Any,  # noqa: ANN401 - the CLI's argparse.Namespace
    settings: SelfTrainSettings,
    configs: Sequence[Path],
    pairs: Sequence[str],
) -> SelfTrainContext:
    """The pass's context from ``freqai-swing selftrain``'s options and the bots' configs."""
    from tooling.exchanges import configured_exchange, write_exchange_overlay
    from tooling.secrets_env import API_PASSWORD, API_USERNAME, load_env_file

    environment = load_env_file(args.env_file, bundle_environment())
    wallet = 0.0
    for path in configs:
        wallet = float(json.loads(Path(path).read_text()).get("dry_run_wallet", wallet))
    state_dir = Path(args.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    offline = None
    if args.exchange_url:
        # The bots' own exchange (Binance or Bybit); the URL is the server's root or its /api/v3.
        exchange = configured_exchange([f"--config={path}" for path in configs], REPO_ROOT)
        offline = write_exchange_overlay(
            state_dir / "offline-overlay.json", exchange, args.exchange_url
        )
    credentials = {
        "username": environment.get(API_USERNAME, ""),
        "password": environment.get(API_PASSWORD, ""),
    }
    return SelfTrainContext(
        settings=settings,
        state_dir=state_dir,
        configs=tuple(Path(c) for c in configs),
        pairs=tuple(pairs),
        datadir=Path(args.datadir),
        production=BotSettings(
            "production",
            Path(args.production_userdir),
            args.production_url,
            configs=tuple(Path(c) for c in configs),
            wallet=wallet,
            **credentials,
        ),
        challenger=BotSettings(
            "challenger",
            state_dir / "challenger",
            args.challenger_url,
            configs=tuple(Path(c) for c in configs),
            wallet=wallet * settings.challenger_capital_fraction,
            managed=True,
            **credentials,
        ),
        offline_overlay=offline,
        online=bool(args.online),
        warehouse=args.warehouse,
        environment=environment,
        freqaimodel=args.freqaimodel or "SwingEnsembleClassifier",
    )
