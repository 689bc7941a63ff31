"""FreqAI's model folders: ``models/<identifier>/sub-train-<COIN>_<trained at>/`` and
``models/<identifier>/backtesting_predictions/``.

A model version is FreqAI's own name for a trained model: the identifier and the training
timestamp (the end of its training data). Each sub-train folder holds the metadata (feature
list, extra returns such as ``validation_skill``), the training dates and, where FreqAI saved
it, the model itself, from which the feature importances are read.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from freqai_swing.labels import CLASS_ORDER
from freqai_swing.warehouse.errors import WarehouseInputError
from freqai_swing.warehouse.label_settings import label_columns
from freqai_swing.warehouse.schema import model_version_name

logger = logging.getLogger(__name__)

_SUB_TRAIN = re.compile(r"^sub-train-(?P<coin>.+)_(?P<stamp>\d+)$")
_PREDICTION = re.compile(r"^cb_(?P<coin>.+)_(?P<stamp>\d+)_prediction\.feather$")


@dataclass(frozen=True)
class ModelFolder:
    """One identifier's folder and what it says about every pair and version."""

    path: Path
    identifier: str
    train_period_days: float | None
    #: The label columns (:func:`~.label_settings.label_columns`) of ``run_params.json``.
    labels: dict[str, Any]
    coin_to_pair: dict[str, str]
    #: The candle period the models were trained on (``run_params.json``), if recorded.
    timeframe: str | None = None

    def pair_of(self, coin: str) -> str:
        return self.coin_to_pair.get(coin.upper(), f"{coin.upper()}/?")


def find_model_folders(models_dir: Path) -> list[ModelFolder]:
    """Every identifier folder under ``user_data/models``."""
    if not models_dir.is_dir():
        raise WarehouseInputError(models_dir, "FreqAI models folder does not exist")
    folders = []
    for path in sorted(p for p in models_dir.iterdir() if p.is_dir()):
        params = _json(path / "run_params.json") if (path / "run_params.json").exists() else {}
        pairs = (
            _json(path / "pair_dictionary.json") if (path / "pair_dictionary.json").exists() else {}
        )
        stake = params.get("stake_currency")
        coin_to_pair = {
            pair.split("/")[0].upper(): pair for pair in [*params.get("pairs", []), *pairs]
        }
        if stake:
            for sub in path.glob("sub-train-*"):
                match = _SUB_TRAIN.match(sub.name)
                if match:
                    coin_to_pair.setdefault(
                        match["coin"].upper(), f"{match['coin'].upper()}/{stake}"
                    )
        freqai = params.get("freqai", {})
        identifier = freqai.get("identifier") or path.name
        folders.append(
            ModelFolder(
                path,
                identifier,
                freqai.get("train_period_days"),
                label_columns(params),
                coin_to_pair,
                params.get("timeframe"),
            )
        )
    return folders


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise WarehouseInputError(path, f"unreadable JSON ({error})") from None
    if not isinstance(data, dict):
        raise WarehouseInputError(path, "expected a JSON object")
    return data


def sub_train_folders(folder: ModelFolder) -> list[Path]:
    return sorted(p for p in folder.path.glob("sub-train-*") if _SUB_TRAIN.match(p.name))


def prediction_files(folder: ModelFolder) -> list[Path]:
    directory = folder.path / "backtesting_predictions"
    return sorted(p for p in directory.glob("*.feather") if _PREDICTION.match(p.name))


def _recorded_labels(recorded: Any) -> dict[str, Any]:
    """The label columns and timeframe a window recorded at training (newer models do: see
    ``record_label_settings``); nothing for an older window, which keeps its folder's."""
    if not isinstance(recorded, dict):
        return {}
    settings = dict(recorded)
    timeframe = settings.pop("timeframe", None)
    columns = label_columns({"swing": {"labels": settings}})
    return {**columns, **({"timeframe": timeframe} if timeframe else {})}


