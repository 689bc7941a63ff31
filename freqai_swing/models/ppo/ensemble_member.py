"""The PPO agent of :mod:`freqai_swing.models.ppo` as an ensemble member: its action, a vote.

The agent is ``SwingPPO``'s (the same environment, the bundle's 7-action
:class:`~freqai_swing.models.ppo.environment.SwingTradingEnv`, the same PPO settings, seeding and
device choice), trained over the ensemble's own features (rescaled on its training rows, see
:class:`MinMaxScaling`) and the candles' closes, but only on the rows it is given: a fold's
purged training rows for its out-of-fold votes, the whole window for the final member. Where
those rows are not contiguous (the rows before and after a validation fold), the closes are
stitched so that the step across the gap has no price move: the agent never sees a price of the
fold it will vote on.

The vote: the agent is shown each row's feature window with a *probe* account (half invested at
cost, ``probe_exposure``) and its deterministic action becomes a class, buying → ``up``, selling
→ ``down``, holding → ``flat``. From a flat account ``sell`` and ``hold`` change nothing and earn
the same reward, so the agent's choice between them says nothing; from a half position every
action is a real bet on the next candles, and the vote depends on the features only, so it is the
same in backtesting, live (one new row per candle) and after a reload. The one-hot vote is
smoothed (``vote_smoothing`` of the mass spread evenly) so that a wrong vote is a finite loss for
the meta-learner and the member's own out-of-fold log loss is meaningful.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from freqai_swing.labels import CLASS_ORDER
from freqai_swing.settings import ModelSettings

# declared with the other settings; imported from here by the ensemble as before
from freqai_swing.settings.ppo import PPOMemberSettings as PPOMemberSettings
from freqai_swing.settings.ppo import ppo_member_settings as ppo_member_settings

if TYPE_CHECKING:
    from stable_baselines3 import PPO

    from freqai_swing.models.common.classifier import TrainingSet

logger = logging.getLogger(__name__)

FloatMatrix = npt.NDArray[np.float64]

#: Action index (``SwingActions``) -> class voted: buys expect a rise, sells a fall.
ACTION_CLASS: Final[dict[int, str]] = {
    0: "flat",  # hold
    1: "up",  # buy_small
    2: "up",  # buy_medium
    3: "up",  # buy_large
    4: "down",  # sell_small
    5: "down",  # sell_medium
    6: "down",  # sell_all
}


def stitched_closes(closes: npt.ArrayLike, rows: npt.NDArray[np.int64]) -> FloatMatrix:
    """The closes of ``rows`` with no price move across a gap between non-adjacent rows.

    The environment reads only ``close[t] / close[t - 1]``; rescaling each contiguous run of
    rows keeps every ratio inside a run and makes the ratio across a gap exactly 1, so the
    prices of the skipped rows (a validation fold and its purge and embargo) never enter.
    """
    values = np.asarray(closes, dtype=np.float64)[rows]
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError("The PPO member needs finite, positive closes for its training rows.")
    ratios = np.ones(len(values))
    ratios[1:] = values[1:] / values[:-1]
    ratios[1:][np.diff(rows) != 1] = 1.0
    stitched: npt.NDArray[np.float64] = values[0] * np.cumprod(ratios)
    return stitched


@dataclass(frozen=True)
class MinMaxScaling:
    """Each feature mapped to [-1, 1] over the agent's own training rows.

    FreqAI scales the window's features on all of its rows, fold rows included. Trees do not
    care, but a network does: rescaling on the agent's training rows (an affine map of an
    affine map) gives exactly the scaling a fit on those rows alone would, so a fold's extremes
    never reach the agent that votes on it.
    """

    low: npt.NDArray[np.float64]
    span: npt.NDArray[np.float64]

    @classmethod
    def fit(cls, features: pd.DataFrame | FloatMatrix) -> MinMaxScaling:
        array = np.nan_to_num(np.asarray(features, dtype=np.float64))
        low = array.min(axis=0)
        span = array.max(axis=0) - low
        span[span == 0] = 1.0
        return cls(low, span)

    def transform(self, features: pd.DataFrame | FloatMatrix) -> FloatMatrix:
        array = np.nan_to_num(np.asarray(features, dtype=np.float64))
        return 2.0 * (array - self.low) / self.span - 1.0


def _environment_config(settings: PPOMemberSettings) -> dict[str, Any]:
    """The slice of a Freqtrade config that the environment reads."""
    return {
        "stake_amount": "unlimited",
        "fee": settings.fee,
        "freqai": {
            "rl_config": {
                "model_type": "PPO",
                "max_training_drawdown_pct": 0.8,
                "model_reward_parameters": dict(settings.reward),
            }
        },
    }


@dataclass
class PPOVoteMember:
    """A trained agent and the rule that turns its action into a class probability row."""

    agent: PPO
    settings: PPOMemberSettings
    scaling: MinMaxScaling
    device: str
    best_iteration: int = 0
    validation_skill: float | None = None
    classes_: npt.NDArray[np.str_] = field(default_factory=lambda: np.array(CLASS_ORDER))

    def observations(self, features: pd.DataFrame | FloatMatrix) -> npt.NDArray[np.float32]:
        """One observation per row that has ``window - 1`` rows before it in ``features``."""
        from freqai_swing.models.ppo.environment import STATE_FEATURES, feature_array

        array = feature_array(self.scaling.transform(features))
        window = self.settings.window
        if len(array) < window:
            return np.empty((0, window * array.shape[1] + len(STATE_FEATURES)), np.float32)
        windows = np.lib.stride_tricks.sliding_window_view(array, window, axis=0)
        # sliding_window_view puts the window last: rows x features x window -> rows x window x f
        flat = windows.transpose(0, 2, 1).reshape(len(windows), -1)
        state = np.array([self.settings.probe_exposure, 0.0, 1.0], dtype=np.float32)
        return np.hstack([flat, np.broadcast_to(state, (len(flat), len(state)))])

    def actions(self, features: pd.DataFrame | FloatMatrix) -> npt.NDArray[np.int64]:
        """The agent's deterministic action per row; -1 where the window is not full yet."""
        result = np.full(len(features), -1, dtype=np.int64)
        observations = self.observations(features)
        if len(observations):
            chosen, _ = self.agent.predict(observations, deterministic=True)
            result[self.settings.window - 1 :] = np.asarray(chosen, dtype=np.int64).reshape(-1)
        return result

    def predict_proba(self, features: pd.DataFrame | FloatMatrix) -> FloatMatrix:
        """The smoothed vote; rows without a full window get the even vote (no opinion)."""
        classes = len(CLASS_ORDER)
        smoothing = self.settings.vote_smoothing
        result = np.full((len(features), classes), 1.0 / classes)
        actions = self.actions(features)
        voted = actions >= 0
        index = np.array([CLASS_ORDER.index(ACTION_CLASS[a]) for a in actions[voted]], np.int64)
        votes = np.full((len(index), classes), smoothing / classes)
        votes[np.arange(len(index)), index] += 1.0 - smoothing
        result[voted] = votes
        return result

    @property
    def feature_importances_(self) -> FloatMatrix:
        """No gains to report: the agent adds nothing to the ensemble's feature importances."""
        return np.zeros(len(self.scaling.low))

    def save(self, path: Path) -> None:
        self.agent.save(str(path))


