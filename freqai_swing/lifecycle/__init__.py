"""The self-training lifecycle: model registry, champion/challenger promotion, rollback."""