def _metadata_value(value: Any) -> Any:
    """FreqAI writes some metadata values as Python reprs; read lists and dicts back."""
    if isinstance(value, str) and value[:1] in "[{":
        import ast

        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def read_sub_train(folder: ModelFolder, sub_train: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """One model version of one pair: its ``model_versions`` row and its ``features`` rows."""
    match = _SUB_TRAIN.match(sub_train.name)
    assert match is not None
    stamp = int(match["stamp"])
    trained_at = pd.Timestamp(stamp, unit="s")
    pair = folder.pair_of(match["coin"])
    metadata_files = list(sub_train.glob("*_metadata.json"))
    if not metadata_files:
        raise WarehouseInputError(sub_train, "model folder has no *_metadata.json")
    metadata = {key: _metadata_value(v) for key, v in _json(metadata_files[0]).items()}
    feature_names = list(metadata.get("training_features_list") or [])
    extras = metadata.get("extra_returns_per_train") or {}
    skill = extras.get("validation_skill") if isinstance(extras, dict) else None
    train_start, train_end = _training_window(folder, sub_train, trained_at)
    importances = _importances(sub_train, feature_names, metadata.get("feature_importances"))
    version = {
        "identifier": folder.identifier,
        "pair": pair,
        "trained_at": trained_at,
        "model_version": model_version_name(folder.identifier, stamp),
        "freqaimodel": None,
        "train_start": train_start,
        "train_end": train_end,
        "feature_count": len(feature_names),
        "validation_skill": None if skill is None or pd.isna(skill) else float(skill),
        **folder.labels,
        "folder": str(sub_train),
        "timeframe": folder.timeframe,
        **_recorded_labels(metadata.get("label_settings")),
    }
    features = pd.DataFrame(
        {
            "identifier": folder.identifier,
            "pair": pair,
            "trained_at": trained_at,
            "feature": feature_names,
            "position": np.arange(len(feature_names), dtype=np.int32),
            "importance": importances,
        }
    )
    return version, features


def _training_window(
    folder: ModelFolder, sub_train: Path, trained_at: pd.Timestamp
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The dates FreqAI trained on (``*_trained_dates_df.pkl``), else the configured window."""
    dates_files = list(sub_train.glob("*_trained_dates_df.pkl"))
    if dates_files:
        try:
            dates = pd.read_pickle(dates_files[0])  # noqa: S301 - FreqAI's own file
            if isinstance(dates, pd.DataFrame):
                dates = dates["date"] if "date" in dates else dates.iloc[:, 0]
            column = dates
            column = pd.to_datetime(column, utc=True).dt.tz_localize(None)
            return column.min(), column.max()
        except Exception as error:  # noqa: BLE001 - fall back to the configured window
            logger.warning(
                "%s: unreadable training dates (%s); using the config.", sub_train, error
            )
    if folder.train_period_days is None:
        return None, trained_at
    return trained_at - pd.Timedelta(days=float(folder.train_period_days)), trained_at


def _importances(sub_train: Path, feature_names: list[str], recorded: Any = None) -> np.ndarray:
    """Per-feature importances of the saved model, else those the bundle's models record in
    the metadata at training time; NaN where there are neither (another FreqAI model)."""
    empty = np.full(len(feature_names), np.nan)
    model_files = list(sub_train.glob("*_model.joblib"))
    if not model_files:
        if not isinstance(recorded, dict):
            return empty
        return np.array([float(recorded.get(name, np.nan)) for name in feature_names])
    import joblib

    try:
        model = joblib.load(model_files[0])  # noqa: S301 - FreqAI's own file, as FreqAI loads it
    except ImportError:
        raise
    except Exception as error:  # noqa: BLE001 - a corrupt model file is bad input, like a
        # corrupt prediction file: named, and nothing written
        raise WarehouseInputError(
            model_files[0], f"corrupt or unreadable model file ({_first_line(error)}); {_FIX}"
        ) from None
    try:
        values = np.asarray(model.feature_importances_, dtype=np.float64)
    except (AttributeError, TypeError, ValueError) as error:  # a model without importances
        logger.warning("%s: no feature importances (%s).", model_files[0], error)
        return empty
    return values if len(values) == len(feature_names) else empty


#: How to get rid of a corrupt file in FreqAI's model folder (FreqAI writes it again).
_FIX = "remove it (or its sub-train folder), or run `make clean-models`, and rerun the backtest"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def historic_predictions_file(folder: ModelFolder) -> Path | None:
    """A dry-run or live bot's ``historic_predictions.pkl`` (FreqAI's own record), if any."""
    path = folder.path / "historic_predictions.pkl"
    return path if path.is_file() else None


def read_historic_predictions(folder: ModelFolder, path: Path, after: str | None) -> pd.DataFrame:
    """A bot's predictions per pair after ``after`` (ISO, UTC); the model is matched later.

    FreqAI zero-fills the candles a bot was down for; those rows keep ``do_predict`` 0.
    """
    try:
        with path.open("rb") as stream:
            history = pickle.load(stream)  # noqa: S301 - FreqAI's own file, as FreqAI loads it
    except Exception as error:  # noqa: BLE001 - any unreadable file is named
        raise WarehouseInputError(path, f"unreadable historic predictions ({error})") from None
    if not isinstance(history, dict):
        raise WarehouseInputError(path, "historic predictions are not a per-pair dictionary")
    frames = []
    for pair, frame in history.items():
        if "date_pred" not in frame:
            raise WarehouseInputError(path, f"{pair}: no 'date_pred' column")
        dates = pd.to_datetime(frame["date_pred"], utc=True).dt.tz_localize(None)
        keep = dates > pd.Timestamp(after) if after else np.ones(len(frame), dtype=bool)
        frames.append(_prediction_frame(folder.identifier, pair, dates[keep], frame[keep], pd.NaT))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _prediction_frame(
    identifier: str, pair: str, dates: pd.Series, frame: pd.DataFrame, trained_at: Any
) -> pd.DataFrame:
    label = next((column for column in frame.columns if str(column).startswith("&")), None)
    out = pd.DataFrame(
        {
            "identifier": identifier,
            "pair": pair,
            "date": dates.to_numpy(),
            "trained_at": trained_at,
            "predicted_class": frame[label].astype("string").to_numpy() if label else None,
        }
    )
    for name in CLASS_ORDER:
        out[f"p_{name}"] = frame[name].astype("float64").to_numpy() if name in frame else np.nan
    for column in ("do_predict", "validation_skill"):
        out[column] = frame[column].astype("float64").to_numpy() if column in frame else np.nan
    return out


def read_predictions(folder: ModelFolder, path: Path) -> pd.DataFrame:
    """One backtest window's predictions of one pair, tagged with its model version."""
    match = _PREDICTION.match(path.name)
    assert match is not None
    try:
        frame = pd.read_feather(path)
    except Exception as error:  # noqa: BLE001 - any unreadable file is named
        raise WarehouseInputError(
            path, f"corrupt or unreadable prediction file ({_first_line(error)}); {_FIX}"
        ) from None
    if "date" not in frame:
        raise WarehouseInputError(path, "prediction file has no 'date' column")
    dates = pd.to_datetime(frame["date"], utc=True).dt.tz_localize(None)
    trained_at = pd.Timestamp(int(match["stamp"]), unit="s")
    return _prediction_frame(
        folder.identifier, folder.pair_of(match["coin"]), dates, frame, trained_at
    )
