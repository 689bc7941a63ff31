"""FreqAI reinforcement learning: PPO on the 7-action swing environment.

Run with ``--freqaimodel SwingPPO`` and ``-c config/rl.json``; the logic lives in
:mod:`freqai_swing.models.ppo`.
"""

from freqai_swing.models.ppo.freqai_model import PPOFreqaiModel


class SwingPPO(PPOFreqaiModel):
    """The seed's PPO agent (see ``docs/rl.md``)."""
