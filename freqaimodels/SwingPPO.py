"""FreqAI reinforcement learning: PPO on the 7-action swing environment (``--freqaimodel SwingPPO``)."""

from freqai_swing.rl.model import SwingPPOModel


class SwingPPO(SwingPPOModel):
    """The seed's PPO agent; the logic lives in :mod:`freqai_swing.rl`."""
