"""Corrupt files in FreqAI's model folder, found before FreqAI reads them.

A backtest reuses each walk-forward window's stored predictions
(``backtesting_predictions/<model>_prediction.feather``) and, where there are none but a saved
model (``save_backtest_models``), that model (``sub-train-<COIN>_<ts>/<model>_model.joblib``
and its pipelines). FreqAI reads them with no ``try``: a truncated file ends the backtest with
"Fatal exception!" and a traceback that names no file. The bundle's models check them first;
an unreadable one is removed with one warning that names it, and FreqAI trains that window
again, as if it had never been cached.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

PREDICTIONS_FOLDER = "backtesting_predictions"
_ADVICE = "`make clean-models` removes every cached model and prediction"


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _unreadable_prediction(path: Path) -> str | None:
    import pyarrow.feather as feather

    try:
        feather.read_table(path)
    except Exception as error:  # noqa: BLE001 - any unreadable file is named, whatever the cause
        return _reason(error)
    return None


def _unreadable_model_file(path: Path) -> str | None:
    """Load a model file the way FreqAI does; the reason when it cannot be loaded."""
    import cloudpickle

    try:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        else:
            with path.open("rb") as stream:
                cloudpickle.load(stream)  # noqa: S301 - FreqAI's own file, as FreqAI loads it
    except (ImportError, MemoryError):
        raise
    except Exception as error:  # noqa: BLE001 - any unreadable file is named, whatever the cause
        return _reason(error)
    return None


def _model_files(sub_train: Path) -> list[Path]:
    """The files FreqAI's ``load_data`` reads for a saved model (none: nothing saved)."""
    models = sorted(sub_train.glob("*_model.joblib"))
    if not models:
        return []
    stem = models[0].name.removesuffix("_model.joblib")
    names = (f"{stem}_metadata.json", f"{stem}_feature_pipeline.pkl", f"{stem}_label_pipeline.pkl")
    return [*models, *(sub_train / name for name in names if (sub_train / name).is_file())]


def discard_corrupt_windows(models_path: Path) -> list[Path]:
    """Remove the unreadable cached predictions and saved models of a backtest's model folder.

    A saved model is read only for a window without stored predictions, so only those are
    loaded here (a model takes far longer to load than a prediction file). Returns what was
    removed; each removal is logged as one warning naming the file.
    """
    removed: list[Path] = []
    predictions = models_path / PREDICTIONS_FOLDER
    for path in sorted(predictions.glob("*_prediction.feather")):
        reason = _unreadable_prediction(path)
        if reason is not None:
            logger.warning(
                "Corrupt cached prediction file %s (%s): removed; FreqAI trains that window "
                "again (%s).",
                path,
                reason,
                _ADVICE,
            )
            path.unlink()
            removed.append(path)
    for sub_train in sorted(models_path.glob("sub-train-*")):
        files = _model_files(sub_train)
        if not files:
            continue
        stem = files[0].name.removesuffix("_model.joblib")
        if (predictions / f"{stem}_prediction.feather").is_file():
            continue
        for path in files:
            reason = _unreadable_model_file(path)
            if reason is not None:
                logger.warning(
                    "Corrupt saved model file %s (%s): removed its folder %s; FreqAI trains "
                    "that window again (%s).",
                    path,
                    reason,
                    sub_train.name,
                    _ADVICE,
                )
                shutil.rmtree(sub_train)
                removed.append(path)
                break
    return removed
