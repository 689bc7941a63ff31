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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from freqai_swing.labels import CLASS_ORDER
from freqai_swing.warehouse.errors import WarehouseInputError
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
    labels: dict[str, Any]
    coin_to_pair: dict[str, str]

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
                params.get("swing", {}).get("labels", {}),
                coin_to_pair,
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
    importances = _importances(sub_train, feature_names)
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
        "label_horizon_candles": folder.labels.get("horizon_candles"),
        "label_barrier_pct": folder.labels.get("barrier_pct"),
        "label_barrier_mode": folder.labels.get("barrier_mode"),
        "folder": str(sub_train),
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


def _importances(sub_train: Path, feature_names: list[str]) -> np.ndarray:
    """Per-feature importances of the saved model, NaN where FreqAI saved no model."""
    empty = np.full(len(feature_names), np.nan)
    model_files = list(sub_train.glob("*_model.joblib"))
    if not model_files:
        return empty
    try:
        import joblib

        model = joblib.load(model_files[0])  # noqa: S301 - FreqAI's own file, as FreqAI loads it
        values = np.asarray(model.feature_importances_, dtype=np.float64)
    except Exception as error:  # noqa: BLE001 - importances are optional; say why they are missing
        logger.warning("%s: no feature importances (%s).", model_files[0], error)
        return empty
    return values if len(values) == len(feature_names) else empty


def read_predictions(folder: ModelFolder, path: Path) -> pd.DataFrame:
    """One backtest window's predictions of one pair, tagged with its model version."""
    match = _PREDICTION.match(path.name)
    assert match is not None
    try:
        frame = pd.read_feather(path)
    except Exception as error:  # noqa: BLE001 - any unreadable file is named
        raise WarehouseInputError(path, f"unreadable prediction file ({error})") from None
    if "date" not in frame:
        raise WarehouseInputError(path, "prediction file has no 'date' column")
    label = next((column for column in frame.columns if column.startswith("&")), None)
    out = pd.DataFrame(
        {
            "identifier": folder.identifier,
            "pair": folder.pair_of(match["coin"]),
            "date": pd.to_datetime(frame["date"], utc=True).dt.tz_localize(None),
            "trained_at": pd.Timestamp(int(match["stamp"]), unit="s"),
            "predicted_class": frame[label].astype("string") if label else None,
        }
    )
    for name in CLASS_ORDER:
        out[f"p_{name}"] = frame[name].astype("float64") if name in frame else np.nan
    out["do_predict"] = frame["do_predict"] if "do_predict" in frame else np.nan
    out["validation_skill"] = frame["validation_skill"] if "validation_skill" in frame else np.nan
    return out
