# The bot image: Freqtrade's own FreqAI-RL image of the release the bundle pins (see
# pyproject.toml), plus the bundle's core package and commands. Strategies, FreqAI models and
# configs are mounted from the checkout by docker-compose.yml.
ARG FREQTRADE_TAG=2026.9_freqairl
FROM freqtradeorg/freqtrade:${FREQTRADE_TAG}

COPY --chown=ftuser:ftuser pyproject.toml README.md /tmp/freqai-swing/
COPY --chown=ftuser:ftuser freqai_swing /tmp/freqai-swing/freqai_swing
COPY --chown=ftuser:ftuser tooling /tmp/freqai-swing/tooling
# The image already holds freqtrade with FreqAI-RL (torch, stable-baselines3), TA-Lib, XGBoost
# and LightGBM: install the bundle without touching them, then the few extras it adds.
RUN pip install --user --no-cache-dir --no-deps /tmp/freqai-swing \
    && pip install --user --no-cache-dir "libfaketime==3.0.1" "duckdb>=1.1" "optuna>=4.0" "rich>=13"
