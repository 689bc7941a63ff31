"""The FreqAI side of the stacked ensemble; ``freqaimodels/SwingEnsembleClassifier.py`` names it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from pandas import DataFrame

from freqai_swing.labels import CLASS_ORDER
from freqai_swing.models.common.freqai_classifier import (
    ClassifierFreqaiModel,
    record_importances,
    record_label_settings,
)
from freqai_swing.models.ensemble.persistence import EnsembleMemberError
from freqai_swing.models.ensemble.stacked import SwingEnsemble, train_ensemble

logger = logging.getLogger(__name__)


class EnsembleFreqaiModel(ClassifierFreqaiModel):
    """FreqAI classifier over :class:`~freqai_swing.models.ensemble.stacked.SwingEnsemble`.

    The learned member weights go back to the strategy as ``ensemble_weight_<member>``
    columns (FreqAI's ``extra_returns_per_train``; a member's key missing there is added). A
    member file that is missing or corrupt on reload withholds the prediction (``do_predict``
    0) with an error line, instead of stopping the bot.
    """

    booster_name = "ensemble"
    #: Rows each live prediction sees (FreqAI's attribute, set in ``IFreqaiModel.__init__``).
    CONV_WIDTH: int

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._training_closes: pd.Series | None = None
        # FreqAI's live loop writes each extra return into a column made from the declared
        # keys and fails on an undeclared one; declare every member's weight.
        returns = self.freqai_info.setdefault("extra_returns_per_train", {})
        for member in self.swing.ensemble.members:
            returns.setdefault(f"ensemble_weight_{member.name}", 0.0)
        ppo = next((m for m in self.swing.ensemble.members if m.name == "ppo"), None)
        if ppo is not None:
            window = int(ppo.parameters.get("window", 1))
            # live predicts on the last CONV_WIDTH rows: the agent's vote needs its whole window
            self.CONV_WIDTH = max(self.CONV_WIDTH, window)

    def train(
        self, unfiltered_df: DataFrame, pair: str, dk: FreqaiDataKitchen, **kwargs: Any
    ) -> Any:
        """FreqAI's training, keeping the window's closes by date for the ``ppo`` member.

        The classifier's features are scaled indicators; the agent's environment also needs the
        prices it trades at, which only the unfiltered candles hold.
        """
        self._training_closes = pd.Series(
            unfiltered_df["close"].to_numpy(dtype=np.float64),
            index=pd.to_datetime(unfiltered_df["date"], utc=True),
        )
        try:
            return super().train(unfiltered_df, pair, dk, **kwargs)
        finally:
            self._training_closes = None

    def training_closes(self, dates: pd.Series | None) -> npt.NDArray[np.float64] | None:
        """The close of each training row (by its date), for the ``ppo`` member only."""
        if dates is None or self._training_closes is None:
            return None
        if not any(m.name == "ppo" for m in self.swing.ensemble.members):
            return None
        stamps = pd.to_datetime(pd.Series(dates), utc=True)
        closes: npt.NDArray[np.float64] = self._training_closes.reindex(stamps).to_numpy(
            dtype=np.float64
        )
        return closes

    def fit(self, data_dictionary: dict[str, Any], dk: FreqaiDataKitchen, **kwargs: Any) -> Any:
        data, dates = self.training_set(data_dictionary, dk)
        settings = self.swing.ensemble
        ensemble = train_ensemble(
            data,
            dates,
            settings.members,
            {m.name: self.booster_parameters(m.name) for m in settings.members},
            self.swing.model,
            folds=settings.folds,
            purge_candles=self.swing.purge_candles,
            embargo_candles=self.swing.embargo_candles,
            candle_seconds=self.candle_seconds,
            calibration=settings.calibration,
            optuna_settings=settings.optuna,
            closes=self.training_closes(dates),
        )
        ensemble.save_members(Path(dk.data_path), dk.model_filename)
        logger.info(
            "%s: ensemble trained in %.1f s, weights %s, validation skill %+.4f.",
            dk.pair,
            ensemble.training_seconds,
            {name: round(weight, 3) for name, weight in ensemble.weights.items()},
            ensemble.validation_skill,
        )
        record_importances(dk, ensemble)
        record_label_settings(dk, self.swing.labels, str(self.config["timeframe"]))
        return ensemble

    def predict(
        self, unfiltered_df: DataFrame, dk: FreqaiDataKitchen, **kwargs: Any
    ) -> tuple[DataFrame, npt.NDArray[np.int_]]:
        ensemble: SwingEnsemble = self.model
        try:
            if not ensemble.loaded:
                ensemble.load_members(Path(dk.data_path))
        except EnsembleMemberError as error:
            logger.error("%s: no prediction: %s", dk.pair, error)
            return self.withheld_prediction(unfiltered_df, dk)
        for name, weight in ensemble.weights.items():
            dk.data["extra_returns_per_train"][f"ensemble_weight_{name}"] = weight
        return super().predict(unfiltered_df, dk, **kwargs)

    @staticmethod
    def withheld_prediction(
        unfiltered_df: DataFrame, dk: FreqaiDataKitchen
    ) -> tuple[DataFrame, npt.NDArray[np.int_]]:
        """NaN probabilities and ``do_predict`` 0 for every row: the strategy cannot trade."""
        rows = len(unfiltered_df)
        columns = [*dk.label_list, *CLASS_ORDER]
        prediction = DataFrame(np.nan, index=range(rows), columns=columns)
        dk.DI_values = np.zeros(rows)
        dk.do_predict = np.zeros(rows, dtype=np.int_)
        return prediction, dk.do_predict
