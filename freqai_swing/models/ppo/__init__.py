"""Reinforcement learning: the 7-action swing environment, the PPO agent and its FreqAI model."""
