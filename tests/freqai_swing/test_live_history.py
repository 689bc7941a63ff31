"""FreqAI's live history stays datetime when live candles are appended (retraining works).

Feather history and freshly fetched candles carry different UTC zone objects; FreqAI appends
one to the other and pandas then makes an ``object`` column, which broke every retraining in a
replayed dry run. ``uniform_utc_dates`` (run before each live round) prevents it.
"""

from __future__ import annotations

import pandas as pd
from freqtrade.data.converter import ohlcv_to_dataframe
from freqtrade.data.history import load_pair_history

from freqai_swing.models.common.freqai_classifier import uniform_utc_dates
from tests.conftest import SAMPLE_DATADIR, load_candles


def test_history_and_live_candles_concatenate_as_datetimes() -> None:
    history = load_pair_history("ETH/USDT", "1h", SAMPLE_DATADIR, data_format="feather")
    history = history.iloc[:-5].reset_index(drop=True)
    recent = load_candles("ETH/USDT").iloc[-5:]
    rows = [
        [int(row.date.value // 1_000_000), row.open, row.high, row.low, row.close, row.volume]
        for row in recent.itertuples()
    ]
    live = ohlcv_to_dataframe(rows, "1h", "ETH/USDT", fill_missing=False, drop_incomplete=False)
    frames = {"ETH/USDT": {"1h": history}}
    uniform_utc_dates(frames)
    appended = pd.concat([frames["ETH/USDT"]["1h"], live], ignore_index=True)
    assert isinstance(appended["date"].dtype, pd.DatetimeTZDtype)
    assert appended["date"].dt.hour.iloc[-1] == recent["date"].dt.hour.iloc[-1]
    assert appended["date"].is_monotonic_increasing
