"""Shared by every model family; imports none of them (like stable-baselines3's ``common/``)."""
