"""FreqAI reinforcement learning: PPO on the 7-action swing environment.

Run with ``--freqaimodel SwingPPO`` and ``-c config/rl.json``; the logic lives in
:mod:`freqai_swing.rl`.
"""

from freqai_swing.rl.model import SwingPPOModel


class SwingPPO(SwingPPOModel):
    """The seed's PPO agent (see ``docs/rl.md``)."""
