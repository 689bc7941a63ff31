"""The one drawdown of the bundle: an equity curve's loss from its running peak."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class DrawdownCurve:
    """An equity curve's running peak and, point by point, its loss from that peak.

    Attributes:
        equity: the curve, as given.
        peak: the highest equity up to each point (NaN points are skipped, as pandas'
            ``cummax`` skips them).
        drawdown: ``(peak − equity) / peak`` at each point, a share of the peak (0 at a new
            high; NaN where the equity is NaN).
    """

    equity: npt.NDArray[np.float64]
    peak: npt.NDArray[np.float64]
    drawdown: npt.NDArray[np.float64]

    @property
    def largest(self) -> float:
        """The largest drawdown of the curve (NaN points skipped; NaN when there is none)."""
        known = self.drawdown[~np.isnan(self.drawdown)]
        return float(known.max()) if len(known) else math.nan

    @property
    def current(self) -> float:
        """The drawdown at the curve's last point."""
        return float(self.drawdown[-1])


def drawdown_curve(equity: npt.ArrayLike) -> DrawdownCurve:
    """The one drawdown of the bundle: each point's loss from the running peak of ``equity``.

    The risk rules, the operator messages, the evaluation figures and the rollback rule all
    read their drawdowns from here. ``(peak − equity) / peak`` rather than
    ``1 − equity / peak``: the difference of two nearby equities is exact, so a fall to
    exactly a threshold (9 500 from 10 000 against 5 %) compares equal to it.
    """
    values = np.asarray(equity, dtype=np.float64)
    peak = np.fmax.accumulate(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        drawdown = (peak - values) / peak
    return DrawdownCurve(values, peak, drawdown)
