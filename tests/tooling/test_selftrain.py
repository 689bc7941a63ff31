"""The lifecycle's decisions on real backtests: a shuffled-label challenger, a rollback.

Two real ``freqtrade backtesting`` runs (FreqAI training included) on the bundled candles: the
shipped strategy with loose entries (the champion) and the same trained on labels shuffled in
time (a challenger without signal), each one model trading three months. Their trades feed the
promotion test and the day-by-day replay of :func:`simulate_lifecycle`, with the real registry.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from freqai_swing.equity import load_closes
from freqai_swing.lifecycle.config import SelfTrainSettings
from freqai_swing.lifecycle.promotion import PromotionResult, promotion_test
from freqai_swing.lifecycle.registry import ModelRegistry, folder_hash, install_checkpoint
from freqai_swing.lifecycle.simulation import ModelRun, WeeklyModel, simulate_lifecycle
from tests.conftest import REPO_ROOT, SAMPLE_DATADIR, FreqtradeRun, overlay_factory, run_freqtrade
from tooling.offline import backtesting_arguments

pytestmark = pytest.mark.slow

PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]
START, END = pd.Timestamp("2024-03-01", tz="UTC"), pd.Timestamp("2024-06-01", tz="UTC")
SHUFFLED_PATH = REPO_ROOT / "tests" / "support" / "shuffled_labels"


def backtest(folder: Path, offline_overlay: Path, strategy: str) -> FreqtradeRun:
    overlays = overlay_factory(folder / "overlays")
    (folder / "overlays").mkdir(parents=True)
    arguments = backtesting_arguments(
        "SwingXGBoostClassifier", f"{START:%Y%m%d}-{END:%Y%m%d}", strategy=strategy
    )
    arguments += ["--strategy-path", str(SHUFFLED_PATH)]
    run = run_freqtrade(
        arguments,
        userdir=folder / "userdir",
        overlays=[
            overlays(
                PAIRS,
                freqai={
                    "train_period_days": 90,
                    "backtest_period_days": (END - START).days,
                    "save_backtest_models": True,
                },
                # both models trade whatever they predict, so that the shuffled one trades
                # enough for the statistical test to be the thing that decides
                swing={"model": {"min_validation_skill": None}},
            ),
            offline_overlay,
        ],
    )
    assert run.returncode == 0, run.output[-3000:]
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, offline_overlay: Path) -> dict[str, ModelRun]:
    found = {}
    for name, strategy in (("champion", "LooseSwingStrategy"),
                           ("shuffled", "ShuffledLabelStrategy")):  # fmt: skip
        run = backtest(tmp_path_factory.mktemp(name), offline_overlay, strategy)
        folders = [p for p in (run.userdir / "models").iterdir() if p.is_dir()]
        assert len(folders) == 1
        found[name] = ModelRun(run.trades(), f"{name}-{folders[0].name}", folders[0])
    return found


#: the rules under test here without the retirement rule, which retires the loose champion over
#: these three months (tests/tooling/test_selftrain_decisions.py covers it)
NO_RETIREMENT = SelfTrainSettings(retire_after=0)


def replay(runs: dict[str, ModelRun], root: Path, settings: SelfTrainSettings, **options) -> tuple:
    models = [WeeklyModel(0, START), WeeklyModel(1, START + pd.Timedelta(days=7))]
    by_index = {0: runs["champion"], 1: runs["shuffled"]}
    registry = ModelRegistry(root / "registry", settings.keep_checkpoints)
    result = simulate_lifecycle(
        models,
        lambda model: by_index[model.index],
        runs["champion"].trades,
        load_closes(SAMPLE_DATADIR, PAIRS),
        END,
        settings,
        registry,
        10_000.0,
        **options,
    )
    return result, registry


def test_a_challenger_on_shuffled_labels_is_never_promoted(
    runs: dict[str, ModelRun], tmp_path: Path
) -> None:
    settings = NO_RETIREMENT
    shuffled, champion = runs["shuffled"].trades, runs["champion"].trades
    # enough trades that the statistical test, not the trade count, decides
    assert len(shuffled) >= settings.min_challenger_trades
    decision = promotion_test(shuffled["profit_ratio"], champion["profit_ratio"], settings)
    assert not decision.promote, decision
    # kept out by the one-sided Welch test itself (recomputed here), not by the trade count
    welch = stats.ttest_ind(
        shuffled["profit_ratio"], champion["profit_ratio"], equal_var=False, alternative="greater"
    )
    assert decision.p_value == pytest.approx(float(welch.pvalue))
    assert decision.p_value >= 1 - settings.confidence, decision
    assert decision.reason.startswith(f"not better at {settings.confidence:.0%}"), decision
    # the replay with the real test: the shuffled challenger is tested and kept out
    result, registry = replay(runs, tmp_path, settings)
    kinds = [event["kind"] for event in result.events]
    assert "challenger" in kinds and "promote" not in kinds
    assert registry.production().identifier.startswith("champion-")
    shuffled_version = [v for v in registry.versions() if v.identifier.startswith("shuffled-")]
    assert shuffled_version and shuffled_version[0].status != "production"
    registry.close()


def always_promote(mine: pd.Series, theirs: pd.Series, settings: SelfTrainSettings):
    """A promotion test that passes (the rollback, not the promotion, is under test)."""
    base = promotion_test(mine, theirs, settings)
    return PromotionResult(True, "forced for the rollback test", **{
        k: v for k, v in base.figures().items() if k not in {"promote", "reason"}
    })  # fmt: skip


def test_an_injected_drawdown_after_a_promotion_rolls_back_to_the_champion(
    runs: dict[str, ModelRun], tmp_path: Path
) -> None:
    settings = NO_RETIREMENT
    # without the shock: the forced promotion happens, and its first day stays within the limit
    calm, calm_registry = replay(runs, tmp_path / "calm", settings, decide=always_promote)
    calm_registry.close()
    promoted = [e for e in calm.events if e["kind"] == "promote"]
    assert len(promoted) == 1
    promotion_day = promoted[0]["day"]
    shock_day = promotion_day + pd.Timedelta(days=1)
    calm_curve = calm.gated_equity[
        (calm.gated_equity.index >= promotion_day) & (calm.gated_equity.index <= shock_day)
    ]
    calm_drawdown = float((1 - calm_curve / calm_curve.cummax()).max())
    assert calm_drawdown <= settings.rollback_drawdown
    assert all(e["day"] > shock_day for e in calm.events if e["kind"] == "rollback")
    # a 12 % shock the day after the promotion: the rollback follows that very day
    shocked, registry = replay(
        runs, tmp_path / "shock", settings, decide=always_promote,
        injected_drawdown=(shock_day, 0.12),
    )  # fmt: skip
    rollbacks = [e for e in shocked.events if e["kind"] == "rollback"]
    assert len(rollbacks) == 1 and rollbacks[0]["day"] == shock_day
    assert rollbacks[0]["model"] == 0 and rollbacks[0]["drawdown"] > settings.rollback_drawdown
    production = registry.production()
    assert production.identifier.startswith("champion-")
    assert [d.kind for d in registry.decisions()][-1] == "rollback"
    # the previous champion trades again: every trade opened after the rollback is its own
    after = shocked.gated_trades[pd.to_datetime(shocked.gated_trades["open_date"]) >= shock_day]
    assert len(after) > 0
    champion = runs["champion"].trades
    keys = set(zip(champion["pair"], pd.to_datetime(champion["open_date"]), strict=True))
    assert all(
        key in keys for key in zip(after["pair"], pd.to_datetime(after["open_date"]), strict=True)
    )
    # and its checkpoint is what a bot gets installed
    installed = install_checkpoint(production, tmp_path / "bot" / "models", "swing-x")
    assert folder_hash(production.checkpoint) == production.file_hash
    assert (installed / "pair_dictionary.json").is_file()
    registry.close()
