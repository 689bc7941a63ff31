"""Trade a PPO agent's partial entries and exits.

Run with ``--strategy SwingRLStrategy --freqaimodel SwingPPO`` and ``-c config/base.json
-c config/freqai.json -c config/rl.json``. The action-to-order
mapping lives in :mod:`freqai_swing.models.ppo.strategy`; this file holds the risk limits a user
tunes.
"""

from freqai_swing.models.ppo.strategy import SwingRLStrategyBase


class SwingRLStrategy(SwingRLStrategyBase):
    """Long-only spot; stop loss and ROI apply on top of the agent's own exits."""

    minimal_roi = {"0": 0.2}
    stoploss = -0.08
    trailing_stop = False
