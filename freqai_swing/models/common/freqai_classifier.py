"""The FreqAI side of the swing classifiers: one ``fit`` for every gradient-boosting core.

``freqaimodels/SwingXGBoostClassifier.py`` and ``SwingLightGBMClassifier.py`` subclass
:class:`ClassifierFreqaiModel` and only name their trainer; FreqAI's resolver needs each class
defined in its own file there, so everything else lives here once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.freqai.base_models.BaseClassifierModel import BaseClassifierModel
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from freqtrade.strategy import IStrategy
from pandas import DataFrame, to_datetime

from freqai_swing.models.common.cached_windows import discard_corrupt_windows
from freqai_swing.models.common.classifier import (
    ClassifierCore,
    TrainingSet,
    encode_labels,
    purged_validation_split,
)
from freqai_swing.settings import LabelConfig, ModelSettings, load_swing_settings

logger = logging.getLogger(__name__)

Trainer = Callable[[TrainingSet, dict[str, Any], ModelSettings], ClassifierCore]


def record_label_settings(dk: FreqaiDataKitchen, labels: LabelConfig, timeframe: str) -> None:
    """Keep the label settings and candle timeframe the window was trained on in its metadata,
    so the warehouse and the report score a dry-run or live model against the labels it
    learned (a backtest's config records them too; a bot's models folder does not)."""
    dk.data["label_settings"] = {**asdict(labels), "timeframe": timeframe}


def record_importances(dk: FreqaiDataKitchen, model: Any) -> None:
    """Keep the model's feature importances in the window's metadata (``*_metadata.json``).

    FreqAI writes the metadata of every window, but the model itself only when it keeps models
    (``save_backtest_models``; the demo does not): the export reads the importances from here
    when there is no model file.
    """
    try:
        importances = np.asarray(model.feature_importances_, dtype=np.float64)
        recorded = dict(zip(model.feature_names, importances.tolist(), strict=True))
    except (AttributeError, TypeError, ValueError) as error:  # never fail a trained window
        logger.warning("%s: feature importances not recorded (%s).", dk.pair, error)
        return
    dk.data["feature_importances"] = recorded


class ClassifierFreqaiModel(BaseClassifierModel):
    """FreqAI classifier over a fixed-class booster, early-stopped on a purged validation slice.

    ``model_training_parameters`` holds one block per booster (``{"xgboost": {...},
    "lightgbm": {...}}``) so the same config serves both models; each block overrides the
    seed's defaults of that booster.
    """

    booster_name: ClassVar[str]
    trainer: ClassVar[Trainer]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.swing = load_swing_settings(self.config)
        if self.config.get("runmode") in (RunMode.BACKTEST, RunMode.HYPEROPT):
            discard_corrupt_windows(self.full_path)

    def start_live(
        self,
        dataframe: DataFrame,
        metadata: dict[str, Any],
        strategy: IStrategy,
        dk: FreqaiDataKitchen,
    ) -> FreqaiDataKitchen:
        """FreqAI's live round, on history whose dates share the live candles' time zone.

        History read from feather files is stamped ``pytz.UTC`` while the candles freqtrade
        fetches are ``datetime.timezone.utc``; FreqAI appends the latter to the former, which
        pandas turns into an ``object`` column, and every retraining then fails (seen in a
        replayed dry run). Converting the history first keeps the appended column datetime.
        """
        uniform_utc_dates(self.dd.historic_data)
        return super().start_live(dataframe, metadata, strategy, dk)

    def booster_parameters(self, name: str | None = None) -> dict[str, Any]:
        """A booster's block of ``model_training_parameters`` (empty = the seed's defaults)."""
        name = name or self.booster_name
        block = self.model_training_parameters.get(name, {})
        if not isinstance(block, dict):
            raise ValueError(f"freqai.model_training_parameters.{name} must be an object")
        return dict(block)

    def training_set(
        self, data_dictionary: dict[str, Any], dk: FreqaiDataKitchen
    ) -> tuple[TrainingSet, pd.Series | None]:
        """The window's rows, labels and weights, the purged early-stopping split, the dates.

        Dates are ``None`` when FreqAI's outlier removal dropped rows without dropping their
        dates; purging then falls back to rows.
        """
        dk.data.pop("feature_importances", None)  # the last window's, should this one fail
        features = data_dictionary["train_features"]
        labels = encode_labels(data_dictionary["train_labels"].iloc[:, 0])
        weights = np.asarray(data_dictionary["train_weights"], dtype=np.float64)
        dates = getattr(dk, "train_dates", None)
        if dates is not None and len(dates) != len(features):
            logger.info("%s: rows were removed as outliers; purging by rows, not time.", dk.pair)
            dates = None
        split = purged_validation_split(
            dates,
            self.swing.model.validation_fraction,
            self.swing.purge_candles,
            self.candle_seconds,
            len(features),
        )
        return TrainingSet(features, labels, weights, split), dates

    @property
    def candle_seconds(self) -> int:
        seconds: int = timeframe_to_seconds(self.config["timeframe"])
        return seconds

    def fit(self, data_dictionary: dict[str, Any], dk: FreqaiDataKitchen, **kwargs: Any) -> Any:
        """Train on the window's rows minus a purged validation tail used for early stopping."""
        data, _ = self.training_set(data_dictionary, dk)
        model = type(self).trainer(data, self.booster_parameters(), self.swing.model)
        logger.info(
            "%s: %s fitted on %d rows, validated on %d (purge %d candles), %d rounds, %s, "
            "validation skill %s.",
            dk.pair,
            self.booster_name,
            len(data.split.fit_rows),
            len(data.split.validation_rows),
            self.swing.purge_candles,
            model.best_iteration + 1,
            model.device,
            "n/a" if model.validation_skill is None else f"{model.validation_skill:+.4f}",
        )
        record_importances(dk, model)
        record_label_settings(dk, self.swing.labels, str(self.config["timeframe"]))
        return model

    def has_skill(self, model: Any) -> bool:
        """Whether this window's model may trade (see ``swing.model.min_validation_skill``)."""
        threshold = self.swing.model.min_validation_skill
        if threshold is None or model.validation_skill is None:
            return True
        skilled: bool = model.validation_skill > threshold
        return skilled

    def predict(
        self, unfiltered_df: DataFrame, dk: FreqaiDataKitchen, **kwargs: Any
    ) -> tuple[DataFrame, npt.NDArray[np.int_]]:
        """FreqAI's prediction, withheld (``do_predict`` 0) when the model showed no skill."""
        predictions, do_predict = super().predict(unfiltered_df, dk, **kwargs)
        skill = getattr(self.model, "validation_skill", None)
        dk.data["extra_returns_per_train"]["validation_skill"] = (
            float("nan") if skill is None else skill
        )
        if not self.has_skill(self.model):
            do_predict = np.zeros_like(do_predict)
            dk.do_predict = do_predict
        return predictions, do_predict


def uniform_utc_dates(history: dict[str, dict[str, DataFrame]]) -> None:
    """Give every frame's ``date`` column the ``datetime.timezone.utc`` zone, in place."""
    for frames in history.values():
        for frame in frames.values():
            dates = frame["date"]
            if dates.dtype == object or getattr(dates.dt, "tz", None) is not UTC:
                frame["date"] = to_datetime(dates, utc=True).dt.tz_convert(UTC)
