"""Score a FreqAI backtest: its out-of-sample probabilities against the realised labels, and
its trading figures, side by side for several models.

Usage::

    python -m tooling.score_predictions USERDIR [USERDIR ...] [--datadir DIR] [--json OUT]

Each ``USERDIR`` is the ``--userdir`` of one finished ``freqtrade backtesting`` run of the
bundle. The probabilities are those FreqAI stored per walk-forward window
(``models/<identifier>/backtesting_predictions``): each was made by a model trained only on
earlier candles, so the scores are out of sample. Labels are recomputed from the candles with
the bundle's own triple-barrier function and settings.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from freqai_swing.labels import CLASS_ORDER, LabelConfig, triple_barrier_labels
from freqai_swing.metrics import classification_metrics
from freqai_swing.models.common.classifier import encode_labels
from freqai_swing.settings import load_swing_settings
from tooling.offline import DEFAULT_DATADIR, REPO_ROOT

_PREDICTION_FILE = re.compile(r"cb_(?P<coin>[a-z0-9]+)_(?P<stamp>\d+)_prediction\.feather")


def labelled_predictions(
    userdir: Path, datadir: Path, labels: LabelConfig, quote: str = "USDT"
) -> pd.DataFrame:
    """Every stored prediction row with ``do_predict`` and its realised label, NaN-free."""
    files = sorted(userdir.glob("models/*/backtesting_predictions/*_prediction.feather"))
    if not files:
        raise FileNotFoundError(f"No FreqAI backtest predictions under {userdir / 'models'}")
    frames: dict[str, list[pd.DataFrame]] = {}
    for path in files:
        match = _PREDICTION_FILE.fullmatch(path.name)
        if match is None:
            continue
        frames.setdefault(match["coin"].upper(), []).append(pd.read_feather(path))
    rows = []
    for coin, parts in frames.items():
        candles = pd.read_feather(datadir / f"{coin}_{quote}-1h.feather")
        realised = pd.DataFrame(
            {"date": candles["date"], "label": triple_barrier_labels(candles, labels)}
        )
        predictions = pd.concat(parts).drop_duplicates("date", keep="last")
        joined = predictions.merge(realised, on="date", how="inner").dropna(
            subset=["label", *CLASS_ORDER]
        )
        rows.append(joined.assign(pair=f"{coin}/{quote}"))
    return pd.concat(rows, ignore_index=True)


def backtest_figures(userdir: Path) -> dict[str, float]:
    """Sharpe, Calmar, drawdown, return and trade count of the run's latest result."""
    from freqtrade.data.btanalysis import load_backtest_stats

    stats = load_backtest_stats(userdir / "backtest_results")
    (strategy,) = stats["strategy"].values()
    return {
        "sharpe": float(strategy["sharpe"]),
        "calmar": float(strategy["calmar"]),
        "max_drawdown": float(strategy["max_drawdown_account"]),
        "total_return": float(strategy["profit_total"]),
        "trades": int(strategy["total_trades"]),
    }


def score(userdir: Path, datadir: Path, labels: LabelConfig) -> dict[str, Any]:
    joined = labelled_predictions(userdir, datadir, labels)
    probabilities = joined[list(CLASS_ORDER)].to_numpy(dtype=np.float64)
    truth = encode_labels(joined["label"])
    return {
        "rows": len(joined),
        **classification_metrics(probabilities, truth),
        **backtest_figures(userdir),
    }


def markdown(results: dict[str, dict[str, Any]]) -> str:
    columns = ["rows", "log_loss", "brier", "balanced_accuracy", "sharpe", "calmar"]
    columns += ["max_drawdown", "total_return", "trades"]
    lines = ["| run | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, figures in results.items():
        cells = [
            f"{figures[c]:.4f}" if isinstance(figures[c], float) else str(figures[c])
            for c in columns
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("userdirs", nargs="+", type=Path)
    parser.add_argument("--datadir", type=Path, default=DEFAULT_DATADIR)
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "config" / "freqai.json")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    labels = load_swing_settings(json.loads(args.config.read_text())).labels
    results = {path.name: score(path, args.datadir, labels) for path in args.userdirs}
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
