"""The FreqAI side of the PPO agent; ``freqaimodels/SwingPPO.py`` only names the class.

It follows FreqAI's ``ReinforcementLearner`` (train per walk-forward window through FreqAI's
data pipeline and environment hooks) with three changes: the environment is the seed's
7-action :class:`~freqai_swing.models.ppo.environment.SwingTradingEnv`, the PPO settings are the
seed's
(overridable per key), and the prediction walks the policy through the candles with its own
simulated account instead of showing it no account at all.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from freqtrade.freqai.RL.BaseEnvironment import BaseEnvironment
from freqtrade.freqai.RL.BaseReinforcementLearningModel import BaseReinforcementLearningModel
from pandas import DataFrame
from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback
from stable_baselines3.common.monitor import Monitor

from freqai_swing.models.common.cached_windows import discard_corrupt_windows
from freqai_swing.models.ppo.agent import build_ppo, ppo_parameters
from freqai_swing.models.ppo.environment import AgentRoller, SwingTradingEnv
from freqai_swing.models.ppo.settings import load_rl_settings
from freqai_swing.settings import SwingConfigError, load_swing_settings

logger = logging.getLogger(__name__)

RAW_PRICE_COLUMNS = ("%-raw_open", "%-raw_high", "%-raw_low", "%-raw_close")
ACTION_COLUMN = "&-action"


def _prepare_rl_config(config: dict[str, Any]) -> None:
    """Validate ``freqai.rl_config`` and fill the keys FreqAI reads without a default."""
    freqai = config.get("freqai", {})
    rl_config = freqai.get("rl_config")
    try:
        load_rl_settings(rl_config)
        ppo_parameters(freqai.get("model_training_parameters", {}).get("ppo"))
    except SwingConfigError as error:
        raise OperationalException(f"SwingPPO: {error}") from None
    assert rl_config is not None  # load_rl_settings refused a missing block
    model_type = rl_config.setdefault("model_type", "PPO")
    if model_type != "PPO":
        raise OperationalException(
            f"SwingPPO: freqai.rl_config.model_type must be 'PPO', got {model_type!r}"
        )
    rl_config.setdefault("policy_type", "MlpPolicy")
    rl_config.setdefault("model_reward_parameters", {})
    # Raw price levels are not stationary; the environment gets them as prices, not features.
    rl_config.setdefault("drop_ohlc_from_features", True)


class PPOFreqaiModel(BaseReinforcementLearningModel):
    """PPO on the seed's 7-action environment; see ``docs/rl.md``."""

    MyRLEnv: type[BaseEnvironment] = SwingTradingEnv

    def __init__(self, **kwargs: Any) -> None:
        _prepare_rl_config(kwargs["config"])
        super().__init__(**kwargs)
        self.swing = load_swing_settings(self.config)
        if self.config.get("runmode") in (RunMode.BACKTEST, RunMode.HYPEROPT):
            discard_corrupt_windows(self.full_path)
        self.rl_settings = load_rl_settings(self.rl_config)
        self.ppo_parameters = ppo_parameters(self.model_training_parameters.get("ppo"))
        self.net_arch = self.rl_config.get("net_arch")
        self._rollers: dict[str, AgentRoller] = {}

    # --- training -------------------------------------------------------------------------
    def drop_ohlc_from_df(self, df: DataFrame, dk: FreqaiDataKitchen) -> DataFrame:
        """FreqAI's drop of the raw prices, tolerant of frames without them.

        FreqAI's version raises on the empty test split (``test_size`` 0) and on prediction
        frames already filtered to the training features.
        """
        if self.rl_config.get("drop_ohlc_from_features", True):
            df.drop(columns=list(RAW_PRICE_COLUMNS), errors="ignore", inplace=True)
            dk.training_features_list = [
                name for name in dk.training_features_list if name not in RAW_PRICE_COLUMNS
            ]
        return df

    def set_train_and_eval_environments(
        self,
        data_dictionary: dict[str, DataFrame],
        prices_train: DataFrame,
        prices_test: DataFrame,
        dk: FreqaiDataKitchen,
    ) -> None:
        """FreqAI's environments, with the evaluation one only when a test split exists."""
        env_info = self.pack_env_dict(dk.pair)
        seed = self.swing.model.seed
        train_df = data_dictionary["train_features"]
        self.train_env = Monitor(
            self.MyRLEnv(df=train_df, prices=prices_train, seed=seed, **env_info)
        )
        test_df = data_dictionary["test_features"]
        self.eval_callback = None
        if len(test_df) > self.CONV_WIDTH + 1:
            self.eval_env = Monitor(
                self.MyRLEnv(df=test_df, prices=prices_test, seed=seed, **env_info)
            )
            self.eval_callback = MaskableEvalCallback(
                self.eval_env,
                deterministic=True,
                render=False,
                eval_freq=len(train_df),
                best_model_save_path=str(dk.data_path),
                use_masking=False,
                verbose=0,
            )

    def fit(self, data_dictionary: dict[str, Any], dk: FreqaiDataKitchen, **kwargs: Any) -> Any:
        rows = len(data_dictionary["train_features"])
        timesteps = self.rl_settings.timesteps(rows)
        tensorboard = (
            str(Path(dk.full_path / "tensorboard" / dk.pair.split("/")[0]))
            if self.activate_tensorboard
            else None
        )
        if dk.pair in self.dd.model_dictionary and self.continual_learning:
            logger.info("%s: continual learning from the previous agent.", dk.pair)
            model = self.dd.model_dictionary[dk.pair]
            model.set_env(self.train_env)
        else:
            model = build_ppo(
                self.train_env,
                self.ppo_parameters,
                seed=self.swing.model.seed,
                device=self.swing.model.device,
                net_arch=self.net_arch,
                tensorboard_log=tensorboard,
            )
        callbacks: list[Any] = [self.eval_callback] if self.eval_callback else []
        if self.activate_tensorboard:
            callbacks.append(self.tensorboard_callback)
        model.learn(total_timesteps=int(timesteps), callback=callbacks)
        logger.info(
            "%s: PPO trained %d timesteps on %d rows (%s).", dk.pair, timesteps, rows, model.device
        )
        best = Path(dk.data_path / "best_model.zip")
        if self.eval_callback is not None and best.is_file():
            logger.info("%s: using the best agent on the test split.", dk.pair)
            return type(model).load(best, device=model.device)
        return model

    # --- prediction -----------------------------------------------------------------------
    def predict(
        self, unfiltered_df: DataFrame, dk: FreqaiDataKitchen, **kwargs: Any
    ) -> tuple[DataFrame, npt.NDArray[np.int_]]:
        """The agent's action per row, each from the state its own earlier actions produced.

        Backtesting: a fresh simulated account per prediction window. Dry/live: one account per
        pair carried from candle to candle (``first=False`` calls pass only the newest rows).
        """
        if "%-raw_close" not in unfiltered_df.columns:
            raise OperationalException(
                "SwingPPO needs the raw close as the feature '%-raw_close' "
                "(SwingRLStrategy sets it in feature_engineering_standard)."
            )
        dk.find_features(unfiltered_df)
        filtered, _ = dk.filter_features(
            unfiltered_df, dk.training_features_list, training_filter=False
        )
        filtered = self.drop_ohlc_from_df(filtered, dk)
        features, _, _ = dk.feature_pipeline.transform(filtered, outlier_check=True)
        closes = unfiltered_df["%-raw_close"].to_numpy(dtype=np.float64)
        dates = unfiltered_df["date"].to_numpy() if "date" in unfiltered_df.columns else None
        roller = self._roller(dk.pair, first=kwargs.get("first", True))
        actions = roller.extend(features, closes, dates)
        labels = dk.label_list or [ACTION_COLUMN]
        predictions = DataFrame({label: actions.astype(float) for label in labels})
        return predictions, dk.do_predict

    def _roller(self, pair: str, first: bool) -> AgentRoller:
        fee = float(self.config.get("fee", 0.0015))
        reward = self.rl_settings.reward
        if not self.live:
            return AgentRoller(self.model, self.CONV_WIDTH, fee, reward)
        roller = self._rollers.get(pair)
        if first or roller is None:
            roller = self._rollers[pair] = AgentRoller(self.model, self.CONV_WIDTH, fee, reward)
        roller.policy = self.model  # a retrained agent continues the same account
        return roller
