"""Reinforcement learning: the 7-action swing environment and the PPO agent."""