def train_ppo_member(
    data: TrainingSet,
    closes: npt.ArrayLike,
    settings: PPOMemberSettings,
    model: ModelSettings,
) -> PPOVoteMember:
    """An agent trained on ``data.split``'s rows (fit and validation rows together) only."""
    from freqai_swing.models.ppo.agent import build_ppo, ppo_parameters
    from freqai_swing.models.ppo.environment import SwingTradingEnv

    rows = np.union1d(data.split.fit_rows, data.split.validation_rows).astype(np.int64)
    if len(rows) <= settings.window:
        raise ValueError(f"The PPO member needs more than {settings.window} training rows.")
    raw = data.features.iloc[rows].reset_index(drop=True)
    scaling = MinMaxScaling.fit(raw)
    features = pd.DataFrame(scaling.transform(raw), columns=raw.columns)
    prices = pd.DataFrame({"close": stitched_closes(closes, rows)})
    seed = model.seed if settings.seed is None else settings.seed
    environment = SwingTradingEnv(
        df=features,
        prices=prices,
        reward_kwargs=asdict(settings.reward_parameters()),
        window_size=settings.window,
        config=_environment_config(settings),
        df_raw=features,
        seed=seed,
        fee=settings.fee,
    )
    agent = build_ppo(
        environment,
        ppo_parameters(settings.ppo),
        seed=seed,
        device=settings.device or model.device,
    )
    agent.learn(total_timesteps=settings.total_timesteps)
    return PPOVoteMember(agent, settings, scaling, str(agent.device.type))


def load_ppo_member(
    path: Path, settings: PPOMemberSettings, scaling: MinMaxScaling, device: str
) -> PPOVoteMember:
    """The saved agent on the device resolved now (a CUDA-trained agent reloads on a CPU box)."""
    from stable_baselines3 import PPO

    from freqai_swing.models.common.device import resolve_device

    used = resolve_device(settings.device or device, "SwingEnsemble ppo member")
    agent = PPO.load(str(path), device=used)
    return PPOVoteMember(agent, settings, scaling, used)
